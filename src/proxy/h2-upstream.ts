/**
 * HTTP/2 to one target (target groups with `protocolVersion: HTTP2 | GRPC`): a small pool of
 * client sessions, and each request as one stream that drives the same UpstreamHandler
 * callbacks as an HTTP/1.1 connection, so retries, timeouts, metrics and the response relay
 * stay the exchange's.
 *
 * Owns: sessions created lazily (h2c with prior knowledge for `protocol: HTTP`, TLS with ALPN
 * h2 for `protocol: HTTPS`), reused up to the target's SETTINGS_MAX_CONCURRENT_STREAMS, at most
 * MAX_SESSIONS_PER_TARGET of them, replaced when one receives GOAWAY or fails, closed after
 * SESSION_IDLE_MS without a stream and on target removal or shutdown. A request becomes HEADERS
 * (`:method`, `:scheme`, `:authority` from the Host Switchyard would send, `:path`) plus the
 * same header fields an HTTP/1.1 target would get (headers.ts `requestFields`), and a body
 * streamed with flow-control backpressure. The response head, body and trailers (grpc-status)
 * go to the handler. A stream the target refused (REFUSED_STREAM, or above a GOAWAY's last
 * stream) reports `stale`, as a keep-alive race does for HTTP/1.1: it was not processed, so
 * the exchange replays it on a fresh session. Never throws; handler callbacks are never called
 * from inside `sendHead`.
 */
import { STATUS_CODES } from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { ProxyErrors, type ProxyErrorKind } from './errors.js';
import { requestFields, type RequestHeadContext } from './headers.js';
import type { TargetPool, UpstreamFlow, UpstreamHandler, UpstreamLink, UpstreamTls } from './upstream-pool.js';

/** Sessions per target at most; beyond them streams queue in the least busy session. */
const MAX_SESSIONS_PER_TARGET = 4;
/** A session with no stream for this long is closed. */
export const SESSION_IDLE_MS = 30_000;
/** Streams per session assumed until the target's SETTINGS say otherwise. */
const DEFAULT_STREAM_LIMIT = 100;
/** Largest response header list accepted from a target (as MAX_RESPONSE_HEADER_BYTES for HTTP/1.1). */
const MAX_RESPONSE_HEADER_LIST = 65536;

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Stands in for a stream not opened (yet): flow control calls are no-ops. */
const NO_FLOW: UpstreamFlow = { cork() {}, uncork() {}, pause() {}, resume() {}, once() {} };

export class H2UpstreamPool implements TargetPool {
  readonly host: string;
  readonly port: number;
  connectTimeoutMs: number;
  /** `:scheme` of every request: https over TLS, http for h2c. */
  readonly scheme: 'http' | 'https';
  readonly #tls: UpstreamTls | null;
  readonly #sessions: H2Session[];
  readonly #active: Set<H2UpstreamStream>;

