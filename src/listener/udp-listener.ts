/**
 * A UDP listener (Layer 4): datagrams from each client address and port (a *flow*) are relayed
 * to one target of the forward action's target groups, and the target's replies are sent back
 * to that client from the listener's socket.
 *
 * Owns: the listening socket, the flow table (one connected dgram socket per flow, so the kernel
 * filters replies to the flow's target), the flow limit (`maxFlows`: datagrams that would open
 * another flow are dropped and counted), and flow expiry by one sweeping timer (a flow with no
 * datagram either way for `idleTimeoutSeconds` is closed; expiry is checked every
 * min(1 s, idle/4), never per datagram). A flow counts as one request on its target
 * (`requestStarted`/`requestEnded`), so least-outstanding balancing and draining see it; the
 * sweep closes flows whose target was removed after its deregistration delay. Datagrams are
 * never parsed, never retried (UDP is lossy by contract) and never queued without bound.
 * Never throws from a socket callback; every socket has an `error` listener.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CompiledListener } from '../config/compile.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import type { Target } from '../targets/target.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { chooseTargetGroup } from '../actions/choose-target-group.js';
import type { Listener } from './listener.js';
import type { ListenerHooks } from './http-listener.js';

/** Datagrams held for a flow whose socket is still connecting (DNS lookup, bind). */
const MAX_PENDING_DATAGRAMS = 64;
/** A socket with this many sends queued in libuv is overloaded: further datagrams are dropped. */
const MAX_SEND_QUEUE = 1024;
/** At most one "flow limit reached" warning per this many ms. */
const WARN_EVERY_MS = 10_000;

/** Counters since the listener started (tests, metrics). */
export interface UdpListenerStats {
  flowsOpened: number;
  flowsExpired: number;
  /** Datagrams dropped because `maxFlows` flows were open. */
  droppedFlowLimit: number;
  /** Datagrams dropped because the chosen group had no registered target. */
  droppedNoTarget: number;
  /** Datagrams dropped because a socket's send queue (or a connecting flow's queue) was full. */
  droppedOverload: number;
  /** Datagrams that would open a flow while the listener was closing. */
  droppedClosing: number;
}

interface Flow {
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly group: TargetGroupRuntime;
  readonly target: Target;
  readonly socket: dgram.Socket;
  lastActiveMs: number;
  /** Datagrams that arrived before the flow's socket was connected; null once connected. */
  pending: Buffer[] | null;
  /** The last datagram came from the client and no reply has come since (shutdown waits). */
  awaitingReply: boolean;
  closed: boolean;
}

export class UdpListener implements Listener {
  listener: CompiledListener;
  readonly stats: UdpListenerStats;
  readonly #log: Logger;
  readonly #hooks: ListenerHooks;
  readonly #flows: Map<string, Flow>;
  #socket: dgram.Socket | null;
  #bound: boolean;
  #idleTimeoutMs: number;
  #maxFlows: number;
  #sweepTimer: NodeJS.Timeout | null;
  #closing: boolean;
  #finishing: boolean;
  #closeDeadline: NodeJS.Timeout | null;
  #onClosed: (() => void) | null;
  #lastWarnMs: number;

  constructor(listener: CompiledListener, log: Logger, hooks: ListenerHooks = {}) {
    this.listener = listener;
    this.stats = { flowsOpened: 0, flowsExpired: 0, droppedFlowLimit: 0, droppedNoTarget: 0, droppedOverload: 0, droppedClosing: 0 };
    this.#log = log;
    this.#hooks = hooks;
    this.#flows = new Map();
    this.#socket = null;
    this.#bound = false;
    this.#idleTimeoutMs = 0;
    this.#maxFlows = 0;
    this.#sweepTimer = null;
    this.#closing = false;
    this.#finishing = false;
    this.#closeDeadline = null;
    this.#onClosed = null;
    this.#lastWarnMs = -Infinity;
    this.#configure(listener);
  }

  get name(): string {
    return this.listener.name;
  }

