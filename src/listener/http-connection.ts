/**
 * One client connection on an HTTP listener: HTTP/1.1 framing on the raw socket.
 *
 * Owns: feeding bytes to llhttp (strict), turning parse results into ClientRequests, keep-alive
 * and pipelining (requests are answered strictly in order; a pipelined request waits, with the
 * socket paused, until the one before it is done), the per-connection timers (request head
 * timeout → 408, idle keep-alive timeout, request body idle → 408, and the write timeout that
 * drops a client not reading its response), request body backpressure, and closing. What a
 * request *does* is decided by dispatch.ts; this file never routes.
 */
import type net from 'node:net';
import {
  HTTPParser,
  HPE_HEADER_OVERFLOW,
  LENIENT_NONE,
  METHODS,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageBegin,
  kOnMessageComplete,
  type HttpParser,
  type HttpParseError,
  type OnHeadersComplete,
} from '../proxy/http-parser.js';
import { ClientRequest } from './client-request.js';
import { renderErrorReply } from '../proxy/local-reply.js';
import { ProxyErrors, type ProxyErrorKind } from '../proxy/errors.js';
import type { ListenerContext } from './listener-context.js';
import type { Downstream } from '../proxy/downstream.js';
import type { CompiledFixedResponse } from '../config/compile.js';
import { buildResponseHead, responseFraming } from '../proxy/headers.js';
import { renderLocalReply } from '../proxy/local-reply.js';
import { Deadline } from '../util/deadline.js';

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/** How a response body is framed towards an HTTP/1.1 client. */
export const enum ResponseFraming {
  /** Content-Length from the target, or no body at all. */
  LENGTH = 0,
  /** Re-chunked for an HTTP/1.1 client. */
  CHUNKED = 1,
  /** Close-delimited (HTTP/1.0 client, unknown length). */
  CLOSE = 2,
}

function uncork(socket: { uncork(): void }): void {
  socket.uncork();
}

/** Unread request body bytes dropped to keep a connection after an early response. */
export const DISCARD_LIMIT = 1024 * 1024;

/**
 * The client's response head for a target's head, as an HTTP/1.1 client connection (raw socket
 * or native data path) relays it: the framing (Content-Length kept, else re-chunked for
 * HTTP/1.1, else close-delimited), keep-alive or close, and the stickiness cookies. Sets
 * `req.responseFraming` and `req.responseKeepAlive`. `mayKeepAlive`: the connection can go on
 * after this response (not draining, the request body done or small enough to drop).
 */
export function clientResponseHead(req: ClientRequest, statusCode: number, statusMessage: string, raw: readonly string[], noBody: boolean, mayKeepAlive: boolean): string {
  const f = responseFraming(raw);
  const lengthLine = chooseClientFraming(req, statusCode, f.contentLength, f.chunked, noBody, mayKeepAlive);
  let framing = '';
  if (req.responseFraming === ResponseFraming.CHUNKED) framing = 'transfer-encoding: chunked\r\n';
  else if (lengthLine) framing = 'content-length: ' + f.contentLength + CRLF;
  return buildResponseHead(statusCode, statusMessage, raw, framing, clientResponseExtra(req), false);
}

/**
 * The framing decision of clientResponseHead, from the target's Content-Length (-1: none) and
 * Transfer-Encoding: sets `req.responseFraming` and `req.responseKeepAlive`, and returns whether
 * the head carries the target's Content-Length line. The native path calls it directly (the
 * addon writes the head: native/src/relay.h).
 */
export function chooseClientFraming(req: ClientRequest, statusCode: number, contentLength: number, chunked: boolean, noBody: boolean, mayKeepAlive: boolean): boolean {
  let lengthLine: boolean;
  if (noBody) {
    lengthLine = contentLength >= 0 && statusCode !== 204;
    req.responseFraming = ResponseFraming.LENGTH;
  } else if (contentLength >= 0 && !chunked) {
    lengthLine = true;
    req.responseFraming = ResponseFraming.LENGTH;
  } else {
    lengthLine = false;
    req.responseFraming = req.versionMinor >= 1 ? ResponseFraming.CHUNKED : ResponseFraming.CLOSE;
  }
  req.responseKeepAlive = req.keepAlive && req.responseFraming !== ResponseFraming.CLOSE && !req.upgrade && mayKeepAlive;
  return lengthLine;
}

