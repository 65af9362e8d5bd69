/**
 * HTTP/2 on an HTTPS listener (ALPN `h2`): sessions, streams, and each stream as a Downstream.
 *
 * Owns: the HTTP/2 server settings at the edge (at most 100 concurrent streams, a bound on the
 * header list, limits on invalid frames, rejected streams, settings and pings), rapid-reset
 * protection (a session whose client cancels streams faster than RAPID_RESET_LIMIT per second is
 * closed with GOAWAY; other sessions are unaffected), turning a stream into a ClientRequest
 * (`:authority` serves as Host) that goes through the same dispatch, rules, actions and
 * forwarding as HTTP/1.1, and writing the response back as HTTP/2 (gRPC-shaped when the request
 * was gRPC and Switchyard answers itself).
 */
import http2 from 'node:http2';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ClientRequest } from './client-request.js';
import type { ListenerContext } from './listener-context.js';
import type { Downstream } from '../proxy/downstream.js';
import type { ProxyErrorKind } from '../proxy/errors.js';
import type { CompiledFixedResponse } from '../config/compile.js';
import { H, connectionTokens, headerCode } from '../proxy/headers.js';
import { reasonPhrase } from '../proxy/local-reply.js';

/** Streams a client may cancel per second before its session is closed (CVE-2023-44487). */
const RAPID_RESET_LIMIT = 200;
const MAX_CONCURRENT_STREAMS = 100;

/** HTTP status → gRPC status for answers Switchyard gives itself (gRPC's HTTP mapping). */
function grpcStatusFor(status: number): number {
  switch (status) {
    case 400:
    case 413:
    case 414:
    case 431:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 408:
    case 504:
      return 4; // DEADLINE_EXCEEDED
    case 429:
    case 502:
    case 503:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

export function isGrpcContentType(v: string | undefined): boolean {
  return v !== undefined && (v === 'application/grpc' || v.startsWith('application/grpc+') || v.startsWith('application/grpc;'));
}

/** Per-session facts: the TLS socket's client-certificate headers and rapid-reset accounting. */
interface SessionState {
  readonly socket: TLSSocket;
  extraRequestHeaders: string;
  reservedRequestHeaders: ReadonlySet<string> | null;
  resetWindowStartMs: number;
  resetsInWindow: number;
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
    this.#pending = { socket, extraRequestHeaders, reservedRequestHeaders: reserved, resetWindowStartMs: 0, resetsInWindow: 0 };
    this.#server.emit('connection', socket as net.Socket);
    this.#pending = null;
  }

  /** Graceful shutdown: GOAWAY to every session; in-flight streams finish. */
  shutdown(): void {
    for (const s of this.#sessions) s.close();
  }

  destroyAll(): void {
    for (const s of this.#sessions) s.destroy();
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
    session.on('close', () => this.#sessions.delete(session));
    if (this.#ctx.draining) session.close();
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number): void {
    const session = stream.session as http2.ServerHttp2Session | undefined;
    const state = session ? this.#state.get(session) : undefined;
    if (session === undefined || state === undefined) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.on('error', () => {});
    const downstream = new H2StreamDownstream(this.#ctx, stream, state);
    stream.on('aborted', () => this.#countReset(session, state));
    downstream.start(headers, flags);
  }

  #countReset(session: http2.ServerHttp2Session, state: SessionState): void {
    const now = performance.now();
    if (now - state.resetWindowStartMs > 1000) {
      state.resetWindowStartMs = now;
      state.resetsInWindow = 0;
    }
    if (++state.resetsInWindow > RAPID_RESET_LIMIT) {
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      session.destroy();
    }
  }
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
  }

  get draining(): boolean {
    return this.#ctx.draining;
  }

  start(headers: http2.IncomingHttpHeaders, flags: number): void {
    const stream = this.#stream;
    const method = String(headers[':method'] ?? 'GET');
    const path = String(headers[':path'] ?? '');
    const authority = headers[':authority'] ?? headers['host'];
    // The request as HTTP/1.1 would carry it: Host from :authority, then the regular fields.
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
      req.contentLength = Number(cl);
    } else {
      // A body of unknown length: forwarded to an HTTP/1.1 target as chunked.
      req.chunked = true;
    }
    if (!endStream) {
      stream.on('data', (chunk: Buffer) => {
        req.bodyBytes += chunk.length;
        req.bytesIn += chunk.length;
        if (req.finished) return;
        if (req.sink !== null) req.sink.onBody(chunk);
        else req.bodyChunks.push(chunk);
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

  // --- Downstream: generated responses -----------------------------------------------------

  replyError(req: ClientRequest, kind: ProxyErrorKind, _close?: boolean, extra?: readonly (readonly [string, string])[]): void {
    if (req.finished || this.#stream.headersSent || this.#stream.destroyed) return;
    req.status = kind.status;
    req.error = kind.code;
    if (this.#grpc) {
      // A gRPC client reads errors from grpc-status, in a trailers-only response.
      this.#respondEnd(req, { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(grpcStatusFor(kind.status)), 'grpc-message': encodeURIComponent(kind.reason), server: 'switchyard' }, null);
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

  relayInterim(): void {
    // 1xx responses are not relayed over HTTP/2 (nothing here needs 100 Continue).
  }

  relayHead(req: ClientRequest, statusCode: number, _statusMessage: string, raw: readonly string[], noBody: boolean): void {
    const stream = this.#stream;
    if (stream.destroyed) return;
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
          continue;
        default:
          break;
      }
      const lower = name.toLowerCase();
      if (named !== null && named.has(lower)) continue;
      const v = raw[i + 1]!;
      const prev = headers[lower];
      if (prev === undefined) headers[lower] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else headers[lower] = [String(prev), v];
    }
    const cookies = req.setCookies;
    if (cookies !== null) {
      // Stickiness cookies join the target's own (HTTP/2 sends each as its own field line).
      const prev = headers['set-cookie'];
      headers['set-cookie'] = prev === undefined ? cookies : Array.isArray(prev) ? [...prev, ...cookies] : [String(prev), ...cookies];
    }
    req.responseStarted = true;
    try {
      stream.respond(headers, { endStream: noBody, waitForTrailers: !noBody });
    } catch {
      this.abortResponse(req);
      return;
    }
    if (!noBody) {
      stream.once('wantTrailers', () => {
        const t = this.#trailers;
        if (t === null || t.length === 0) {
          stream.close();
          return;
        }
        const out: Record<string, string> = {};
        for (let i = 0; i < t.length; i += 2) out[t[i]!.toLowerCase()] = t[i + 1]!;
        try {
          stream.sendTrailers(out);
        } catch {
          stream.close();
        }
      });
    }
  }

  relayBody(req: ClientRequest, chunk: Buffer): boolean {
    req.bytesOut += chunk.length;
    if (this.#stream.destroyed) return true;
    return this.#stream.write(chunk);
  }

  relayEnd(req: ClientRequest, trailers: readonly string[] | null): void {
    this.#trailers = trailers;
    const stream = this.#stream;
    if (!stream.destroyed && !stream.writableEnded) stream.end();
    this.#done(req);
  }

  abortResponse(req: ClientRequest): void {
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

  #done(req: ClientRequest): void {
    if (req.finished) return;
    req.finished = true;
    this.#ctx.onRequestDone(this, req);
  }
}
