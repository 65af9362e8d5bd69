/**
 * The native data path's JavaScript hub (docs/decisions/0017-native-data-path.md).
 *
 * Owns: the one set of callbacks the addon calls, and routing each to the client connection or
 * target link it concerns (by the addon's ids); which compiled listeners the native path can
 * serve. Each callback is guarded: a bug costs the connection, never the process.
 */
import type { CompiledAction, CompiledListener } from '../config/compile.js';
import { nativeAddon, type NativeAddon, type NativeCallbacks, type NativeUpError } from './addon.js';
import type { NativeClientConnection } from './native-connection.js';
import { upErrorKind, type NativeUpstreamLink } from './native-pool.js';

/** The header list an exchange gets when it does not read the target's fields (never written to). */
const NO_FIELDS: string[] = [];

export class NativeEngine {
  readonly addon: NativeAddon;
  readonly clients: Map<number, NativeClientConnection>;
  readonly ups: Map<number, NativeUpstreamLink>;
  /** Reports an error thrown by a callback (the listener's logger). */
  onError: (err: unknown) => void;

  constructor(addon: NativeAddon) {
    this.addon = addon;
    this.clients = new Map();
    this.ups = new Map();
    this.onError = () => {};
    const cb: NativeCallbacks = {
      onHead: (cid, method, target, minor, raw, contentLength, keepAlive, bodyComplete) => {
        const c = this.clients.get(cid);
        if (c === undefined) return false;
        try {
          return c.onHead(method, target, minor, raw, contentLength, keepAlive, bodyComplete);
        } catch (err) {
          this.#fault(err, c);
          return true;
        }
      },
      onHandover: (cid, fd, pending) => {
        const c = this.clients.get(cid);
        this.clients.delete(cid);
        if (c === undefined) return;
        try {
          c.onHandover(fd, pending);
        } catch (err) {
          this.onError(err);
        }
      },
      onClientClose: (cid, reason, bodyOut) => {
        const c = this.clients.get(cid);
        this.clients.delete(cid);
        if (c === undefined) return;
        try {
          c.onClose(reason, bodyOut);
        } catch (err) {
          this.onError(err);
        }
      },
      onBodyDone: (cid) => this.#client(cid, (c) => c.onBodyDone()),
      onBodyTimeout: (cid) => this.#client(cid, (c) => c.onBodyTimeout()),
      onUpConnect: (uid) => this.#up(uid, (u) => u.handler.onUpstreamReady(u)),
      onUpHead: (uid, status, contentLength, transferEncoding, whole) => {
        const u = this.ups.get(uid);
        if (u === undefined) return;
        try {
          // The addon has refused what checkResponseHead refuses (→ 502 through onUpError), and
          // builds the client's head itself: JavaScript gets the framing facts, and the fields
          // only when the exchange reads them (stickiness).
          u.responseContentLength = contentLength;
          u.responseChunked = transferEncoding;
          const raw = u.handler.needsResponseFields === true ? this.addon.upHeadFields(uid) : NO_FIELDS;
          u.handler.onResponseHead(status, '', raw, 1, true, false);
          // A response that was whole (a small body, or none) left with its head: done now,
          // as onUpDone would do it (one call into JavaScript per response instead of two).
          if (whole && !u.dead && this.addon.wholeSent()) u.handler.onResponseComplete(null);
        } catch (err) {
          this.#fault(err, u.client);
        }
      },
      onUpDone: (uid) => this.#up(uid, (u) => u.handler.onResponseComplete(null)),
      onUpError: (uid, kind, stale, replayable) => this.#up(uid, (u) => u.fail(upErrorKind(kind as NativeUpError), stale, replayable)),
    };

    addon.init([cb.onHead, cb.onHandover, cb.onClientClose, cb.onBodyDone, cb.onBodyTimeout, cb.onUpConnect, cb.onUpHead, cb.onUpDone, cb.onUpError]);
  }

  #client(cid: number, f: (c: NativeClientConnection) => void): void {
    const c = this.clients.get(cid);
    if (c === undefined) return;
    try {
      f(c);
    } catch (err) {
      this.#fault(err, c);
    }
  }

  #up(uid: number, f: (u: NativeUpstreamLink) => void): void {
    const u = this.ups.get(uid);
    if (u === undefined) return;
    try {
      f(u);
    } catch (err) {
      this.#fault(err, u.client);
    }
  }

  #fault(err: unknown, c: NativeClientConnection): void {
    this.onError(err);
    c.destroy();
  }
}

let engine: NativeEngine | null | undefined;

/** The engine, or null when the addon is not available. */
export function nativeEngine(): NativeEngine | null {
  if (engine === undefined) {
    const addon = nativeAddon();
    engine = addon === null ? null : new NativeEngine(addon);
  }
  return engine;
}

const servable = new WeakMap<CompiledListener, boolean>();

/**
 * Whether the native path serves this listener's requests: plain HTTP, no protections (they
 * may need the request body in JavaScript), and every action a local reply or a forward to
 * plain HTTP/1.1 target groups. Anything else stays on the TypeScript path.
 */
export function nativeServes(l: CompiledListener): boolean {
  let ok = servable.get(l);
  if (ok === undefined) {
    ok = l.protocol === 'HTTP' && l.protection === null && l.ruleProtection === null && actionServable(l.defaultAction);
    if (ok) ok = l.matcher.rules.every((r) => actionServable(r.action));
    servable.set(l, ok);
  }
  return ok;
}

function actionServable(a: CompiledAction): boolean {
  if (a.kind !== 'forward') return true;
  return a.groups.every((g) => g.spec.protocol === 'HTTP' && g.spec.protocolVersion === 'HTTP1');
}
