/**
 * HTTP/2 on an HTTPS listener (ALPN `h2`): sessions, streams, and each stream as a Downstream.
 *
 * Owns: the HTTP/2 server settings at the edge (at most 100 concurrent streams, a bound on the
 * header list, limits on invalid frames, rejected streams, settings and pings), flood
 * protection (a session whose client cancels streams faster than RAPID_RESET_LIMIT per second,
 * or sends PING/SETTINGS frames faster than CONTROL_FRAME_LIMIT per second, is closed with
 * GOAWAY ENHANCE_YOUR_CALM; other sessions are unaffected), the idle timeout of a session with
 * no open stream, turning a stream into a ClientRequest (`:authority` serves as Host) that goes
 * through the same dispatch, rules, actions and forwarding as HTTP/1.1, and writing the
 * response back as HTTP/2: 1xx heads as informational HEADERS, trailers (a target's, or none),
 * a trailers-only answer when the target's response had neither body nor trailers (gRPC
 * errors), and gRPC-shaped answers when the request was gRPC and Switchyard answers itself.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ClientRequest } from './client-request.js';
import type { ListenerContext } from './listener-context.js';
import type { Downstream } from '../proxy/downstream.js';
import { ProxyErrors, type ProxyErrorKind } from '../proxy/errors.js';
import type { CompiledFixedResponse } from '../config/compile.js';
import { H, connectionTokens, headerCode } from '../proxy/headers.js';
import { reasonPhrase } from '../proxy/local-reply.js';
import { grpcMessage, grpcStatusFor, isGrpcContentType } from '../proxy/grpc.js';

/** Streams a client may cancel per second before its session is closed (CVE-2023-44487). */
const RAPID_RESET_LIMIT = 200;
/** PING and SETTINGS frames a client may send per second before its session is closed. */
const CONTROL_FRAME_LIMIT = 100;
const MAX_CONCURRENT_STREAMS = 100;

/** Per-session facts: the TLS socket's client-certificate headers, flood accounting, idleness. */
interface SessionState {
  readonly socket: TLSSocket;
  extraRequestHeaders: string;
  reservedRequestHeaders: ReadonlySet<string> | null;
  resetWindowStartMs: number;
  resetsInWindow: number;
  controlWindowStartMs: number;
  controlFramesInWindow: number;
  openStreams: number;
  idleTimer: NodeJS.Timeout | null;
}

export class H2Frontend {
  readonly #ctx: ListenerContext;
  readonly #server: http2.Http2Server;
  readonly #sessions: Set<http2.ServerHttp2Session>;
  readonly #state: WeakMap<http2.ServerHttp2Session, SessionState>;
  #pending: SessionState | null;