  constructor(host: string, port: number, connectTimeoutMs: number, tlsOptions: UpstreamTls | null = null) {
    this.host = host;
    this.port = port;
    this.connectTimeoutMs = connectTimeoutMs;
    this.scheme = tlsOptions === null ? 'http' : 'https';
    this.#tls = tlsOptions;
    this.#sessions = [];
    this.#active = new Set();
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /** Sessions open with no stream. */
  get idleCount(): number {
    let n = 0;
    for (const s of this.#sessions) if (s.streams === 0) n++;
    return n;
  }

  get sessionCount(): number {
    return this.#sessions.length;
  }

  /**
   * A stream for `handler`: on a session with room (ready at once when it is connected), else
   * on a new session (ready when it connects). `forceNew` opens a new session (a replay).
   */
  acquire(handler: UpstreamHandler, forceNew = false): H2UpstreamStream {
    const link = new H2UpstreamStream(this, handler);
    this.#active.add(link);
    const session = (forceNew ? null : this.#pick()) ?? this.#open();
    session.assign(link);
    return link;
  }

  /** The exchange finished with `link` cleanly. */
  release(link: UpstreamLink): void {
    (link as H2UpstreamStream).finish();
  }

  /** Bookkeeping when a link ends, however it ends. */
  forget(link: H2UpstreamStream): void {
    this.#active.delete(link);
  }

  /** Every stream in use fails with `kind` (default RESET); every session is closed. */
  destroyAll(kind: ProxyErrorKind = ProxyErrors.RESET): void {
    for (const link of [...this.#active]) link.abort(kind);
    this.#active.clear();
    for (const s of this.#sessions.splice(0)) s.destroy();
  }

  /** Closes sessions without a stream (graceful shutdown). */
  closeIdle(): void {
    for (const s of [...this.#sessions]) if (s.streams === 0) s.destroy();
  }

  /** A session went away: no new stream goes to it. */
  drop(session: H2Session): void {
    const i = this.#sessions.indexOf(session);
    if (i >= 0) this.#sessions.splice(i, 1);
  }

  /** The fullest session that still has room, so that few sessions stay in use. */
  #pick(): H2Session | null {
    let best: H2Session | null = null;
    for (const s of this.#sessions) {
      if (!s.usable || s.streams >= s.streamLimit) continue;
      if (best === null || s.streams > best.streams) best = s;
    }
    if (best !== null || this.#sessions.length < MAX_SESSIONS_PER_TARGET) return best;
    // Every session is full: queue in the least busy one (nghttp2 holds the stream back).
    for (const s of this.#sessions) if (s.usable && (best === null || s.streams < best.streams)) best = s;
    return best;
  }

  #open(): H2Session {
    const s = new H2Session(this, this.#tls);
    this.#sessions.push(s);
    return s;
  }
}

/** One HTTP/2 connection to the target, and the streams assigned to it. */
class H2Session {
  readonly #pool: H2UpstreamPool;
  readonly session: http2.ClientHttp2Session;
  /** Connected (and, over TLS, handshaken with ALPN h2). */
  ready: boolean;
  /** Takes new streams: false after GOAWAY, an error or close. */
  usable: boolean;
  /** Streams assigned and not finished. */
  streams: number;
  #waiting: H2UpstreamStream[];
  #tcpConnected: boolean;
  /** Over TLS (a failure after the TCP connect is the handshake's). */
  readonly #tls: boolean;
  #connectTimer: NodeJS.Timeout | null;
  #idleTimer: NodeJS.Timeout | null;
  /** Why the session failed, for streams that learn of it only through 'close'. */
  #failure: ProxyErrorKind | null;

  constructor(pool: H2UpstreamPool, tlsOptions: UpstreamTls | null) {
    this.#pool = pool;
    this.ready = false;
    this.usable = true;
    this.streams = 0;
    this.#waiting = [];
    this.#tcpConnected = false;
    this.#tls = tlsOptions !== null;
    this.#idleTimer = null;
    this.#failure = null;
    const authority = `${pool.scheme}://${net.isIPv6(pool.host) ? `[${pool.host}]` : pool.host}:${pool.port}`;
    this.session = http2.connect(authority, {
      // Response header lists are bounded as HTTP/1.1 response heads are.
      settings: { enablePush: false, maxHeaderListSize: MAX_RESPONSE_HEADER_LIST },
      maxHeaderListPairs: 256,
      maxSessionMemory: 32,
      createConnection: () => this.#connectSocket(pool, tlsOptions),
    });
    const session = this.session;
    session.on('error', (err: Error) => this.#onError(err));
    session.on('goaway', () => {
      // Streams above its last stream id are refused (REFUSED_STREAM → replayed elsewhere).
      this.usable = false;
      this.#pool.drop(this);
    });
    session.on('close', () => this.#onClose());
    session.once('connect', () => this.#onConnect());
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      this.#failAll(ProxyErrors.CONNECT_TIMEOUT, null);
      session.destroy();
    }, pool.connectTimeoutMs);
  }

  /** Room for more streams, per the target's SETTINGS (or the default before they arrive). */
  get streamLimit(): number {
    const remote = this.ready ? this.session.remoteSettings.maxConcurrentStreams : undefined;
    return remote === undefined ? DEFAULT_STREAM_LIMIT : Math.min(remote, 1000);
  }

  assign(link: H2UpstreamStream): void {
    if (this.streams++ === 0) this.session.ref();
    if (this.#idleTimer !== null) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    link.bindSession(this);
    if (this.ready) link.ready();
    else this.#waiting.push(link);
  }

  /** A stream of this session finished (cleanly or not). */
  streamDone(): void {
    if (--this.streams > 0 || !this.usable || this.#idleTimer !== null) return;
    // An idle session does not keep the process alive.
    this.session.unref();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.streams === 0) this.destroy();
    }, SESSION_IDLE_MS);
    this.#idleTimer.unref();
  }

  /** The failure to report to a stream closed by this session's end, if the session failed. */
  get failure(): ProxyErrorKind | null {
    return this.#failure;
  }

  destroy(): void {
    this.usable = false;
    this.#pool.drop(this);
    this.#clearTimers();
    if (!this.session.destroyed) this.session.destroy();
  }

  #connectSocket(pool: H2UpstreamPool, tlsOptions: UpstreamTls | null): net.Socket {
    const socket =
      tlsOptions === null
        ? net.connect({ host: pool.host, port: pool.port, noDelay: true })
        : tls.connect({ ...tlsOptions, host: pool.host, port: pool.port, ALPNProtocols: ['h2'] });
    socket.once('connect', () => (this.#tcpConnected = true));
    if (tlsOptions !== null) {
      socket.once('secureConnect', () => {
        const alpn = (socket as tls.TLSSocket).alpnProtocol;
        if (alpn !== 'h2') {
          this.#failAll(ProxyErrors.CONNECT_FAILED, new Error(`target did not agree to HTTP/2 through ALPN (got ${alpn || 'none'})`));
          this.destroy();
        }
      });
    }
    return socket;
  }

  #onConnect(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    if (!this.usable) return;
    this.ready = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const link of waiting) link.ready();
  }

  #onError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    let kind: ProxyErrorKind;
    if (this.ready) kind = code === 'ERR_HTTP2_ERROR' || code === 'ERR_HTTP2_SESSION_ERROR' ? ProxyErrors.BAD_RESPONSE : ProxyErrors.RESET;
    else if (code === 'ECONNREFUSED') kind = ProxyErrors.CONNECT_REFUSED;
    else if (this.#tcpConnected && this.#tls) kind = ProxyErrors.TLS_HANDSHAKE;
    else kind = ProxyErrors.CONNECT_FAILED;
    this.#failure ??= kind;
    this.#failAll(kind, err);
  }

  #onClose(): void {
    this.usable = false;
    this.#pool.drop(this);
    this.#clearTimers();
    this.#failAll(this.#failure ?? ProxyErrors.CONNECT_FAILED, null);
  }

  /** Streams still waiting for the connection fail with `kind` (nothing was sent: retryable). */
  #failAll(kind: ProxyErrorKind, cause: Error | null): void {
    this.usable = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const link of waiting) link.fail(kind, cause, false);
  }

  #clearTimers(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#connectTimer = null;
    this.#idleTimer = null;
  }
}

/** One request to the target as one HTTP/2 stream. */
export class H2UpstreamStream implements UpstreamLink {
  readonly http2 = true;
  readonly pool: H2UpstreamPool;
  readonly keepAlive = true;
  expectNoBody: boolean;
  #handler: UpstreamHandler | null;
  #session: H2Session | null;
  #stream: http2.ClientHttp2Stream | null;
  #responded: boolean;
  #trailers: string[] | null;
  #error: Error | null;
  #ended: boolean;

  constructor(pool: H2UpstreamPool, handler: UpstreamHandler) {
    this.pool = pool;
    this.expectNoBody = false;
    this.#handler = handler;
    this.#session = null;
    this.#stream = null;
    this.#responded = false;
    this.#trailers = null;
    this.#error = null;
    this.#ended = false;
  }

  get socket(): UpstreamFlow {
    return this.#stream ?? NO_FLOW;
  }

  /** The session this stream is assigned to (counted there until the link ends). */
  bindSession(session: H2Session): void {
    this.#session = session;
  }

  /** Called by the session once it can take the stream. */
  ready(): void {
    if (!this.#ended) this.#handler?.onUpstreamReady(this);
  }

  sendHead(c: RequestHeadContext): void {
    const session = this.#session;
    if (session === null || this.#ended) return;
    const { fields } = requestFields(c.websocket ? { ...c, websocket: false } : c);
    const headers: http2.OutgoingHttpHeaders = { ':method': c.method, ':scheme': this.pool.scheme, ':path': c.target };
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!.toLowerCase();
      const value = fields[i + 1]!;
      if (name === 'host') {
        // The Host Switchyard would send an HTTP/1.1 target (RFC 9113 §8.3.1).
        if (headers[':authority'] === undefined) headers[':authority'] = value;
        continue;
      }
      const prev = headers[name];
      if (prev === undefined) headers[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else headers[name] = [String(prev), value];
    }
    if (typeof c.framing === 'number') headers['content-length'] = String(c.framing);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.session.request(headers, { endStream: c.framing === null });
    } catch (err) {
      // A session that closed under us (stale: nothing was sent), or fields HTTP/2 refuses.
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const badHeaders = code.startsWith('ERR_HTTP2_INVALID') || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN';
      process.nextTick(() => this.fail(badHeaders ? ProxyErrors.BAD_REQUEST : ProxyErrors.CONNECT_FAILED, err as Error, !badHeaders));
      return;
    }
    this.#stream = stream;
    stream.cork();
    stream.on('headers', (h: http2.IncomingHttpHeaders) => this.#onInformational(h));
    stream.on('response', (h: http2.IncomingHttpHeaders) => this.#onResponse(h));
    stream.on('data', (chunk: Buffer) => this.#handler?.onResponseBody(chunk));
    stream.on('trailers', (t: http2.IncomingHttpHeaders) => (this.#trailers = fieldList(t)));
    stream.on('end', () => this.#onEnd());
    stream.on('error', (err: Error) => (this.#error ??= err));
    stream.on('close', () => this.#onClose());
  }

  writeBody(chunk: Buffer): boolean {
    const stream = this.#stream;
    if (stream === null || stream.destroyed || stream.writableEnded) return true;
    return stream.write(chunk);
  }

  endBody(): void {
    const stream = this.#stream;
    if (stream !== null && !stream.destroyed && !stream.writableEnded) stream.end();
  }

  /** The exchange is done with it: cancels the stream if it is still open (RST_STREAM CANCEL). */
  destroy(): void {
    const stream = this.#stream;
    this.#finishLink();
    if (stream !== null && !stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
  }

  /** The response completed and the exchange let go (pool.release). */
  finish(): void {
    this.#finishLink();
  }

  /** The pool is closing (deregistration delay over, shutdown): the exchange fails with `kind`. */
  abort(kind: ProxyErrorKind): void {
    const stream = this.#stream;
    this.fail(kind, null, false);
    if (stream !== null && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
  }

  /** Ends the link with an error reported to its exchange (once). */
  fail(kind: ProxyErrorKind, cause: Error | null, stale: boolean): void {
    const h = this.#handler;
    this.#finishLink();
    h?.onUpstreamError(kind, cause, stale);
  }

  #onInformational(h: http2.IncomingHttpHeaders): void {
    const status = Number(h[':status']);
    if (status >= 100 && status < 200) this.#handler?.onResponseHead(status, STATUS_CODES[status] ?? '', fieldList(h), 1, true, false);
  }

  #onResponse(h: http2.IncomingHttpHeaders): void {
    this.#responded = true;
    // HTTP/2 has no reason phrase: HTTP/1.1 clients get the standard one.
    const status = Number(h[':status']);
    this.#handler?.onResponseHead(status, STATUS_CODES[status] ?? '', fieldList(h), 1, true, false);
  }

  #onEnd(): void {
    const h = this.#handler;
    if (h === null || !this.#responded) return;
    const trailers = this.#trailers;
    this.#trailers = null;
    // The handler releases or destroys this link (exchange.onResponseComplete).
    h.onResponseComplete(trailers);
  }

  #onClose(): void {
    if (this.#handler === null) return;
    const stream = this.#stream!;
    if (this.#responded && stream.readableEnded && stream.rstCode === 0) return;
    // Closed before the response completed. A stream the target refused, or one that never
    // left (the session closed first), was not processed: `stale`, the exchange may replay it.
    const stale = !this.#responded && (stream.rstCode === NGHTTP2_REFUSED_STREAM || stream.pending);
    const kind = stale ? ProxyErrors.RESET : (this.#session?.failure ?? ProxyErrors.RESET);
    this.fail(kind, this.#error, stale);
  }

  #finishLink(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#handler = null;
    this.pool.forget(this);
    this.#session?.streamDone();
  }
}

/** A header object as a flat [name, value, …] list, pseudo-headers left out. */
function fieldList(h: http2.IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of Object.keys(h)) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) out.push(name, item);
    else out.push(name, String(v));
  }
  return out;
}
