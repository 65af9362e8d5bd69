/**
 * One client connection on the native data path: the Downstream that dispatch and Exchange talk
 * to when the addon holds the socket (docs/decisions/0017-native-data-path.md).
 *
 * Owns: turning the addon's parsed heads into ClientRequests, the response decisions a
 * ClientConnection makes (the client's head, framing, keep-alive or end, local replies), and
 * handing the connection to the TypeScript engine when the addon or the listener's actions
 * call for it. Mirrors src/listener/http-connection.ts wherever both make the same decision;
 * what differs is only where the bytes go (the addon writes them and relays bodies).
 */
import net from 'node:net';
import type { CompiledFixedResponse } from '../config/compile.js';
import { ClientRequest } from '../listener/client-request.js';
import type { ListenerConnection, ListenerContext } from '../listener/listener-context.js';
import type { Downstream, ResponseTimer } from '../proxy/downstream.js';
import { Deadline } from '../util/deadline.js';
import { ProxyErrors, type ProxyErrorKind } from '../proxy/errors.js';
import { renderErrorReply, renderLocalReply } from '../proxy/local-reply.js';
import { DISCARD_LIMIT, ResponseFraming, chooseClientFraming, clientResponseExtra } from '../listener/http-connection.js';
import { NativeClose, NativeFraming } from './addon.js';
import { nativeServes, type NativeEngine } from './engine.js';
import type { NativeUpstreamLink } from './native-pool.js';


/** What the listener gives a native connection besides the ListenerContext. */
export interface NativeListenerContext extends ListenerContext {
  /** The addon handed the connection back: the TypeScript engine serves it from here. */
  handOver(from: NativeClientConnection, socket: net.Socket): void;
}

export class NativeClientConnection implements Downstream, ListenerConnection {
  readonly id: number;
  readonly ctx: NativeListenerContext;
  readonly engine: NativeEngine;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly extraRequestHeaders = '';
  readonly reservedRequestHeaders = null;
  readonly canUpgrade = false;
  current: ClientRequest | null;
  /** The target link of the current exchange (set when its head is sent). */
  up: NativeUpstreamLink | null;
  #closed: boolean;
  readonly responseTimer: ResponseTimer;

  constructor(engine: NativeEngine, id: number, ctx: NativeListenerContext, remoteAddress: string, remotePort: number) {
    this.engine = engine;
    this.id = id;
    this.ctx = ctx;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.current = null;
    this.up = null;
    this.#closed = false;
    this.responseTimer = new ConnectionResponseTimer();
    engine.clients.set(id, this);
  }

  get draining(): boolean {
    return this.ctx.draining;
  }