/** The lines clientResponseHead adds after the framing: Connection, and stickiness cookies. */
export function clientResponseExtra(req: ClientRequest): string {
  let extra = '';
  if (!req.responseKeepAlive) extra = 'connection: close\r\n';
  else if (req.versionMinor === 0) extra = 'connection: keep-alive\r\n';
  const cookies = req.setCookies;
  if (cookies !== null) for (let i = 0; i < cookies.length; i++) extra += 'set-cookie: ' + cookies[i]! + CRLF;
  return extra;
}

const enum Timer {
  NONE,
  IDLE,
  HEAD,
  /** A request body stopped arriving while we were reading it (idle timeout → 408). */
  BODY,
}

export class ClientConnection implements Downstream {
  readonly socket: net.Socket;
  readonly ctx: ListenerContext;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #parser: HttpParser;
  /** The request whose response is being produced. */
  current: ClientRequest | null;
  /** Requests fully parsed (head at least) waiting for `current` to finish. */
  #queue: ClientRequest[];
  /** The request whose body the parser is reading. */
  #parsing: ClientRequest | null;
  #headers: string[];
  #url: string;
  /**
   * Body bytes still due of the Content-Length request being read, when we frame the body
   * ourselves: llhttp parses heads (and chunked bodies); a Content-Length body is counted here
   * and handed on as slices of the socket's reads, without llhttp's copy of every chunk.
   */
  #bodyLeft: number;
  readonly #maxHeadBytes: number;
  /** The idle, request-head or request-body timeout, whichever is running (#timerKind). */
  readonly #deadline: Deadline;
  #timerKind: Timer;
  /** After the final response: how long the client gets to close its side. */
  #endTimer: NodeJS.Timeout | null;
  /** A parse error waiting for `current` to finish before it is answered. */
  #pendingError: ProxyErrorKind | null;
  /** A finished request whose remaining body is being read and dropped. */
  #awaitingBody: ClientRequest | null;
  #closing: boolean;
  /** The last response is written and the connection is closing: further input is dropped. */
  #ended: boolean;
  #closed: boolean;
  #tunnel: boolean;
  /** Called when the socket drains after a write returned false. */
  drainWaiter: (() => void) | null;
  /** Client-certificate header lines for forwarded requests (mutual TLS); '' otherwise. */
  extraRequestHeaders: string;
  /** Header names clients may not send to targets on this connection (mutual TLS). */
  reservedRequestHeaders: ReadonlySet<string> | null;
  readonly canUpgrade = true;
  /** Runs while response bytes wait in the socket: a client that stops reading is dropped. */
  #writeTimer: NodeJS.Timeout | null;
  /** Bytes the socket had finished writing when the write timer was (re)armed. */
  #writeDone: number;