  get port(): number {
    if (this.#bound && this.#socket !== null) return this.#socket.address().port;
    return this.listener.port;
  }

  /** Live flows. */
  get connectionCount(): number {
    return this.#flows.size;
  }

  listen(): Promise<void> {
    const host = this.listener.host;
    const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#socket = null;
        try {
          socket.close();
        } catch {
          // A failed bind may already have closed it.
        }
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ address: host, port: this.listener.port }, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.#log.error({ err, listener: this.listener.name }, 'listener error'));
        socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo.address, rinfo.port));
        this.#bound = true;
        this.#restartSweep();
        resolve();
      });
    });
  }

  update(next: CompiledListener): void {
    this.listener = next;
    this.#configure(next);
    if (this.#sweepTimer !== null) this.#restartSweep();
  }

  /**
   * Opens no more flows and closes the flows that are not waiting for a reply (the UDP
   * counterpart of an idle keep-alive connection). A flow whose client datagram is still
   * unanswered stays until its reply is relayed, it expires (idle), or `graceMs` passes; then
   * the socket is closed. Resolves when it is.
   */
  close(graceMs: number): Promise<void> {
    if (this.#closing) return new Promise((resolve) => this.#whenClosed(resolve));
    this.#closing = true;
    return new Promise((resolve) => {
      this.#onClosed = resolve;
      for (const flow of this.#flows.values()) if (!flow.awaitingReply) this.#closeFlow(flow);
      if (this.#flows.size === 0) {
        this.#finishClose();
        return;
      }
      this.#closeDeadline = setTimeout(() => this.#finishClose(), graceMs);
      this.#closeDeadline.unref();
    });
  }

  #whenClosed(resolve: () => void): void {
    if (this.#onClosed === null) {
      resolve();
      return;
    }
    const prev = this.#onClosed;
    this.#onClosed = () => {
      prev();
      resolve();
    };
  }

  #configure(l: CompiledListener): void {
    this.#idleTimeoutMs = (l.resolved.idleTimeoutSeconds ?? DEFAULTS.layer4.udpIdleTimeoutSeconds) * 1000;
    this.#maxFlows = l.resolved.maxFlows ?? DEFAULTS.layer4.maxFlows;
  }

  #restartSweep(): void {
    if (this.#sweepTimer !== null) clearInterval(this.#sweepTimer);
    const every = Math.max(10, Math.min(1000, this.#idleTimeoutMs / 4));
    this.#sweepTimer = setInterval(() => this.#sweep(), every);
    this.#sweepTimer.unref();
  }

  // ---- datagrams ------------------------------------------------------------------------------

  #onDatagram(msg: Buffer, address: string, port: number): void {
    const key = `${address} ${port}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      flow = this.#openFlow(key, address, port);
      if (flow === undefined) return;
    }
    flow.lastActiveMs = performance.now();
    flow.awaitingReply = true;
    if (flow.pending !== null) {
      if (flow.pending.length < MAX_PENDING_DATAGRAMS) flow.pending.push(msg);
      else this.stats.droppedOverload++;
      return;
    }
    this.#send(flow.socket, msg, flow);
  }

  #openFlow(key: string, address: string, port: number): Flow | undefined {
    if (this.#closing) {
      this.stats.droppedClosing++;
      return undefined;
    }
    if (this.#flows.size >= this.#maxFlows) {
      this.stats.droppedFlowLimit++;
      const now = performance.now();
      if (now - this.#lastWarnMs >= WARN_EVERY_MS) {
        this.#lastWarnMs = now;
        this.#log.warn({ listener: this.listener.name, maxFlows: this.#maxFlows }, `udp listener ${this.listener.name}: ${this.#maxFlows} flows open, dropping datagrams of new flows`);
      }
      return undefined;
    }
    const action = this.listener.defaultAction;
    // Validation allows only a forward on UDP listeners.
    if (action.kind !== 'forward') return undefined;
    const group = chooseTargetGroup(action);
    // The client address is the hash key: the only `hashOn` a UDP group may have is sourceIp.
    const target = group.pick(null, address);
    if (target === undefined) {
      this.stats.droppedNoTarget++;
      return undefined;
    }
    let socket: dgram.Socket;
    try {
      socket = dgram.createSocket({ type: isIPv6(target.host) ? 'udp6' : 'udp4' });
    } catch (err) {
      // Out of file descriptors, typically: this datagram is lost, the process lives on.
      this.#log.warn({ err, listener: this.listener.name }, 'udp flow socket could not be created');
      this.stats.droppedOverload++;
      return undefined;
    }
    const flow: Flow = {
      key,
      clientAddress: address,
      clientPort: port,
      group,
      target,
      socket,
      lastActiveMs: performance.now(),
      pending: [],
      awaitingReply: false,
      closed: false,
    };
    group.requestStarted(target);
    this.#flows.set(key, flow);
    this.stats.flowsOpened++;
    this.#hooks.onConnection?.(this.listener.name, 1);
    socket.on('error', (err) => this.#onFlowError(flow, err));
    socket.on('message', (reply) => this.#onReply(flow, reply));
    socket.connect(target.port, target.host, () => {
      const pending = flow.pending;
      flow.pending = null;
      if (flow.closed || pending === null) return;
      for (let i = 0; i < pending.length; i++) this.#send(socket, pending[i]!, flow);
    });
    return flow;
  }

  #onReply(flow: Flow, reply: Buffer): void {
    if (flow.closed) return;
    flow.lastActiveMs = performance.now();
    flow.awaitingReply = false;
    const socket = this.#socket;
    if (socket === null) return;
    if (socket.getSendQueueCount() >= MAX_SEND_QUEUE) {
      this.stats.droppedOverload++;
      if (this.#closing) this.#closeFlow(flow);
    } else if (this.#closing) {
      // The flow got its answer: close it once the reply has left (closing the listener's
      // socket earlier would cancel the send).
      socket.send(reply, flow.clientPort, flow.clientAddress, () => this.#closeFlow(flow));
    } else {
      socket.send(reply, flow.clientPort, flow.clientAddress);
    }
  }

  #send(socket: dgram.Socket, msg: Buffer, flow: Flow): void {
    if (flow.closed) return;
    if (socket.getSendQueueCount() >= MAX_SEND_QUEUE) {
      this.stats.droppedOverload++;
      return;
    }
    socket.send(msg);
  }

  #onFlowError(flow: Flow, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    this.#log.debug({ listener: this.listener.name, target: flow.target.id, code }, 'udp flow error');
    // ICMP port unreachable on a connected socket: nothing listens on the target's port.
    if (code === 'ECONNREFUSED') flow.group.ejectPassively(flow.target, 'target refused datagrams (passive)');
    this.#closeFlow(flow);
  }

  #closeFlow(flow: Flow): void {
    if (flow.closed) return;
    flow.closed = true;
    flow.pending = null;
    if (this.#flows.get(flow.key) === flow) this.#flows.delete(flow.key);
    try {
      flow.socket.close();
    } catch {
      // Already closed (an error can close it first); nothing else to release.
    }
    flow.group.requestEnded(flow.target);
    this.#hooks.onConnection?.(this.listener.name, -1);
    if (this.#closing && !this.#finishing && this.#flows.size === 0) this.#finishClose();
  }

  /** Closes idle flows and flows whose target was removed. One pass over the table. */
  #sweep(): void {
    const idleBefore = performance.now() - this.#idleTimeoutMs;
    for (const flow of this.#flows.values()) {
      if (flow.lastActiveMs <= idleBefore) {
        this.stats.flowsExpired++;
        this.#closeFlow(flow);
      } else if (flow.target.removed) {
        this.#closeFlow(flow);
      }
    }
  }

  #finishClose(): void {
    if (this.#finishing) return;
    this.#finishing = true;
    if (this.#closeDeadline !== null) clearTimeout(this.#closeDeadline);
    this.#closeDeadline = null;
    if (this.#sweepTimer !== null) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    for (const flow of this.#flows.values()) this.#closeFlow(flow);
    const socket = this.#socket;
    this.#socket = null;
    this.#bound = false;
    const done = this.#onClosed;
    this.#onClosed = null;
    if (socket === null) {
      done?.();
      return;
    }
    socket.close(() => done?.());
  }
}
