/**
 * One request forwarded to a target group: target choice, the request on the wire, the response
 * relayed back, retries (SPEC §4) and the errors of SPEC §5.
 *
 * Owns: sending the re-framed request head and streaming the body with backpressure, relaying
 * the response head and body with backpressure (re-chunking when the length is unknown),
 * the response timeout (504), the "not sent → retry once on another target" rule, replaying a
 * request on a fresh connection when a reused keep-alive connection turns out to be closed
 * (the idle-close race), passive health ejection on refused connections, and handing a 101
 * over to the WebSocket tunnel. Target stickiness wraps the pick and adds the response's
 * Set-Cookie (targets/stickiness/sticky-request.ts; only for sticky groups). It never buffers
 * a whole body: at most REPLAY_LIMIT bytes are kept for a replay, and only while nothing of
 * the response has arrived.
 */
import type { Downstream } from './downstream.js';
import type { BodySink, ClientRequest } from '../listener/client-request.js';
import type { CompiledForward } from '../config/compile.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import type { Target } from '../targets/target.js';
import type { UpstreamConnection, UpstreamHandler, UpstreamLink } from './upstream-pool.js';
import { ProxyErrors, type ProxyErrorKind } from './errors.js';
import { buildResponseHead } from './headers.js';
import { openTunnel } from './websocket.js';
import type { RequestView } from '../router/request-view.js';
import { StickyRequest } from '../targets/stickiness/sticky-request.js';
import { NativeClientConnection } from '../native/native-connection.js';

/** Request body bytes kept for a replay after a keep-alive race; beyond it, no replay. */
const REPLAY_LIMIT = 65536;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CRLF = '\r\n';

export interface ExchangeOptions {
  readonly path: string;
  readonly query: string;
  /** The request's hash key for a consistent_hash group; '' for every other algorithm. */
  readonly hashKey: string;
  readonly websocket: boolean;
  readonly listenerProto: 'http' | 'https';
  readonly listenerPort: string;
  /** Called when the exchange has an outcome worth counting (metrics hook). */
  readonly onTargetResponse: ((req: ClientRequest, group: TargetGroupRuntime, seconds: number) => void) | null;
  /** The request's matching view; target stickiness reads its cookies (only sticky groups do). */
  readonly view: RequestView;
}

export class Exchange implements UpstreamHandler, BodySink {
  readonly #conn: Downstream;
  readonly #req: ClientRequest;
  readonly #action: CompiledForward;
  readonly #opts: ExchangeOptions;
  #group: TargetGroupRuntime;
  #target: Target | null;
  /** An HTTP/1.1 connection, or an HTTP/2 stream for HTTP2/GRPC groups (h2-upstream.ts). */
  #upstream: UpstreamLink | null;
  #ready: boolean;
  #attempts: number;
  #excluded: Set<string> | null;
  /** Every body chunk received so far, while a replay is still possible. */
  #body: Buffer[] | null;
  #bodyLength: number;
  #bodySent: boolean;
  /** The client is paused until the target connection drains. */
  #awaitingDrain: boolean;
  #responseHead: boolean;
  #responseDone: boolean;
  #timer: NodeJS.Timeout | null;
  #done: boolean;
  #sentAtMs: number;
  /** The 101 head as relayed to the client (set by onResponseHead for upgrades). */
  #pendingUpgradeHead: string;
  /** Target stickiness of this request; created by the first pick, only for sticky groups. */
  #sticky: StickyRequest | null;

  constructor(conn: Downstream, req: ClientRequest, action: CompiledForward, group: TargetGroupRuntime, opts: ExchangeOptions) {
    this.#conn = conn;
    this.#req = req;
    this.#action = action;
    this.#opts = opts;
    this.#group = group;
    this.#target = null;
    this.#upstream = null;
    this.#ready = false;
    this.#attempts = 0;
    this.#excluded = null;
    this.#body = [];
    this.#bodyLength = 0;
    this.#bodySent = false;
    this.#awaitingDrain = false;
    this.#responseHead = false;
    this.#responseDone = false;
    this.#timer = null;
    this.#done = false;
    this.#sentAtMs = 0;
    this.#pendingUpgradeHead = '';
    this.#sticky = null;
  }