  constructor(socket: net.Socket, ctx: ListenerContext) {
    this.socket = socket;
    this.ctx = ctx;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    const settings = ctx.listener.settings;
    this.#parser = new HTTPParser();
    this.#maxHeadBytes = settings.maxRequestHeaderBytes;
    this.#resetParser();
    this.current = null;
    this.#queue = [];
    this.#parsing = null;
    this.#headers = [];
    this.#url = '';
    this.#bodyLeft = 0;
    // Checked at least every min(head, idle) timeout: moving the deadline per request is free.
    const head = settings.requestHeaderTimeoutMs;
    const idle = settings.idleTimeoutMs;
    const period = head > 0 && (idle <= 0 || head < idle) ? head : idle > 0 ? idle : 60_000;
    this.#deadline = new Deadline(period, () => this.#onTimer(this.#timerKind));
    this.#timerKind = Timer.NONE;
    this.#endTimer = null;
    this.#pendingError = null;
    this.#awaitingBody = null;
    this.#closing = false;
    this.#ended = false;
    this.#closed = false;
    this.#tunnel = false;
    this.drainWaiter = null;
    this.extraRequestHeaders = '';
    this.reservedRequestHeaders = null;
    this.#writeTimer = null;
    this.#writeDone = 0;
    this.#installParser();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      const w = this.drainWaiter;
      if (w !== null) {
        this.drainWaiter = null;
        w();
      }
    });
    socket.on('error', () => this.#onClose());
    socket.on('close', () => this.#onClose());
    socket.on('end', () => {
      // The client's FIN. A FIN after a request looks the same as a client that closed and
      // left, so it is taken as leaving (as nginx and Go's server do; HAProxy serves a
      // half-closed client instead): the socket is not half-open, Node ends our side too, and
      // the 'close' that follows cancels what is in flight at the target. Why not the other:
      // serving half-closed clients kept abandoned requests (a closed browser tab, a long
      // poll) running at the target until their response was written (tried; two tests of
      // prompt cancellation failed).
      if (this.current === null && this.#queue.length === 0) this.destroy();
      else this.#closing = true;
    });
    this.#arm(Timer.IDLE);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when nothing is in flight (graceful shutdown closes such connections at once). */
  get idle(): boolean {
    return this.current === null && this.#queue.length === 0 && this.#parsing === null;
  }

  get draining(): boolean {
    return this.ctx.draining;
  }

  onDrain(cb: () => void): void {
    this.drainWaiter = cb;
  }

  // --- Downstream: responses ---------------------------------------------------------------

  replyFixed(req: ClientRequest, action: CompiledFixedResponse): void {
    const close = !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
    const head = req.method === 'HEAD';
    const buf = close ? (head ? action.closeHead : action.close) : head ? action.keepAliveHead : action.keepAlive;
    req.status = action.statusCode;
    req.bytesOut += buf.length;
    req.responseStarted = true;
    this.write(buf);
    this.finishResponse(req, !close);
  }

  replyRedirect(req: ClientRequest, statusCode: number, location: string): void {
    const close = !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
    const buf = renderLocalReply({ status: statusCode, headers: [['Location', location]], close, headOnly: req.method === 'HEAD' });
    req.status = statusCode;
    req.bytesOut += buf.length;
    req.responseStarted = true;
    this.write(buf);
    this.finishResponse(req, !close);
  }

  relayInterim(req: ClientRequest, statusCode: number, statusMessage: string, raw: readonly string[]): void {
    // 100 Continue, 103 Early Hints: only HTTP/1.1 clients understand them.
    if (req.versionMinor >= 1) this.write(buildResponseHead(statusCode, statusMessage, raw, '', '', false));
  }

  relayHead(req: ClientRequest, statusCode: number, statusMessage: string, raw: readonly string[], noBody: boolean): void {
    const head = clientResponseHead(req, statusCode, statusMessage, raw, noBody, !this.ctx.draining && this.canContinueAfter(req));
    req.bytesOut += head.length;
    req.responseStarted = true;
    // Head and the first body bytes of this read leave in one write.
    this.socket.cork();
    process.nextTick(uncork, this.socket);
    this.write(head);
  }

  relayBody(req: ClientRequest, chunk: Buffer): boolean {
    req.bytesOut += chunk.length;
    if (req.responseFraming !== ResponseFraming.CHUNKED) return this.write(chunk);
    const socket = this.socket;
    socket.cork();
    this.write(chunk.length.toString(16) + CRLF);
    this.write(chunk);
    const ok = this.write(CRLF);
    socket.uncork();
    return ok;
  }

  relayEnd(req: ClientRequest, trailers: readonly string[] | null): void {
    if (req.responseFraming === ResponseFraming.CHUNKED) {
      if (trailers !== null && trailers.length > 0) {
        let t = '0\r\n';
        for (let i = 0; i < trailers.length; i += 2) t += trailers[i] + ': ' + trailers[i + 1] + CRLF;
        this.write(t + CRLF);
      } else {
        this.write(LAST_CHUNK);
      }
    }
    this.finishResponse(req, req.responseKeepAlive);
  }

  /** Writes response bytes; false means wait for drain (set `drainWaiter`). */
  write(data: Buffer | string): boolean {
    if (this.#closed) return true;
    // Heads are byte strings: llhttp reads latin1, and configured text is UTF-8 bytes already.
    const ok = this.socket.write(data, 'latin1');
    if (this.#writeTimer === null && this.socket.writableLength > 0) this.#armWriteTimer();
    return ok;
  }

  /** Pauses reading from the client (request body backpressure, pipelining). */
  pauseReading(): void {
    this.socket.pause();
    this.#bodyTimer();
  }

  resumeReading(): void {
    if (!this.#closed && this.#queue.length === 0) this.socket.resume();
    this.#bodyTimer();
  }

  /**
   * Whether the connection can go on after `req` were answered now: its body is complete, or
   * the rest is small enough to read and drop (see finishResponse). A response head written
   * while this is false must say `Connection: close`.
   */
  canContinueAfter(req: ClientRequest): boolean {
    if (req.closeConnection) return false;
    return req.bodyComplete || (!req.chunked && req.contentLength - req.bodyBytes <= DISCARD_LIMIT);
  }

  /**
   * The response to `req` is complete on the wire. Starts the next pipelined request, or
   * waits for one with the idle timer armed, or closes.
   */
  finishResponse(req: ClientRequest, keepAlive: boolean): void {
    if (req.finished) return;
    req.finished = true;
    this.ctx.onRequestDone(this, req);
    if (this.current === req) this.current = null;
    if (this.#tunnel) return;
    if (!keepAlive || !req.keepAlive || this.ctx.draining) {
      this.#end();
      return;
    }
    if (!req.bodyComplete) {
      // Answered before the request body ended: read and drop the rest of a bounded body,
      // then go on; a large or unbounded one ends the connection.
      if (this.canContinueAfter(req)) {
        this.#awaitingBody = req;
        this.socket.resume();
        this.#bodyTimer();
        return;
      }
      this.#end();
      return;
    }
    this.#next();
  }

  /** Ends the connection after a response that could not be completed (never padded). */
  abortResponse(req: ClientRequest): void {
    if (!req.finished) {
      req.finished = true;
      this.ctx.onRequestDone(this, req);
    }
    if (this.current === req) this.current = null;
    // What was relayed so far (the head may still be corked for this tick) leaves before the
    // cut, so the client sees a truncated response rather than none.
    while (this.socket.writableCorked > 0) this.socket.uncork();
    this.destroy();
  }

  /** Answers `req` with a generated error and, when `close`, ends the connection. */
  replyError(req: ClientRequest, kind: ProxyErrorKind, close = false, extra?: readonly (readonly [string, string])[]): void {
    if (req.finished) return; // already answered (or the client left): one response per request
    const mustClose = close || !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
    req.status = kind.status;
    req.error = kind.code;
    const buf = renderErrorReply(kind.status, kind.reason, mustClose, req.method === 'HEAD', extra);
    req.bytesOut += buf.length;
    req.responseStarted = true;
    this.write(buf);
    this.finishResponse(req, !mustClose);
  }

  /** Switches to a raw tunnel (WebSocket after a 101): no more HTTP on this connection. */
  enterTunnel(req: ClientRequest): net.Socket {
    this.#tunnel = true;
    this.finishResponse(req, false);
    this.#clearTimer();
    this.#clearWriteTimer();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('drain');
    this.socket.removeAllListeners('end');
    this.#parser.free();
    return this.socket;
  }

  destroy(): void {
    if (this.#closed) return;
    this.socket.destroy();
    this.#onClose();
  }

  /** Graceful shutdown: close now when idle, else after the current response. */
  shutdown(): void {
    if (this.idle) this.destroy();
    else this.#closing = true;
  }

  #end(): void {
    this.#closing = true;
    this.#ended = true;
    this.#clearTimer();
    this.socket.end();
    this.socket.resume();
    // Don't wait forever for the client to close its side.
    if (this.#endTimer === null) {
      this.#endTimer = setTimeout(() => this.destroy(), 5000);
      this.#endTimer.unref();
    }
  }

  #next(): void {
    if (this.#closed) return;
    if (this.#pendingError !== null && this.#queue.length === 0) {
      const kind = this.#pendingError;
      this.#pendingError = null;
      this.#replyParseError(kind);
      return;
    }
    const next = this.#queue.shift();
    if (next === undefined) {
      if (this.#closing) {
        this.#end();
        return;
      }
      if (this.#parsing === null) this.#arm(Timer.IDLE);
      this.socket.resume();
      this.#bodyTimer();
      return;
    }
    // Reading stopped when `next` was queued; its body (or the next request) may still be on
    // the way. An upgrade's tunnel bytes wait for the 101 instead.
    if (this.#queue.length === 0 && !next.upgrade) this.socket.resume();
    this.#start(next);
    this.#bodyTimer();
  }

  #start(req: ClientRequest): void {
    this.current = req;
    this.ctx.dispatch(this, req);
  }

  /**
   * Runs the body timer while a request body is expected and we are reading (not while reading
   * is paused for backpressure or pipelining: that wait is ours, not the client's).
   */
  #bodyTimer(): void {
    const req = this.#parsing;
    if (req !== null && !req.bodyComplete && !this.#ended && !this.#closed && !this.socket.isPaused()) this.#arm(Timer.BODY);
    else if (this.#timerKind === Timer.BODY) this.#clearTimer();
  }

  #arm(kind: Timer): void {
    const s = this.ctx.listener.settings;
    const ms = kind === Timer.HEAD ? s.requestHeaderTimeoutMs : s.idleTimeoutMs;
    if (ms <= 0) {
      this.#clearTimer();
      return;
    }
    this.#timerKind = kind;
    this.#deadline.set(ms);
  }

  #clearTimer(): void {
    this.#deadline.clear();
    this.#timerKind = Timer.NONE;
  }

  /**
   * Response bytes wait in the socket. If the client takes none of them for the idle timeout
   * (no write to the kernel completes), it is a slow reader: the connection is dropped, so it
   * cannot hold a target connection and its buffers indefinitely. One timer per connection,
   * re-armed only on progress, so a busy connection does not create a timer per write.
   */
  #armWriteTimer(): void {
    const ms = this.ctx.listener.settings.idleTimeoutMs;
    if (ms <= 0) return;
    this.#writeDone = this.#bytesFlushed();
    this.#writeTimer = setTimeout(() => this.#onWriteTimer(), ms);
    this.#writeTimer.unref();
  }

  /** Bytes whose write to the kernel has completed (bytesWritten counts queued ones too). */
  #bytesFlushed(): number {
    return (this.socket.bytesWritten ?? 0) - this.socket.writableLength;
  }

  #onWriteTimer(): void {
    const t = this.#writeTimer;
    if (t === null || this.#closed || this.#tunnel) return;
    if (this.socket.writableLength === 0) {
      this.#writeTimer = null;
      return;
    }
    const done = this.#bytesFlushed();
    if (done !== this.#writeDone) {
      // Progress: the client is reading, however slowly.
      this.#writeDone = done;
      t.refresh();
      return;
    }
    this.#writeTimer = null;
    const cur = this.current;
    if (cur !== null && !cur.finished) cur.error = 'SY_ERR_CLIENT_WRITE_TIMEOUT';
    this.destroy();
  }

  #clearWriteTimer(): void {
    if (this.#writeTimer !== null) clearTimeout(this.#writeTimer);
    this.#writeTimer = null;
  }

  #onTimer(kind: Timer): void {
    this.#timerKind = Timer.NONE;
    if (kind === Timer.IDLE) {
      if (this.idle) this.destroy();
      return;
    }
    if (kind === Timer.BODY) {
      this.#onBodyTimeout();
      return;
    }
    // Request head not complete in time.
    if (this.current === null) this.#replyParseError(ProxyErrors.HEAD_TIMEOUT);
    else {
      this.#pendingError = ProxyErrors.HEAD_TIMEOUT;
      this.socket.pause();
    }
  }

  #installParser(): void {
    const p = this.#parser;
    p[kOnMessageBegin] = () => {
      // First byte of a request head: the head timeout (408) runs from here.
      this.#arm(Timer.HEAD);
    };
    p[kOnHeaders] = (headers: string[], url: string) => {
      for (let i = 0; i < headers.length; i++) this.#headers.push(headers[i]!);
      this.#url += url;
    };
    const onHeadersComplete: OnHeadersComplete = (
      major, minor, headers, method, url, _status, _message, upgrade, shouldKeepAlive,
    ) => {
      if (this.#ended || this.#pendingError !== null) {
        // The connection ends after its final response (or a pending error): nothing more is
        // served on it.
        this.#headers = [];
        this.#url = '';
        return 0;
      }
      let raw = headers;
      if (raw === undefined) {
        raw = this.#headers;
        this.#headers = [];
      } else if (this.#headers.length > 0) {
        for (let i = 0; i < raw.length; i++) this.#headers.push(raw[i]!);
        raw = this.#headers;
        this.#headers = [];
      }
      let target = url ?? '';
      if (this.#url !== '') {
        target = this.#url + target;
        this.#url = '';
      }
      const req = new ClientRequest(
        METHODS[method ?? -1] ?? 'UNKNOWN',
        target,
        minor,
        raw,
        shouldKeepAlive,
        upgrade,
        this.ctx.listener,
        performance.now(),
      );
      req.versionMajor = major;
      this.#parsing = req;
      if (this.#timerKind === Timer.HEAD) this.#clearTimer();
      this.ctx.inspectHead(this, req);
      if (this.current === null && this.#pendingError === null) {
        this.#start(req);
      } else {
        // Pipelined: answer in order; stop reading until the earlier responses are done.
        this.#queue.push(req);
        this.socket.pause();
      }
      this.#bodyTimer();
      if (!upgrade && !req.chunked && req.contentLength > 0 && Number.isSafeInteger(req.contentLength) && this.#parsing === req) {
        // llhttp has refused every ambiguous framing (CL with TE, two CLs, a bad CL) by now.
        // 2: it stops after this head, and #onData counts the body off itself.
        this.#bodyLeft = req.contentLength;
        return 2;
      }
      return 0;
    };
    p[kOnHeadersComplete] = onHeadersComplete;
    p[kOnBody] = (chunk: Buffer) => this.#onBody(chunk);
    p[kOnMessageComplete] = () => {
      // llhttp ends its message right after a head whose body we count ourselves (#bodyLeft).
      if (this.#bodyLeft === 0) this.#onMessageComplete();
    };
  }

  #onBody(chunk: Buffer): void {
    const req = this.#parsing;
    if (req === null) return;
    req.bodyBytes += chunk.length;
    req.bytesIn += chunk.length;
    if (!req.finished) {
      const limit = req.listener.settings.maxRequestBodyBytes;
      if (limit > 0 && req.bodyBytes > limit) {
        // A chunked body (or one behind a pipelined request) grew over the limit while streaming.
        this.#bodyTooLarge(req);
        return;
      }
      if (req.sink !== null) req.sink.onBody(chunk);
      else if (req.hold(chunk)) this.pauseReading();
    }
    this.#bodyTimer();
  }

  #onMessageComplete(): void {
    // Trailer fields of a chunked body arrive through kOnHeaders: drop them here, or they
    // would be taken for the next request's header fields (and its URL would gain a prefix).
    // Trailers are never forwarded (the body is re-framed without them).
    this.#headers = [];
    this.#url = '';
    const req = this.#parsing;
    this.#parsing = null;
    if (req === null) return;
    req.bodyComplete = true;
    if (this.#timerKind === Timer.BODY) this.#clearTimer();
    if (req.sink !== null && !req.finished) req.sink.onBodyEnd();
    if (this.#awaitingBody === req) {
      this.#awaitingBody = null;
      this.#next();
    }
  }

  #onData(chunk: Buffer): void {
    // After the final response, input is read and dropped (reading on avoids a reset that could
    // destroy the response before the client has read it).
    if (this.#closed || this.#ended) return;
    let from = 0;
    if (this.#bodyLeft > 0) {
      from = this.#takeBody(chunk, 0);
      if (from === chunk.length) return;
    }
    // Heads (and chunked bodies) go through llhttp; each Content-Length body it hands back.
    for (;;) {
      if (this.#closed || this.#ended) return;
      const data = from === 0 ? chunk : chunk.subarray(from);
      const ret = this.#parser.execute(data);
      if (typeof ret !== 'number') {
        this.#onParseError(ret as HttpParseError);
        return;
      }
      if (this.#bodyLeft > 0) {
        if (this.#closed || this.#ended) return;
        // llhttp took the head for an upgrade and would keep that mark: without a reset it
        // would report no error for the next message.
        this.#resetParser();
        if (ret >= data.length) return;
        from = this.#takeBody(chunk, from + ret);
        if (from === chunk.length) return;
        continue;
      }
      if (ret >= data.length) return;
      // An upgrade request: the rest is tunnel data for after the target's 101.
      const req = this.#parsing ?? this.current;
      if (req !== null && req.upgrade) {
        req.upgradeHead = data.subarray(ret);
        this.socket.pause();
      }
      return;
    }
  }

  #resetParser(): void {
    // llhttp counts the whole head against maxHeaderSize (431 above it).
    this.#parser.initialize(HTTPParser.REQUEST, {}, this.#maxHeadBytes, LENIENT_NONE);
  }

  /** Takes the Content-Length body bytes of `chunk` from `from` on; returns where they end. */
  #takeBody(chunk: Buffer, from: number): number {
    const avail = chunk.length - from;
    const n = avail < this.#bodyLeft ? avail : this.#bodyLeft;
    this.#bodyLeft -= n;
    this.#onBody(n === chunk.length ? chunk : chunk.subarray(from, from + n));
    if (this.#bodyLeft === 0 && !this.#closed) this.#onMessageComplete();
    return from + n;
  }

  #onParseError(err: HttpParseError): void {
    if (this.#ended) return;
    const kind = err.code === HPE_HEADER_OVERFLOW ? ProxyErrors.HEADERS_TOO_LARGE : ProxyErrors.BAD_REQUEST;
    this.ctx.onParseError(this, err);
    this.socket.pause();
    if (this.#parsing !== null && this.#parsing.sink !== null) {
      // A malformed body (bad chunk framing) of a request already forwarded: cut it off.
      const req = this.#parsing;
      this.#parsing = null;
      req.sink?.abort();
      if (!req.responseStarted) this.replyError(req, kind, true);
      else this.abortResponse(req);
      return;
    }
    if (this.#parsing !== null && this.#parsing === this.current) {
      const req = this.#parsing;
      this.#parsing = null;
      if (!req.responseStarted) this.replyError(req, kind, true);
      else this.abortResponse(req);
      return;
    }
    if (this.current !== null) {
      this.#pendingError = kind;
      return;
    }
    this.#replyParseError(kind);
  }

  /** No request body bytes for the idle timeout while we were reading them. */
  #onBodyTimeout(): void {
    const req = this.#parsing;
    if (req === null || req.bodyComplete) return;
    if (req.finished) {
      // Answered already; we were only draining the rest of its body.
      this.destroy();
      return;
    }
    if (req !== this.current) return; // queued behind a request in flight: reading is paused
    if (req.responseStarted) return; // the target is answering; the exchange owns the outcome
    this.#parsing = null;
    this.socket.pause();
    req.sink?.abort();
    req.detach();
    req.bodyChunks = [];
    this.replyError(req, ProxyErrors.BODY_TIMEOUT, true);
  }

  /** The body of `req` went over maxRequestBodyBytes: 413 when possible, else cut; then close. */
  #bodyTooLarge(req: ClientRequest): void {
    this.#parsing = null;
    req.bodyChunks = [];
    this.socket.pause();
    if (req !== this.current) {
      // Pipelined behind a request in flight: answered in turn, after the ones before it.
      const i = this.#queue.indexOf(req);
      if (i >= 0) this.#queue.splice(i, 1);
      this.#pendingError = ProxyErrors.BODY_TOO_LARGE;
      return;
    }
    req.sink?.abort();
    req.detach();
    if (!req.responseStarted) this.replyError(req, ProxyErrors.BODY_TOO_LARGE, true);
    else this.abortResponse(req);
  }

  #replyParseError(kind: ProxyErrorKind): void {
    const buf = renderErrorReply(kind.status, kind.reason, true);
    this.ctx.onLocalError(this, kind);
    this.write(buf);
    this.#end();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deadline.stop();
    this.#timerKind = Timer.NONE;
    if (this.#endTimer !== null) clearTimeout(this.#endTimer);
    this.#endTimer = null;
    this.#clearWriteTimer();
    this.drainWaiter = null;
    const cur = this.current;
    if (cur !== null && !cur.finished) {
      cur.sink?.abort();
      if (cur.status === 0) cur.error = 'SY_ERR_CLIENT_CLOSED';
      cur.finished = true;
      this.ctx.onRequestDone(this, cur);
    }
    this.current = null;
    this.#queue.length = 0;
    if (!this.#tunnel) this.#parser.free();
    this.ctx.onConnectionClosed(this);
  }
}