  constructor(ctx: ListenerContext, maxHeaderListSize: number) {
    this.#ctx = ctx;
    this.#sessions = new Set();
    this.#state = new WeakMap();
    this.#pending = null;
    this.#server = http2.createServer({
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize, enablePush: false },
      maxSessionInvalidFrames: 100,
      maxSessionRejectedStreams: 100,
      maxSettings: 32,
      maxOutstandingPings: 10,
      maxHeaderListPairs: 256,
      // A session's unacknowledged output is bounded; beyond it new streams are refused.
      maxSessionMemory: 32,
    });
    this.#server.on('session', (session: http2.ServerHttp2Session) => this.#onSession(session));
    this.#server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => {
      this.#onStream(stream, headers, flags);
    });
    // Session errors (protocol errors, floods) end that session only.
    this.#server.on('sessionError', () => {});
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Takes over a TLS connection whose ALPN chose h2. */
  handle(socket: TLSSocket, extraRequestHeaders: string, reserved: ReadonlySet<string> | null): void {
    this.#pending = {
      socket,
      extraRequestHeaders,
      reservedRequestHeaders: reserved,
      resetWindowStartMs: 0,
      resetsInWindow: 0,
      controlWindowStartMs: 0,
      controlFramesInWindow: 0,
      openStreams: 0,
      idleTimer: null,
    };
    this.#server.emit('connection', socket as net.Socket);
    this.#pending = null;
  }

  /** Graceful shutdown: GOAWAY to every session; in-flight streams finish. */
  shutdown(): void {
    for (const s of this.#sessions) s.close();
  }

  /** The shutdown deadline: every session and its connection go, whatever the peer does. */
  destroyAll(): void {
    for (const s of this.#sessions) {
      const state = this.#state.get(s);
      s.destroy();
      // session.destroy() ends the socket gracefully, which a peer that never closes can hold.
      state?.socket.destroy();
    }
  }

  #onSession(session: http2.ServerHttp2Session): void {
    const state = this.#pending;
    if (state === null) {
      session.destroy();
      return;
    }
    this.#state.set(session, state);
    this.#sessions.add(session);
    session.on('error', () => {});
    session.on('close', () => {
      this.#sessions.delete(session);
      if (state.idleTimer !== null) clearTimeout(state.idleTimer);
      state.idleTimer = null;
    });
    // Control-frame floods: nghttp2 bounds the ACKs queued within one read; this bounds the rate.
    session.on('ping', () => this.#countControlFrame(session, state));
    session.on('remoteSettings', () => this.#countControlFrame(session, state));
    if (this.#ctx.draining) session.close();
    else this.#armIdle(session, state);
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number): void {
    const session = stream.session as http2.ServerHttp2Session | undefined;
    const state = session ? this.#state.get(session) : undefined;
    if (session === undefined || state === undefined) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.on('error', () => {});
    state.openStreams++;
    if (state.idleTimer !== null) {
      clearTimeout(state.idleTimer);
      state.idleTimer = null;
    }
    stream.once('close', () => {
      if (--state.openStreams === 0 && !session.closed && !session.destroyed) this.#armIdle(session, state);
    });
    const downstream = new H2StreamDownstream(this.#ctx, stream, state);
    stream.on('aborted', () => this.#countReset(session, state));
    downstream.start(headers, flags);
  }

  /** A session with no open stream is closed (GOAWAY) after settings.idleTimeoutSeconds. */
  #armIdle(session: http2.ServerHttp2Session, state: SessionState): void {
    const ms = this.#ctx.listener.settings.idleTimeoutMs;
    if (ms <= 0 || state.idleTimer !== null) return;
    state.idleTimer = setTimeout(() => {
      state.idleTimer = null;
      if (state.openStreams === 0) session.close();
    }, ms);
    state.idleTimer.unref();
  }

  #countReset(session: http2.ServerHttp2Session, state: SessionState): void {
    const now = performance.now();
    if (now - state.resetWindowStartMs > 1000) {
      state.resetWindowStartMs = now;
      state.resetsInWindow = 0;
    }
    if (++state.resetsInWindow > RAPID_RESET_LIMIT) calm(session, state);
  }

  #countControlFrame(session: http2.ServerHttp2Session, state: SessionState): void {
    const now = performance.now();
    if (now - state.controlWindowStartMs > 1000) {
      state.controlWindowStartMs = now;
      state.controlFramesInWindow = 0;
    }
    if (++state.controlFramesInWindow > CONTROL_FRAME_LIMIT) calm(session, state);
  }
}

/** How long an abusive session's remaining streams get after its GOAWAY before the cut. */
const CALM_GRACE_MS = 1000;

/**
 * Ends an abusive session: GOAWAY ENHANCE_YOUR_CALM (no new stream is processed), then the
 * connection closes once its open streams are done, or is cut after CALM_GRACE_MS. A bare
 * session.destroy() from inside nghttp2's stream-close callback (where resets are counted)
 * leaves the peer without the GOAWAY and the socket open, so the session is closed instead.
 */
function calm(session: http2.ServerHttp2Session, state: SessionState): void {
  if (session.destroyed || session.closed) return;
  session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  session.close();
  setTimeout(() => {
    if (!session.destroyed) session.destroy();
    state.socket.destroy();
  }, CALM_GRACE_MS).unref();
}

/** One HTTP/2 stream as the client side of one request. */
class H2StreamDownstream implements Downstream {
  readonly #ctx: ListenerContext;
  readonly #stream: http2.ServerHttp2Stream;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly extraRequestHeaders: string;
  readonly reservedRequestHeaders: ReadonlySet<string> | null;
  readonly canUpgrade = false;
  #req: ClientRequest | null;
  #grpc: boolean;
  #trailers: readonly string[] | null;
  /** A relayed head not yet written (see relayHead); null once written or when there is none. */
  #pendingHead: http2.OutgoingHttpHeaders | null;
  /** The response was sent with waitForTrailers (a gRPC response, or one that declares Trailer). */
  #expectTrailers: boolean;

  constructor(ctx: ListenerContext, stream: http2.ServerHttp2Stream, state: SessionState) {
    this.#ctx = ctx;
    this.#stream = stream;
    this.remoteAddress = state.socket.remoteAddress ?? '';
    this.remotePort = state.socket.remotePort ?? 0;
    this.extraRequestHeaders = state.extraRequestHeaders;
    this.reservedRequestHeaders = state.reservedRequestHeaders;
    this.#req = null;
    this.#grpc = false;
    this.#trailers = null;
    this.#pendingHead = null;
    this.#expectTrailers = false;
  }

  get draining(): boolean {
    return this.#ctx.draining;
  }

  start(headers: http2.IncomingHttpHeaders, flags: number): void {
    const stream = this.#stream;
    const method = String(headers[':method'] ?? 'GET');
    const path = String(headers[':path'] ?? '');
    const authority = headers[':authority'] ?? headers['host'];
    // The request as HTTP/1.1 would carry it: Host from :authority, then the regular fields
    // (node:http2 has already joined split cookie fields with "; ", RFC 9113 §8.2.3).
    const raw: string[] = [];
    if (authority !== undefined) raw.push('host', String(authority));
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) === 58 /* : */ || name === 'host') continue;
      const v = headers[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) raw.push(name, item);
      else raw.push(name, String(v));
    }
    const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    const req = new ClientRequest(method, path, 1, raw, true, false, this.#ctx.listener, performance.now());
    req.http2 = true;
    this.#req = req;
    this.#grpc = isGrpcContentType(headers['content-type'] as string | undefined);
    const cl = headers['content-length'];
    if (endStream) {
      req.contentLength = cl !== undefined ? Number(cl) : -1;
      req.bodyComplete = true;
    } else if (cl !== undefined && /^\d+$/.test(String(cl))) {
      // nghttp2 checks the DATA frames against it (a mismatch resets the stream).
      req.contentLength = Number(cl);
    } else {
      // A body of unknown length: forwarded to an HTTP/1.1 target as chunked.
      req.chunked = true;
    }
    if (!endStream) {
      const limit = req.listener.settings.maxRequestBodyBytes;
      stream.on('data', (chunk: Buffer) => {
        req.bodyBytes += chunk.length;
        req.bytesIn += chunk.length;
        if (req.finished) return;
        if (limit > 0 && req.bodyBytes > limit) {
          this.#bodyTooLarge(req);
          return;
        }
        if (req.sink !== null) req.sink.onBody(chunk);
        else if (req.hold(chunk)) this.pauseReading();
      });
      stream.on('end', () => {
        req.bodyComplete = true;
        if (req.sink !== null && !req.finished) req.sink.onBodyEnd();
      });
    }
    stream.on('close', () => {
      if (!req.finished) {
        req.sink?.abort();
        if (req.status === 0) req.error = 'SY_ERR_CLIENT_CLOSED';
        req.finished = true;
        this.#ctx.onRequestDone(this, req);
      }
    });
    this.#ctx.dispatch(this, req);
  }

  /** A body of unknown length grew over maxRequestBodyBytes: 413 when possible, else a cut. */
  #bodyTooLarge(req: ClientRequest): void {
    req.bodyChunks = [];
    req.sink?.abort();
    req.detach();
    if (!req.responseStarted) this.replyError(req, ProxyErrors.BODY_TOO_LARGE);
    else this.abortResponse(req);
    // Stop the upload: RST_STREAM NO_ERROR after the answer (RFC 9113 §8.1).
    if (!this.#stream.destroyed) this.#stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  // --- Downstream: generated responses -----------------------------------------------------

  replyError(req: ClientRequest, kind: ProxyErrorKind, _close?: boolean, extra?: readonly (readonly [string, string])[]): void {
    if (req.finished || this.#stream.headersSent || this.#stream.destroyed) return;
    req.status = kind.status;
    req.error = kind.code;
    if (this.#grpc) {
      // A gRPC client reads errors from grpc-status, in a trailers-only response.
      const h: http2.OutgoingHttpHeaders = {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(grpcStatusFor(kind.status)),
        'grpc-message': grpcMessage(`${kind.status} ${kind.reason}`),
        server: 'switchyard',
      };
      this.#respondEnd(req, h, null);
      return;
    }
    const body = Buffer.from(`${kind.status} ${reasonPhrase(kind.status)}: ${kind.reason}\n`);
    const h: http2.OutgoingHttpHeaders = { ':status': kind.status, server: 'switchyard', 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length };
    if (extra) for (const [n, v] of extra) h[n.toLowerCase()] = v;
    this.#respondEnd(req, h, req.method === 'HEAD' ? null : body);
  }

  replyFixed(req: ClientRequest, action: CompiledFixedResponse): void {
    if (req.finished || this.#stream.destroyed) return;
    req.status = action.statusCode;
    const h: http2.OutgoingHttpHeaders = { ':status': action.statusCode, server: 'switchyard', 'content-length': action.body.length };
    if (action.body.length > 0) h['content-type'] = action.contentType;
    this.#respondEnd(req, h, req.method === 'HEAD' || action.body.length === 0 ? null : action.body);
  }

  replyRedirect(req: ClientRequest, statusCode: number, location: string): void {
    if (req.finished || this.#stream.destroyed) return;
    req.status = statusCode;
    this.#respondEnd(req, { ':status': statusCode, server: 'switchyard', location, 'content-length': 0 }, null);
  }

  #respondEnd(req: ClientRequest, headers: http2.OutgoingHttpHeaders, body: Buffer | null): void {
    const stream = this.#stream;
    req.responseStarted = true;
    try {
      stream.respond(headers, { endStream: body === null });
      if (body !== null) {
        req.bytesOut += body.length;
        stream.end(body);
      }
    } catch {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
    this.#done(req);
  }

  // --- Downstream: relaying a target's response -------------------------------------------

  relayInterim(_req: ClientRequest, statusCode: number, _statusMessage: string, raw: readonly string[]): void {
    // 100 Continue and 103 Early Hints as informational HEADERS (RFC 9113 §8.1).
    const stream = this.#stream;
    if (stream.destroyed || stream.headersSent || statusCode === 101) return;
    const headers = responseFields(statusCode, raw);
    try {
      stream.additionalHeaders(headers);
    } catch {
      // Headers the HTTP/2 layer refuses in a 1xx: the interim response is dropped, not the request.
    }
  }

  /**
   * The target's head. Written on the next tick, or with the first body bytes, whichever comes
   * first, so that a response whose end arrives in the same read (no body, no trailers: a gRPC
   * error, an empty 200) goes out as one HEADERS frame with END_STREAM.
   */
  relayHead(req: ClientRequest, statusCode: number, _statusMessage: string, raw: readonly string[], noBody: boolean): void {
    const stream = this.#stream;
    if (stream.destroyed) return;
    const headers = responseFields(statusCode, raw);
    const cookies = req.setCookies;
    if (cookies !== null) {
      // Stickiness cookies join the target's own (HTTP/2 sends each as its own field line).
      const prev = headers['set-cookie'];
      headers['set-cookie'] = prev === undefined ? cookies : Array.isArray(prev) ? [...prev, ...cookies] : [String(prev), ...cookies];
    }
    req.responseStarted = true;
    if (noBody) {
      this.#respond(req, headers, true);
      return;
    }
    this.#expectTrailers = isGrpcContentType(headers['content-type'] as string | undefined) || headers['trailer'] !== undefined;
    this.#pendingHead = headers;
    process.nextTick(() => this.#flushHead(req));
  }

  relayBody(req: ClientRequest, chunk: Buffer): boolean {
    req.bytesOut += chunk.length;
    if (this.#stream.destroyed) return true;
    if (this.#pendingHead !== null) this.#flushHead(req);
    return this.#stream.write(chunk);
  }

  relayEnd(req: ClientRequest, trailers: readonly string[] | null): void {
    const stream = this.#stream;
    const hasTrailers = trailers !== null && trailers.length > 0;
    this.#trailers = trailers;
    const head = this.#pendingHead;
    if (head !== null && !hasTrailers) {
      // Neither body nor trailers: one HEADERS frame with END_STREAM (a trailers-only response).
      this.#pendingHead = null;
      this.#respond(req, head, true);
    } else {
      if (head !== null) {
        this.#expectTrailers = true;
        this.#flushHead(req);
      }
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    }
    this.#done(req);
  }

  abortResponse(req: ClientRequest): void {
    this.#pendingHead = null;
    if (!this.#stream.destroyed) this.#stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    this.#done(req);
  }

  onDrain(cb: () => void): void {
    this.#stream.once('drain', cb);
  }

  pauseReading(): void {
    this.#stream.pause();
  }

  resumeReading(): void {
    this.#stream.resume();
  }

  enterTunnel(): net.Socket {
    throw new Error('HTTP/2 streams are not tunnelled');
  }

  #flushHead(req: ClientRequest): void {
    const head = this.#pendingHead;
    if (head === null) return;
    this.#pendingHead = null;
    this.#respond(req, head, false);
  }

  #respond(req: ClientRequest, headers: http2.OutgoingHttpHeaders, endStream: boolean): void {
    const stream = this.#stream;
    if (stream.destroyed || stream.headersSent) return;
    const waitForTrailers = !endStream && this.#expectTrailers;
    try {
      stream.respond(headers, { endStream, waitForTrailers });
    } catch {
      this.abortResponse(req);
      return;
    }
    if (waitForTrailers) {
      stream.once('wantTrailers', () => {
        // No trailers came: an empty trailer section ends the stream cleanly (a gRPC client
        // then reports the missing grpc-status itself).
        const t = this.#trailers;
        try {
          stream.sendTrailers(t === null ? {} : trailerFields(t));
        } catch {
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        }
      });
    }
  }

  #done(req: ClientRequest): void {
    if (req.finished) return;
    req.finished = true;
    this.#ctx.onRequestDone(this, req);
  }
}

/** A target's status and header list as HTTP/2 response fields, hop-by-hop headers removed. */
function responseFields(statusCode: number, raw: readonly string[]): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = { ':status': statusCode };
  const named = connectionTokens(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    switch (headerCode(name)) {
      case H.CONNECTION:
      case H.KEEP_ALIVE:
      case H.PROXY_CONNECTION:
      case H.TRANSFER_ENCODING:
      case H.UPGRADE:
      case H.TE:
      case H.HTTP2_SETTINGS:
        continue;
      default:
        break;
    }
    const lower = name.toLowerCase();
    if (named !== null && named.has(lower)) continue;
    if (lower.charCodeAt(0) === 58 /* : */) continue;
    const v = raw[i + 1]!;
    const prev = headers[lower];
    if (prev === undefined) headers[lower] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else headers[lower] = [String(prev), v];
  }
  return headers;
}

/** Trailers as HTTP/2 fields: lowercased names, pseudo and connection-specific fields dropped. */
function trailerFields(t: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (let i = 0; i < t.length; i += 2) {
    const name = t[i]!.toLowerCase();
    if (name.charCodeAt(0) === 58 || headerCode(name) !== H.OTHER) continue;
    const v = t[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[name] = [String(prev), v];
  }
  return out;
}