  /** The client's native connection when the addon holds it (its target connections are native too). */
  get nativeClient(): NativeClientConnection | null {
    const c = this.#conn;
    return c instanceof NativeClientConnection ? c : null;
  }

  /** Stickiness reads the response's Set-Cookie fields (StickyRequest.respond). */
  get needsResponseFields(): boolean {
    return this.#sticky !== null;
  }

  /** Picks a target and sends. Answers 503 itself when the group has no registered target. */
  start(): void {
    if (this.#group.registeredCount === 0) {
      this.#conn.replyError(this.#req, ProxyErrors.NO_TARGETS);
      this.#done = true;
      return;
    }
    this.#attempt(null);
  }

  #attempt(lastError: ProxyErrorKind | null): void {
    const target = this.#group.stickiness === null ? this.#group.pick(this.#excluded, this.#opts.hashKey) : this.#stickyPick();
    if (target === undefined) {
      this.#fail(lastError ?? ProxyErrors.NO_TARGETS);
      return;
    }
    this.#attempts++;
    this.#target = target;
    this.#req.target = target.id;
    this.#group.requestStarted(target);
    this.#ready = false;
    this.#bodySent = false;
    this.#upstream = target.pool.acquire(this);
  }

  // --- UpstreamHandler -------------------------------------------------------------------

  onUpstreamReady(conn: UpstreamLink): void {
    if (this.#done || this.#req.finished) {
      // The request ended (client gone, 413 on its body) while we were connecting: send
      // nothing; the unused connection goes back to the pool.
      this.#upstream = null;
      conn.pool.release(conn);
      this.#finish();
      return;
    }
    this.#upstream = conn;
    this.#ready = true;
    const req = this.#req;
    const target = this.#target!;
    const settings = req.listener.settings;
    conn.expectNoBody = req.method === 'HEAD';
    const now = performance.now();
    if (this.#req.dispatchMs === 0) this.#req.dispatchMs = now;
    this.#sentAtMs = now;
    // HTTP/1.1: the re-framed head, corked; HTTP/2: HEADERS on a new stream (h2-upstream.ts).
    conn.sendHead({
      method: req.method,
      target: this.#opts.query === '' ? this.#opts.path : this.#opts.path + '?' + this.#opts.query,
      rawHeaders: req.rawHeaders,
      clientIp: this.#conn.remoteAddress,
      listenerProto: this.#opts.listenerProto,
      listenerPort: this.#opts.listenerPort,
      xForwardedFor: settings.xForwardedFor,
      preserveHost: settings.preserveHostHeader,
      targetAuthority: target.id,
      rules: this.#action.headerRules,
      framing: req.chunked ? 'chunked' : req.contentLength >= 0 ? req.contentLength : null,
      websocket: this.#opts.websocket,
      extra: this.#conn.extraRequestHeaders,
      reserved: this.#conn.reservedRequestHeaders,
    });
    const resend = this.#body;
    if (resend !== null && resend.length > 0) {
      // A replay after the keep-alive race: resend what the client already gave us.
      for (let i = 0; i < resend.length; i++) this.#writeBody(resend[i]!);
    }
    // Chunks held while no target was ready, then the rest as it arrives.
    // A paused client (too much body held, or backpressure from a previous connection) resumes
    // once this connection has taken what was held, unless it pushes back in turn.
    const wasHeldBack = req.holdPaused || this.#awaitingDrain;
    this.#awaitingDrain = false;
    req.attach(this);
    if (wasHeldBack) {
      req.holdPaused = false;
      if (!this.#awaitingDrain) this.#conn.resumeReading();
    }
    conn.socket.uncork();
    this.#armResponseTimer();
  }

  onResponseHead(statusCode: number, statusMessage: string, raw: string[], _minor: number, keepAlive: boolean, upgrade: boolean): number {
    const req = this.#req;
    this.#clearTimer();
    this.#body = null;
    if (statusCode < 200) {
      if (upgrade && this.#opts.websocket) {
        this.#responseHead = true;
        this.#sticky?.respond(req, this.#group.name, this.#target!.id, raw);
        this.#pendingUpgradeHead = buildResponseHead(statusCode, statusMessage, raw, '', upgradeExtra(req.setCookies), true);
        req.status = statusCode;
        req.responseHeadMs = performance.now();
        return 2;
      }
      // 101 to a request that asked for no WebSocket upgrade: never relayed; the pool fails
      // the exchange as a malformed response (502).
      if (statusCode === 101) return 0;
      // Interim response (100 Continue, 103).
      this.#conn.relayInterim(req, statusCode, statusMessage, raw);
      this.#armResponseTimer();
      return 0;
    }
    this.#responseHead = true;
    req.status = statusCode;
    req.responseHeadMs = performance.now();
    const noBody = req.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    this.#sticky?.respond(req, this.#group.name, this.#target!.id, raw);
    this.#conn.relayHead(req, statusCode, statusMessage, raw, noBody);
    void keepAlive;
    this.#opts.onTargetResponse?.(req, this.#group, (req.responseHeadMs - this.#sentAtMs) / 1000);
    return noBody ? 1 : 0;
  }

  onResponseBody(chunk: Buffer): void {
    if (this.#done) return;
    if (!this.#conn.relayBody(this.#req, chunk) && this.#upstream !== null) {
      const up = this.#upstream;
      up.socket.pause();
      this.#conn.onDrain(() => up.socket.resume());
    }
  }

  onResponseComplete(trailers: string[] | null): void {
    if (this.#done) return;
    this.#responseDone = true;
    const up = this.#upstream;
    this.#upstream = null;
    if (up !== null) {
      // An ambiguous request (desync mitigation) never leaves its target connection reusable.
      if (up.keepAlive && this.#bodySent && !this.#req.closeConnection) up.pool.release(up);
      else up.destroy();
    }
    this.#finish();
    this.#conn.relayEnd(this.#req, trailers);
  }

  onUpstreamError(kind: ProxyErrorKind, _cause: Error | null, stale: boolean, replayable = true): void {
    if (this.#done) return;
    this.#clearTimer();
    this.#upstream = null;
    const target = this.#target;
    if (target !== null) this.#group.requestEnded(target);
    this.#target = null;
    if (this.#responseHead) {
      // Cut mid-response: the client must see the cut, never a padded or completed body.
      this.#req.error = kind.code;
      this.#done = true;
      this.#conn.abortResponse(this.#req);
      return;
    }
    // A native connection relays the body itself: `replayable` says whether it kept all of it.
    if (!replayable) this.#body = null;
    if (stale && this.#body !== null && target !== null) {
      // The keep-alive race: the target closed an idle connection as we reused it. The replay
      // is not a retry (the target never saw the request): if the fresh connection is refused
      // too (the target just died), the one retry on another target is still due.
      this.#req.detach();
      this.#target = target;
      this.#group.requestStarted(target);
      this.#ready = false;
      this.#bodySent = false;
      this.#upstream = target.pool.acquire(this, true);
      return;
    }
    if (target !== null && (kind === ProxyErrors.CONNECT_REFUSED || kind === ProxyErrors.CONNECT_FAILED)) {
      this.#group.ejectPassively(target, `${kind.reason} (passive)`);
    }
    const canRetry =
      this.#attempts < 2 &&
      target !== null &&
      (kind.retryable || (this.#group.spec.retryIdempotentRequests && IDEMPOTENT.has(this.#req.method) && this.#body !== null));
    if (canRetry) {
      (this.#excluded ??= new Set()).add(target.id);
      this.#req.detach();
      this.#attempt(kind);
      return;
    }
    this.#fail(kind);
  }

  onUpgrade(conn: UpstreamConnection, rest: Buffer): void {
    if (this.#done) return;
    const req = this.#req;
    const target = this.#target!;
    this.#done = true;
    this.#upstream = null;
    const upSocket = conn.takeSocket();
    req.bytesOut += this.#pendingUpgradeHead.length;
    const clientSocket = this.#conn.enterTunnel(req);
    clientSocket.write(this.#pendingUpgradeHead, 'latin1');
    if (rest.length > 0) clientSocket.write(rest);
    if (req.upgradeHead !== null && req.upgradeHead.length > 0) upSocket.write(req.upgradeHead);
    req.upgradeHead = null;
    const group = this.#group;
    openTunnel(clientSocket, upSocket, target, () => {
      group.requestEnded(target);
    });
  }

  // --- BodySink --------------------------------------------------------------------------

  onBody(chunk: Buffer): void {
    if (this.#done) return;
    if (this.#body !== null) {
      this.#bodyLength += chunk.length;
      if (this.#bodyLength <= REPLAY_LIMIT || !this.#ready) this.#body.push(chunk);
      else this.#body = null;
    }
    if (!this.#ready) {
      this.#conn.pauseReading();
      return;
    }
    if (!this.#writeBody(chunk) && this.#upstream !== null && !this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.#conn.pauseReading();
      this.#upstream.socket.once('drain', () => {
        this.#awaitingDrain = false;
        this.#conn.resumeReading();
      });
    }
  }

  onBodyEnd(): void {
    if (this.#done || !this.#ready || this.#bodySent) return;
    this.#bodySent = true;
    if (this.#upstream !== null) this.#upstream.endBody(this.#req.chunked);
  }

  abort(): void {
    if (this.#done) return;
    this.#req.error ||= 'SY_ERR_CLIENT_CLOSED';
    this.#clearTimer();
    const up = this.#upstream;
    this.#upstream = null;
    if (up !== null) up.destroy();
    this.#finish();
  }

  // --- helpers ---------------------------------------------------------------------------

  /**
   * Target stickiness (targets/stickiness/): the cookie's target when it is usable and not
   * excluded by a retry, else the balancer; the response then (re)issues the cookie.
   */
  #stickyPick(): Target | undefined {
    const codec = this.#action.stickyCodec;
    if (codec === null) return this.#group.pick(this.#excluded, this.#opts.hashKey);
    this.#sticky ??= new StickyRequest(codec, this.#group.stickiness!, this.#opts.view, this.#opts.listenerProto === 'https');
    return this.#sticky.pick(this.#group, this.#excluded, this.#opts.hashKey);
  }

  #writeBody(chunk: Buffer): boolean {
    return this.#upstream!.writeBody(chunk, this.#req.chunked);
  }

  #armResponseTimer(): void {
    const ms = this.#group.spec.responseTimeoutMs;
    if (ms <= 0) return;
    this.#clearTimer();
    const shared = this.#conn.responseTimer;
    if (shared !== undefined) {
      // One exchange at a time on this connection: its deadline, not a timer per request.
      shared.arm(this, ms);
      return;
    }
    this.#timer = setTimeout(() => this.onResponseTimeout(), ms);
  }

  /** The response head did not arrive within the group's response timeout. */
  onResponseTimeout(): void {
    this.#timer = null;
    if (this.#done) return;
    const up = this.#upstream;
    this.#upstream = null;
    if (up !== null) up.destroy();
    if (this.#target !== null) this.#group.requestEnded(this.#target);
    this.#target = null;
    if (this.#responseHead) {
      this.#done = true;
      this.#conn.abortResponse(this.#req);
      return;
    }
    this.#fail(ProxyErrors.RESPONSE_TIMEOUT);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#conn.responseTimer?.clear(this);
  }

  #fail(kind: ProxyErrorKind): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#req.detach();
    this.#conn.replyError(this.#req, kind);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    const target = this.#target;
    this.#target = null;
    if (target !== null) this.#group.requestEnded(target);
  }
}

/** Extra lines of a relayed 101 head: Connection, and any stickiness cookies. */
function upgradeExtra(cookies: readonly string[] | null): string {
  let extra = 'connection: upgrade\r\n';
  if (cookies !== null) for (let i = 0; i < cookies.length; i++) extra += 'set-cookie: ' + cookies[i]! + CRLF;
  return extra;
}
