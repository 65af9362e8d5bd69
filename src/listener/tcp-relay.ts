/**
 * One client connection of a TCP listener and its connection to a target: target choice,
 * connect (retried once elsewhere when it fails), the optional PROXY protocol header, then bytes
 * relayed both ways until both sides are done.
 *
 * Owns: the two sockets and their teardown. Backpressure is `pipe()`'s (a side whose `write()`
 * returns false pauses the other until `drain`); half-close is honoured (a FIN from one side is
 * passed on as a FIN and the other direction keeps flowing: both sockets are `allowHalfOpen`);
 * an error or abnormal close of either side destroys both. The connection counts as one request
 * on its target (`requestStarted`/`requestEnded`), so least-outstanding balancing and draining
 * see it, and the target's socket sits in `target.tunnels`, which the group destroys when a
 * deregistered target's delay runs out. Never throws; every socket has an `error` listener.
 */
import net from 'node:net';
import type { CompiledForward } from '../config/compile.js';
import type { ProxyProtocolMode } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { Target } from '../targets/target.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { chooseTargetGroup } from '../actions/choose-target-group.js';
import { encodeProxyHeader } from './proxy-protocol.js';

export interface TcpRelayOwner {
  readonly name: string;
  readonly log: Logger;
  /** Called once, when both sockets are closed. */
  onRelayClosed(relay: TcpRelay): void;
}

/** Why a relay ended before or instead of a normal close (for logs and tests). */
export type TcpRelayEnd =
  | ''
  | 'no target'
  | 'connect refused'
  | 'connect failed'
  | 'connect timeout'
  | 'client closed'
  | 'target closed'
  | 'idle timeout'
  | 'shutdown';

const CONNECTING = 0;
const OPEN = 1;
const DONE = 2;

export class TcpRelay {
  readonly client: net.Socket;
  /** The target this connection was relayed to ('' while connecting or when none). */
  targetId: string;
  /** Set when the relay was cut: why. Empty for a normal close. */
  endReason: TcpRelayEnd;
  readonly #owner: TcpRelayOwner;
  readonly #group: TargetGroupRuntime;
  readonly #idleTimeoutMs: number;
  readonly #clientAddress: string;
  readonly #clientPort: number;
  readonly #localAddress: string;
  readonly #localPort: number;
  #state: number;
  #upstream: net.Socket | null;
  #target: Target | null;
  /** True between requestStarted and requestEnded on #target. */
  #held: boolean;
  #excluded: Set<string> | null;
  #attempts: number;
  #connectTimer: NodeJS.Timeout | null;
  #clientClosed: boolean;
  #upstreamClosed: boolean;
  #finished: boolean;