  get idle(): boolean {
    return this.current === null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- from the addon ----------------------------------------------------------------------

  /** A clean request head. Returns false to hand the connection (and this head) over. */
  onHead(method: string, url: string, minor: number, raw: string[], contentLength: number, keepAlive: boolean, bodyComplete: boolean): boolean {
    const listener = this.ctx.listener;
    if (!nativeServes(listener)) return false;
    const req = new ClientRequest(method, url, minor, raw, keepAlive, false, listener, performance.now());
    req.scannedClean = true;
    req.contentLength = contentLength;
    req.bodyComplete = bodyComplete;
    if (bodyComplete && contentLength > 0) this.#bodyArrived(req);
    this.current = req;
    this.up = null;
    this.ctx.dispatch(this, req);
    return true;
  }

  onBodyDone(): void {
    const req = this.current;
    if (req === null || req.bodyComplete) return;
    req.bodyComplete = true;
    this.#bodyArrived(req);
    if (req.sink !== null && !req.finished) req.sink.onBodyEnd();
  }

  /** No request body bytes for the idle timeout while we were reading them (as ClientConnection). */
  onBodyTimeout(): void {
    const req = this.current;
    if (req === null || req.bodyComplete || req.finished || req.responseStarted) return;
    req.sink?.abort();
    req.detach();
    this.replyError(req, ProxyErrors.BODY_TIMEOUT, true);
  }

  onHandover(fd: number, pending: Buffer): void {
    this.#closed = true;
    const socket = new net.Socket({ fd, readable: true, writable: true });
    if (pending.length > 0) socket.unshift(pending);
    this.ctx.handOver(this, socket);
  }

  onClose(reason: number, bodyOut = 0): void {
    if (this.#closed) return;
    this.#closed = true;
    (this.responseTimer as ConnectionResponseTimer).stop();
    const cur = this.current;
    this.current = null;
    if (cur !== null && !cur.finished) {
      cur.bytesOut += bodyOut;
      cur.sink?.abort();
      if (reason === NativeClose.WRITE_TIMEOUT) cur.error = 'SY_ERR_CLIENT_WRITE_TIMEOUT';
      else if (cur.status === 0) cur.error = 'SY_ERR_CLIENT_CLOSED';
      cur.finished = true;
      this.ctx.onRequestDone(this, cur);
    }
    this.ctx.onConnectionClosed(this);
  }

  // --- Downstream ----------------------------------------------------------------------------

  replyFixed(req: ClientRequest, action: CompiledFixedResponse): void {
    const close = !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
    const head = req.method === 'HEAD';
    const buf = close ? (head ? action.closeHead : action.close) : head ? action.keepAliveHead : action.keepAlive;
    req.status = action.statusCode;
    this.#reply(req, buf, close);
  }

  replyRedirect(req: ClientRequest, statusCode: number, location: string): void {
    const close = !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
    req.status = statusCode;
    this.#reply(req, renderLocalReply({ status: statusCode, headers: [['Location', location]], close, headOnly: req.method === 'HEAD' }), close);
  }

  replyError(req: ClientRequest, kind: ProxyErrorKind, close = false, extra?: readonly (readonly [string, string])[]): void {
    if (req.finished) return;
    const mustClose = close || !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
    req.status = kind.status;
    req.error = kind.code;
    this.#reply(req, renderErrorReply(kind.status, kind.reason, mustClose, req.method === 'HEAD', extra), mustClose);
  }

  #reply(req: ClientRequest, buf: Buffer, close: boolean): void {
    req.bytesOut += buf.length;
    req.responseStarted = true;
    this.engine.addon.clientWrite(this.id, buf);
    this.finishResponse(req, !close);
  }

  relayInterim(_req: ClientRequest): void {
    // Native requests are HTTP/1.1: interim heads go out (built by the addon from the target's;
    // not counted in the response's bytes, as on the TypeScript path).
    const up = this.up;
    if (up !== null) this.engine.addon.relayInterim(this.id, up.id);
  }

  relayHead(req: ClientRequest, statusCode: number, _statusMessage: string, _raw: readonly string[], noBody: boolean): void {
    // The addon builds the head from the target's (native/src/relay.h): here only the decisions
    // clientResponseHead makes. Native requests are HTTP/1.1: a chunked body is relayed as a
    // chunked one, one of unknown length re-chunked (the addon frames it as decided here).
    const up = this.up!;
    const mayKeepAlive = !this.ctx.draining && this.canContinueAfter(req);
    const lengthLine = chooseClientFraming(req, statusCode, up.responseContentLength, up.responseChunked, noBody, mayKeepAlive);
    const mode = req.responseFraming === ResponseFraming.CHUNKED ? NativeFraming.CHUNKED : req.responseFraming === ResponseFraming.CLOSE ? NativeFraming.CLOSE : NativeFraming.LENGTH;
    req.responseStarted = true;
    req.bytesOut += this.engine.addon.respond(this.id, up.id, mode, lengthLine, clientResponseExtra(req));
  }

  /** Bodies are relayed by the addon; this is only reached if an exchange hands one over anyway. */
  relayBody(req: ClientRequest, chunk: Buffer): boolean {
    req.bytesOut += chunk.length;
    return this.engine.addon.clientWrite(this.id, chunk);
  }

  relayEnd(req: ClientRequest, _trailers: readonly string[] | null): void {
    // The addon relayed the body's end (last chunk and trailers as the target sent them).
    this.finishResponse(req, req.responseKeepAlive);
  }

  abortResponse(req: ClientRequest): void {
    if (!req.finished) {
      req.finished = true;
      req.bytesOut += this.engine.addon.clientBodyOut(this.id);
      this.ctx.onRequestDone(this, req);
    }
    if (this.current === req) this.current = null;
    this.destroy();
  }

  onDrain(cb: () => void): void {
    // Body backpressure is the addon's; nothing waits here.
    queueMicrotask(cb);
  }

  pauseReading(): void {}

  resumeReading(): void {}

  enterTunnel(): net.Socket {
    throw new Error('WebSocket upgrades are handed over to the TypeScript engine before dispatch');
  }

  // --- the connection ------------------------------------------------------------------------

  /** As ClientConnection.canContinueAfter: the body is complete, or the rest is small enough to drop. */
  canContinueAfter(req: ClientRequest): boolean {
    if (req.closeConnection) return false;
    return req.bodyComplete || this.engine.addon.clientBodyLeft(this.id) <= DISCARD_LIMIT;
  }

  finishResponse(req: ClientRequest, keepAlive: boolean): void {
    if (req.finished) return;
    req.finished = true;
    const addon = this.engine.addon;
    if (!req.bodyComplete) req.bytesIn += req.contentLength - addon.clientBodyLeft(this.id);
    if (this.#closed) req.bytesOut += addon.clientBodyOut(this.id);
    else {
      // The next request (or the end) is set up before the request is logged: the addon calls no
      // JavaScript from it (a pipelined head is scanned on the next loop turn).
      const end = !keepAlive || !req.keepAlive || this.ctx.draining || !this.canContinueAfter(req);
      req.bytesOut += addon.clientFinish(this.id, end);
    }
    if (this.current === req) this.current = null;
    this.up = null;
    this.ctx.onRequestDone(this, req);
  }

  destroy(): void {
    if (this.#closed) return;
    const bodyOut = this.engine.addon.clientBodyOut(this.id);
    this.engine.addon.clientDestroy(this.id);
    this.engine.clients.delete(this.id);
    this.onClose(NativeClose.CLOSED, bodyOut);
  }

  /** Graceful shutdown: close now when idle, else after the current response. */
  shutdown(): void {
    if (this.#closed) return;
    if (this.engine.addon.clientShutdown(this.id)) {
      this.engine.clients.delete(this.id);
      this.onClose(NativeClose.CLOSED);
    }
  }

  #bodyArrived(req: ClientRequest): void {
    req.bodyBytes = req.contentLength;
    req.bytesIn += req.contentLength;
  }
}

/** The response timeout of the one exchange in flight, on a Deadline that lives with the connection. */
class ConnectionResponseTimer implements ResponseTimer {
  #owner: { onResponseTimeout(): void } | null = null;
  #deadline: Deadline | null = null;

  arm(exchange: { onResponseTimeout(): void }, ms: number): void {
    this.#owner = exchange;
    (this.#deadline ??= new Deadline(ms, () => this.#expire())).set(ms);
  }

  clear(exchange: { onResponseTimeout(): void }): void {
    if (this.#owner !== exchange) return;
    this.#owner = null;
    this.#deadline?.clear();
  }

  stop(): void {
    this.#owner = null;
    this.#deadline?.stop();
  }

  #expire(): void {
    const owner = this.#owner;
    this.#owner = null;
    owner?.onResponseTimeout();
  }
}
