/**
 * A TCP listener (Layer 4): accepts connections and relays each one's bytes to a target of the
 * forward action's target groups (see `tcp-relay.ts` for one connection).
 *
 * Owns: binding and unbinding, the set of open relays (connection count, graceful shutdown),
 * and swapping in a new compiled listener on reload (each connection keeps the one current
 * when it was accepted). Accepted sockets start paused (`pauseOnConnect`), so nothing is read
 * from a client before its target connection is up: the kernel's buffers hold it meanwhile.
 * Never parses the bytes it relays.
 */
import net from 'node:net';
import type { CompiledListener } from '../config/compile.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import { boundPort, listenOn, type Listener } from './listener.js';
import type { ListenerHooks } from './http-listener.js';
import { TcpRelay, type TcpRelayOwner } from './tcp-relay.js';

export class TcpListener implements Listener, TcpRelayOwner {
  listener: CompiledListener;
  draining: boolean;
  readonly server: net.Server;
  readonly relays: Set<TcpRelay>;
  readonly log: Logger;
  readonly #hooks: ListenerHooks;
  #idleTimeoutMs: number;

  constructor(listener: CompiledListener, log: Logger, hooks: ListenerHooks = {}) {
    this.listener = listener;
    this.draining = false;
    this.relays = new Set();
    this.log = log;
    this.#hooks = hooks;
    this.#idleTimeoutMs = idleTimeoutMsOf(listener);
    this.server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (socket) => this.#onConnection(socket));
    this.server.on('error', (err) => this.log.error({ err, listener: listener.name }, 'listener error'));
  }

  get name(): string {
    return this.listener.name;
  }

  get port(): number {
    return boundPort(this.server, this.listener.port);
  }

  get connectionCount(): number {
    return this.relays.size;
  }

  async listen(): Promise<void> {
    await listenOn(this.server, this.listener.host, this.listener.port);
  }

  update(next: CompiledListener): void {
    this.listener = next;
    this.#idleTimeoutMs = idleTimeoutMsOf(next);
  }

  /**
   * Stops accepting; open connections carry on (a byte stream has no request boundary at which
   * to stop it politely) until they end or `graceMs` passes, when the rest are destroyed.
   */
  close(graceMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const deadline = setTimeout(() => {
        for (const r of this.relays) r.destroy('shutdown');
      }, graceMs);
      deadline.unref();
      // The callback runs once every accepted socket has closed.
      this.server.close(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  }

  #onConnection(socket: net.Socket): void {
    const action = this.listener.defaultAction;
    if (this.draining || action.kind !== 'forward') {
      // Validation allows only a forward on TCP listeners; anything else is refused, not hung.
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    const relay = new TcpRelay(socket, action, this.#idleTimeoutMs, this);
    this.relays.add(relay);
    this.#hooks.onConnection?.(this.listener.name, 1);
  }

  onRelayClosed(relay: TcpRelay): void {
    if (this.relays.delete(relay)) this.#hooks.onConnection?.(this.listener.name, -1);
  }
}

function idleTimeoutMsOf(l: CompiledListener): number {
  // Resolved for every TCP listener; the fallback only guards a hand-built CompiledListener.
  return (l.resolved.idleTimeoutSeconds ?? DEFAULTS.layer4.tcpIdleTimeoutSeconds) * 1000;
}