  constructor(client: net.Socket, action: CompiledForward, idleTimeoutMs: number, owner: TcpRelayOwner) {
    this.client = client;
    this.targetId = '';
    this.endReason = '';
    this.#owner = owner;
    this.#group = chooseTargetGroup(action);
    this.#idleTimeoutMs = idleTimeoutMs;
    // Captured now: a socket forgets its addresses once closed.
    this.#clientAddress = client.remoteAddress ?? '';
    this.#clientPort = client.remotePort ?? 0;
    this.#localAddress = client.localAddress ?? '';
    this.#localPort = client.localPort ?? 0;
    this.#state = CONNECTING;
    this.#upstream = null;
    this.#target = null;
    this.#held = false;
    this.#excluded = null;
    this.#attempts = 0;
    this.#connectTimer = null;
    this.#clientClosed = false;
    this.#upstreamClosed = true;
    this.#finished = false;
    client.on('error', (err) => this.#onClientError(err));
    client.on('close', () => this.#onClientClose());
    this.#attempt();
  }

  /** Cuts both sides at once (shutdown deadline). */
  destroy(reason: TcpRelayEnd = 'shutdown'): void {
    this.#abort(reason);
  }

  // ---- connecting -----------------------------------------------------------------------------

  #attempt(): void {
    const group = this.#group;
    // The client address is the hash key: the only `hashOn` a TCP group may have is sourceIp.
    const target = group.pick(this.#excluded, this.#clientAddress);
    if (target === undefined) {
      this.#fail('no target');
      return;
    }
    this.#attempts++;
    this.#target = target;
    this.#held = true;
    group.requestStarted(target);
    const sock = net.connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    this.#upstream = sock;
    this.#upstreamClosed = false;
    target.tunnels.add(sock);
    this.#connectTimer = setTimeout(() => this.#onConnectFailure(sock, 'connect timeout', null), group.spec.connectTimeoutMs);
    sock.once('connect', () => this.#onConnect(sock));
    sock.on('error', (err) => {
      if (this.#state === CONNECTING) this.#onConnectFailure(sock, codeOf(err) === 'ECONNREFUSED' ? 'connect refused' : 'connect failed', err);
      else this.#onUpstreamError(sock, err);
    });
    sock.on('close', () => this.#onUpstreamClose(sock));
  }

  #onConnectFailure(sock: net.Socket, why: 'connect refused' | 'connect failed' | 'connect timeout', err: Error | null): void {
    if (this.#upstream !== sock || this.#state !== CONNECTING) return;
    const target = this.#target!;
    this.#clearConnectTimer();
    this.#releaseTarget(sock);
    sock.destroy();
    this.#owner.log.debug({ listener: this.#owner.name, target: target.id, code: err ? codeOf(err) : 'ETIMEDOUT' }, `tcp ${why}`);
    if (why !== 'connect timeout') this.#group.ejectPassively(target, `${why === 'connect refused' ? 'target refused the connection' : 'could not connect to target'} (passive)`);
    if (this.#clientClosed) {
      this.#finish();
      return;
    }
    // Nothing was sent yet, so another target may take the connection (once).
    if (this.#attempts < 2) {
      (this.#excluded ??= new Set()).add(target.id);
      this.#attempt();
      return;
    }
    this.#fail(why);
  }

  #onConnect(sock: net.Socket): void {
    if (this.#upstream !== sock || this.#state !== CONNECTING) return;
    this.#clearConnectTimer();
    this.#state = OPEN;
    this.targetId = this.#target!.id;
    if (this.#clientClosed) {
      sock.destroy();
      return;
    }
    const mode: ProxyProtocolMode = this.#group.spec.proxyProtocol;
    if (mode !== 'off') {
      sock.write(
        encodeProxyHeader(mode, {
          sourceAddress: this.#clientAddress,
          sourcePort: this.#clientPort,
          destinationAddress: this.#localAddress,
          destinationPort: this.#localPort,
        }),
      );
    }
    const client = this.client;
    client.on('timeout', () => this.#abort('idle timeout'));
    sock.on('timeout', () => this.#abort('idle timeout'));
    // Both: a side can stall while the other has finished (its timer is gone with it).
    client.setTimeout(this.#idleTimeoutMs);
    sock.setTimeout(this.#idleTimeoutMs);
    // pipe() pauses the source while the destination's buffer is full and ends the destination
    // (a FIN) when the source ends; the other direction keeps flowing.
    client.pipe(sock);
    sock.pipe(client);
  }

  /** No target could take the connection: reset the client (the nearest thing to a refusal). */
  #fail(why: TcpRelayEnd): void {
    this.endReason = why;
    this.#state = DONE;
    this.#owner.log.debug({ listener: this.#owner.name, client: this.#clientAddress, reason: why }, 'tcp connection not relayed');
    if (!this.#clientClosed) this.client.resetAndDestroy();
    this.#finish();
  }

  // ---- relaying -------------------------------------------------------------------------------

  #onClientError(err: Error): void {
    this.#owner.log.debug({ listener: this.#owner.name, client: this.#clientAddress, code: codeOf(err) }, 'tcp client error');
    this.#abort('client closed');
  }

  #onUpstreamError(sock: net.Socket, err: Error): void {
    if (this.#upstream !== sock) return;
    this.#owner.log.debug({ listener: this.#owner.name, target: this.targetId, code: codeOf(err) }, 'tcp target error');
    this.#abort('target closed');
  }

  #onClientClose(): void {
    this.#clientClosed = true;
    if (this.#state === CONNECTING) {
      // The client left while we were connecting: give the attempt up.
      const sock = this.#upstream;
      if (sock !== null) {
        this.#clearConnectTimer();
        this.#state = DONE;
        this.endReason = 'client closed';
        sock.destroy();
      }
    } else if (!closedCleanly(this.client)) {
      this.#abort('client closed');
    }
    this.#finish();
  }

  #onUpstreamClose(sock: net.Socket): void {
    if (this.#upstream !== sock) return;
    this.#upstreamClosed = true;
    this.#releaseTarget(sock);
    // Destroyed (draining deadline, reset) rather than ended and flushed: cut the client too.
    if (this.#state === OPEN && !closedCleanly(sock)) this.#abort('target closed');
    this.#finish();
  }

  #abort(reason: TcpRelayEnd): void {
    if (this.endReason === '') this.endReason = reason;
    if (this.#state === CONNECTING) this.#clearConnectTimer();
    this.#state = DONE;
    this.client.destroy();
    this.#upstream?.destroy();
  }

  /** Ends the connection's request on its target (once per attempt). */
  #releaseTarget(sock: net.Socket): void {
    const target = this.#target;
    if (!this.#held || target === null || this.#upstream !== sock) return;
    this.#held = false;
    target.tunnels.delete(sock);
    this.#group.requestEnded(target);
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }

  #finish(): void {
    if (this.#finished || !this.#clientClosed || !this.#upstreamClosed) return;
    this.#finished = true;
    this.#state = DONE;
    this.#owner.onRelayClosed(this);
  }
}

/** Both directions ended normally: the FIN was received and everything written was flushed. */
function closedCleanly(s: net.Socket): boolean {
  return s.readableEnded && s.writableFinished;
}

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}
