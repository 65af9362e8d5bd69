/**
 * A target's connections on the native data path: the native counterpart of UpstreamPool's
 * HTTP/1.1 connections, for exchanges whose client is a NativeClientConnection.
 *
 * Owns: the JavaScript side of target connections the addon holds — taking an idle one or
 * connecting (after a DNS lookup when the target is a name), the link an Exchange talks to, and
 * releasing or destroying it. The bytes (request body, response) never pass through here.
 */
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import type { RequestHeadContext } from '../proxy/headers.js';
import { buildRequestHead } from '../proxy/headers.js';
import { ProxyErrors, type ProxyErrorKind } from '../proxy/errors.js';
import { MAX_IDLE_PER_TARGET, type UpstreamFlow, type UpstreamHandler, type UpstreamLink } from '../proxy/upstream-pool.js';
import type { NativeClientConnection } from './native-connection.js';
import { nativeEngine } from './engine.js';
import { NativeUpError } from './addon.js';

/** Exchanges pause and resume the target socket for body backpressure: the addon does it here. */
const NO_FLOW: UpstreamFlow = Object.freeze({
  cork(): void {},
  uncork(): void {},
  pause(): void {},
  resume(): void {},
  once(): void {},
});

let nextPoolId = 1;

export class NativeTargetPool {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly #timeout: () => number;
  readonly active: Set<NativeUpstreamLink>;
  idle: number;

  constructor(host: string, port: number, connectTimeoutMs: () => number) {
    this.id = nextPoolId++;
    this.host = host;
    this.port = port;
    this.#timeout = connectTimeoutMs;
    this.active = new Set();
    this.idle = 0;
  }

  acquire(handler: UpstreamHandler, client: NativeClientConnection, forceNew: boolean): NativeUpstreamLink {
    const engine = nativeEngine()!;
    const link = new NativeUpstreamLink(this, handler, client);
    this.active.add(link);
    if (!forceNew) {
      const uid = engine.addon.upTakeIdle(this.id);
      if (uid !== 0) {
        this.idle = Math.max(0, this.idle - 1);
        link.id = uid;
        engine.ups.set(uid, link);
        handler.onUpstreamReady(link);
        return link;
      }
    }
    if (isIP(this.host) !== 0) this.#connect(link, this.host);
    else {
      lookup(this.host, (err, address) => {
        if (link.dead) return;
        if (err !== null) link.fail(ProxyErrors.CONNECT_FAILED, false, true);
        else this.#connect(link, address);
      });
    }
    return link;
  }

  #connect(link: NativeUpstreamLink, ip: string): void {
    const engine = nativeEngine()!;
    const uid = engine.addon.upConnect(this.id, ip, this.port, this.#timeout());
    if (uid === 0) {
      queueMicrotask(() => link.fail(ProxyErrors.CONNECT_FAILED, false, true));
      return;
    }
    link.id = uid;
    engine.ups.set(uid, link);
  }

  release(link: NativeUpstreamLink): void {
    this.active.delete(link);
    const engine = nativeEngine()!;
    engine.ups.delete(link.id);
    link.dead = true;
    if (engine.addon.upRelease(link.id, MAX_IDLE_PER_TARGET)) this.idle++;
  }

  destroyAll(kind: ProxyErrorKind): void {
    this.closeIdle();
    for (const link of [...this.active]) {
      link.destroy();
      link.handler.onUpstreamError(kind, null, false);
    }
  }

  closeIdle(): void {
    nativeEngine()?.addon.closePool(this.id);
    this.idle = 0;
  }
}

export class NativeUpstreamLink implements UpstreamLink {
  readonly http2 = false;
  readonly pool: NativeTargetPool;
  readonly socket = NO_FLOW;
  readonly handler: UpstreamHandler;
  readonly client: NativeClientConnection;
  /** The addon's connection id; 0 while connecting through a DNS lookup. */
  id: number;
  /** Released, destroyed or failed: nothing more happens on it. */
  dead: boolean;
  /** The addon decides reuse itself (it parsed the response's framing and Connection). */
  readonly keepAlive = true;
  expectNoBody: boolean;
  /** The target's response framing (headers.ts responseFraming), set with each response head. */
  responseContentLength: number;
  responseChunked: boolean;

  constructor(pool: NativeTargetPool, handler: UpstreamHandler, client: NativeClientConnection) {
    this.pool = pool;
    this.handler = handler;
    this.client = client;
    this.id = 0;
    this.dead = false;
    this.expectNoBody = false;
    this.responseContentLength = -1;
    this.responseChunked = false;
  }

  sendHead(c: RequestHeadContext): void {
    this.client.up = this;
    nativeEngine()!.addon.forward(this.client.id, this.id, buildRequestHead(c).head, this.expectNoBody);
  }

  /** Request bodies are relayed by the addon; an exchange never has a chunk to write here. */
  writeBody(): boolean {
    return true;
  }

  endBody(): void {}

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.pool.active.delete(this);
    const engine = nativeEngine()!;
    if (this.id !== 0) {
      engine.ups.delete(this.id);
      engine.addon.upDestroy(this.id);
    }
  }

  /** The addon closed it (or it never connected): the exchange decides what follows. */
  fail(kind: ProxyErrorKind, stale: boolean, replayable: boolean): void {
    if (this.dead) return;
    this.dead = true;
    this.pool.active.delete(this);
    if (this.id !== 0) nativeEngine()!.ups.delete(this.id);
    this.handler.onUpstreamError(kind, null, stale, replayable);
  }
}

/** The ProxyErrors kind of a failure the addon reports. */
export function upErrorKind(kind: NativeUpError): ProxyErrorKind {
  switch (kind) {
    case NativeUpError.BAD_RESPONSE:
      return ProxyErrors.BAD_RESPONSE;
    case NativeUpError.CONNECT_REFUSED:
      return ProxyErrors.CONNECT_REFUSED;
    case NativeUpError.CONNECT_FAILED:
      return ProxyErrors.CONNECT_FAILED;
    case NativeUpError.CONNECT_TIMEOUT:
      return ProxyErrors.CONNECT_TIMEOUT;
    default:
      return ProxyErrors.RESET;
  }
}
