/**
 * Keep-alive HTTP/1.1 connections to one target, and the response side of the wire protocol.
 *
 * Owns: opening connections (with the group's connect timeout), reusing idle ones LIFO,
 * parsing responses with llhttp, and telling the one exchange that holds a connection what
 * happened (head, body, end, failure). A connection that misbehaves is destroyed, never
 * reused: unsolicited bytes while idle, bytes after a complete response, a parse error, a
 * response that ends before the request body was sent, a head that llhttp accepts but whose
 * framing is ambiguous (framing.ts `checkResponseHead`: → 502). Idle connections are closed after
 * IDLE_KEEPALIVE_MS, below the 5 s keep-alive timeout of Node servers, so that a target's own
 * idle close rarely races a new request; when it does, the exchange sees `stale` and may
 * replay on a fresh connection (see exchange.ts). For `protocol: HTTPS` groups the connection
 * is TLS (`tls` options from target-transport.ts): ready after the handshake, and a failed
 * handshake is a connect failure (502, retried elsewhere). Also defines what an exchange holds
 * (`UpstreamLink`) and what a target's pool offers (`TargetPool`), which the HTTP/2 pool
 * (h2-upstream.ts) implements too.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  HTTPParser,
  LENIENT_NONE,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageBegin,
  kOnMessageComplete,
  type HttpParser,
  type HttpParseError,
  type OnHeadersComplete,
} from './http-parser.js';
import type { NativeClientConnection } from '../native/native-connection.js';
import { NativeTargetPool } from '../native/native-pool.js';
import { ProxyErrors, type ProxyErrorKind } from './errors.js';
import { Deadline } from '../util/deadline.js';
import { checkResponseHead } from './framing.js';
import { buildRequestHead, responseFraming, type RequestHeadContext } from './headers.js';

/** Idle pooled connections are closed after this long (Node servers close theirs at 5 s). */
export const IDLE_KEEPALIVE_MS = 4000;
/** Largest response head accepted from a target; larger → 502. */
export const MAX_RESPONSE_HEADER_BYTES = 65536;
/** Idle connections kept per target at most (native pools too). */
export const MAX_IDLE_PER_TARGET = 256;

/** The flow-control side of a link: a TCP/TLS socket, or an HTTP/2 stream. */
export interface UpstreamFlow {
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * What an exchange holds while it talks to a target: an HTTP/1.1 connection (below) or an
 * HTTP/2 stream (h2-upstream.ts). The request goes out as `sendHead`, then `writeBody`
 * chunks, then `endBody`; responses come back through the UpstreamHandler callbacks.
 */
export interface UpstreamLink {
  /** True for an HTTP/2 stream (no WebSocket upgrade, no HTTP/1.1 framing). */
  readonly http2: boolean;
  readonly pool: { release(link: UpstreamLink): void };
  readonly socket: UpstreamFlow;
  readonly keepAlive: boolean;
  /** The current request is HEAD: the response has no body whatever its headers say. */
  expectNoBody: boolean;
  /** Sends the request head; the request stays corked until `socket.uncork()`. */
  sendHead(c: RequestHeadContext): void;
  /** A request body chunk (`chunked`: the request has no length); false: wait for 'drain'. */
  writeBody(chunk: Buffer, chunked: boolean): boolean;
  /** The request body is complete. */
  endBody(chunked: boolean): void;
  destroy(): void;
}

/** A target's connections, whatever the protocol: what Target and TargetGroupRuntime use. */
export interface TargetPool {
  connectTimeoutMs: number;
  /** Links in use by an exchange. */
  readonly activeCount: number;
  readonly idleCount: number;
  acquire(handler: UpstreamHandler, forceNew?: boolean): UpstreamLink;
  destroyAll(kind?: ProxyErrorKind): void;
  closeIdle(): void;
}

/** TLS towards a target (`protocol: HTTPS` groups): tls.connect options less host and port. */
export type UpstreamTls = Omit<tls.ConnectionOptions, 'host' | 'port' | 'socket'>;

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/** What an exchange must implement to use a connection. */
export interface UpstreamHandler {
  /** The connection is open (or was reused): write the request now. */
  onUpstreamReady(conn: UpstreamLink): void;
  /**
   * Response head. Return 0 to read a body, 1 to skip the body (HEAD), 2 for an upgrade (101)
   * after which the connection is handed over raw (see `takeSocket`).
   */
  onResponseHead(
    statusCode: number,
    statusMessage: string,
    rawHeaders: string[],
    versionMinor: number,
    keepAlive: boolean,
    upgrade: boolean,
  ): number;
  onResponseBody(chunk: Buffer): void;
  onResponseComplete(trailers: string[] | null): void;
  /**
   * The connection failed. `stale` is true when a reused connection closed before any
   * response byte arrived (the keep-alive race): the request may be replayed on a new one.
   */
  onUpstreamError(kind: ProxyErrorKind, cause: Error | null, stale: boolean, replayable?: boolean): void;
  /**
   * Whether onResponseHead reads the target's header fields (target stickiness does). The native
   * path asks, and passes an empty list when not (its addon builds the client's head itself).
   */
  readonly needsResponseFields?: boolean;
  /** Set when the client is on the native data path: the target connection must be native too. */
  readonly nativeClient?: NativeClientConnection | null;
  /** After a 101 head: take the socket (`conn.takeSocket()`); `rest` are tunnel bytes already read. */
  onUpgrade?(conn: UpstreamConnection, rest: Buffer): void;
}

export class UpstreamPool implements TargetPool {
  readonly host: string;
  readonly port: number;
  connectTimeoutMs: number;
  /** TLS options for `protocol: HTTPS` groups; null for plain TCP. */
  readonly tls: UpstreamTls | null;
  #idle: UpstreamConnection[];
  #active: Set<UpstreamConnection>;
  /** Connections the native data path holds to this target (created on first use). */
  #native: NativeTargetPool | null = null;

  constructor(host: string, port: number, connectTimeoutMs: number, tlsOptions: UpstreamTls | null = null) {
    this.host = host;
    this.port = port;
    this.connectTimeoutMs = connectTimeoutMs;
    this.tls = tlsOptions;
    this.#idle = [];
    this.#active = new Set();
  }

  get activeCount(): number {
    return this.#active.size + (this.#native?.active.size ?? 0);
  }

  get idleCount(): number {
    return this.#idle.length + (this.#native?.idle ?? 0);
  }

  /**
   * Binds `handler` to a connection: an idle one when available (ready at once), else a new
   * one (ready on connect). Failures arrive through `handler.onUpstreamError`.
   */
  acquire(handler: UpstreamHandler, forceNew = false): UpstreamLink {
    const native = handler.nativeClient;
    if (native !== undefined && native !== null && this.tls === null) {
      this.#native ??= new NativeTargetPool(this.host, this.port, () => this.connectTimeoutMs);
      return this.#native.acquire(handler, native, forceNew);
    }
    if (!forceNew) {
      while (this.#idle.length > 0) {
        const conn = this.#idle.pop()!;
        if (conn.alive) {
          this.#active.add(conn);
          conn.bind(handler);
          handler.onUpstreamReady(conn);
          return conn;
        }
      }
    }
    const conn = new UpstreamConnection(this);
    this.#active.add(conn);
    conn.bind(handler);
    conn.connect();
    return conn;
  }

  /** Returns a connection whose exchange finished cleanly. */
  release(conn: UpstreamConnection): void {
    this.#active.delete(conn);
    if (!conn.alive || this.#idle.length >= MAX_IDLE_PER_TARGET) {
      conn.destroy();
      return;
    }
    conn.park();
    this.#idle.push(conn);
  }

  /** Forgets a connection that closed. */
  forget(conn: UpstreamConnection): void {
    this.#active.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  /**
   * Closes every connection (draining finished, shutdown). An exchange still using one is told
   * (`kind`, default RESET), so its client gets a 502 or sees the response cut, never a hang.
   */
  destroyAll(kind: ProxyErrorKind = ProxyErrors.RESET): void {
    this.#native?.destroyAll(kind);
    for (const c of this.#idle.splice(0)) c.destroy();
    for (const c of [...this.#active]) c.abort(kind);
    this.#active.clear();
  }

  /** Closes idle connections only (graceful shutdown). */
  closeIdle(): void {
    this.#native?.closeIdle();
    for (const c of this.#idle.splice(0)) c.destroy();
  }
}

/** One TCP (or TLS) connection to a target, with its own response parser. */
export class UpstreamConnection implements UpstreamLink {
  readonly http2 = false;
  readonly pool: UpstreamPool;
  readonly socket: net.Socket;
  readonly #parser: HttpParser;
  #handler: UpstreamHandler | null;
  #connected: boolean;
  /** Served at least one response before the current request (keep-alive reuse). */
  reused: boolean;
  #responseBytes: number;
  /**
   * Body bytes still due of a Content-Length response that we frame ourselves (llhttp parsed
   * the head only): relayed as slices of the socket's reads, without llhttp's copy per chunk.
   */
  #bodyLeft: number;
  #headers: string[];
  #url: string;
  /** The current request is HEAD: the response has no body whatever its headers say. */
  expectNoBody: boolean;
  #interim: boolean;
  #finalDone: boolean;
  #poisoned: boolean;
  /** The response is malformed in a way llhttp accepts (an unrequested 101): fail with 502. */
  #badResponse: boolean;
  #upgradePending: boolean;
  #trailers: string[] | null;
  #keepAlive: boolean;
  #upgraded: boolean;
  #destroyed: boolean;
  #connectTimer: NodeJS.Timeout | null;
  /** Closes the connection after IDLE_KEEPALIVE_MS parked (moved per request without a timer). */
  readonly #idle: Deadline;
  /** TLS: the TCP connection is up (a failure from here on is the handshake's). */
  #tcpConnected: boolean;

  constructor(pool: UpstreamPool) {
    this.pool = pool;
    // A TLS connection starts here; connect() is called at once after (see UpstreamPool.acquire).
    this.socket = pool.tls === null ? new net.Socket() : tls.connect({ ...pool.tls, host: pool.host, port: pool.port });
    if (pool.tls !== null) this.socket.setNoDelay(true);
    this.#parser = new HTTPParser();
    this.#resetParser();
    this.#handler = null;
    this.#connected = false;
    this.reused = false;
    this.#responseBytes = 0;
    this.#bodyLeft = 0;
    this.#headers = [];
    this.#url = '';
    this.expectNoBody = false;
    this.#interim = false;
    this.#finalDone = false;
    this.#poisoned = false;
    this.#badResponse = false;
    this.#upgradePending = false;
    this.#trailers = null;
    this.#keepAlive = true;
    this.#upgraded = false;
    this.#destroyed = false;
    this.#connectTimer = null;
    this.#idle = new Deadline(IDLE_KEEPALIVE_MS, () => this.destroy());
    this.#tcpConnected = false;
    this.#installParser();
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.on('end', () => this.#onClose(null));
    this.socket.on('close', () => this.#onClose(null));
    this.socket.on('error', (err: Error) => this.#onClose(err));
  }

  get alive(): boolean {
    return !this.#destroyed && !this.#poisoned && this.#connected && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  bind(handler: UpstreamHandler): void {
    this.#idle.clear();
    this.#handler = handler;
    this.#responseBytes = 0;
    this.#bodyLeft = 0;
    this.#interim = false;
    this.#finalDone = false;
    this.#trailers = null;
    this.expectNoBody = false;
    this.socket.resume();
  }

  connect(): void {
    const pool = this.pool;
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      this.#fail(ProxyErrors.CONNECT_TIMEOUT, null, false);
    }, pool.connectTimeoutMs);
    const onConnected = (): void => {
      if (this.#connectTimer) clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
      this.#connected = true;
      const h = this.#handler;
      if (h) h.onUpstreamReady(this);
    };
    if (pool.tls !== null) {
      // The TLS connection was started by the constructor: ready once the handshake is done.
      this.socket.once('connect', () => (this.#tcpConnected = true));
      this.socket.once('secureConnect', onConnected);
      return;
    }
    this.socket.setNoDelay(true);
    this.socket.connect({ host: pool.host, port: pool.port }, onConnected);
  }

  /** Writes request bytes; false means the caller should wait for 'drain'. */
  write(data: Buffer | string): boolean {
    return this.socket.write(data, 'latin1');
  }

  /** The HTTP/1.1 request head; corked, so the first body bytes leave with it. */
  sendHead(c: RequestHeadContext): void {
    this.socket.cork();
    // Heads are byte strings (llhttp reads latin1; configured text is UTF-8 bytes, byteString).
    this.socket.write(buildRequestHead(c).head, 'latin1');
  }

  writeBody(chunk: Buffer, chunked: boolean): boolean {
    const socket = this.socket;
    if (!chunked) return socket.write(chunk);
    socket.write(chunk.length.toString(16) + CRLF, 'latin1');
    socket.write(chunk);
    return socket.write(CRLF);
  }

  endBody(chunked: boolean): void {
    if (chunked) this.socket.write(LAST_CHUNK, 'latin1');
  }

  /** The exchange let go: idle in the pool until reused or timed out. */
  park(): void {
    this.#handler = null;
    this.reused = true;
    this.#idle.set(IDLE_KEEPALIVE_MS);
  }

  /** Hands the raw socket over (after a 101): the parser and pool let go of it. */
  takeSocket(): net.Socket {
    this.#upgraded = true;
    this.#handler = null;
    this.pool.forget(this);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    this.#parser.free();
    return this.socket;
  }

  /** Closes the connection and tells its exchange, if any, that it failed with `kind`. */
  abort(kind: ProxyErrorKind): void {
    if (this.#destroyed) return;
    this.#fail(kind, null, false);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#handler = null;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#idle.stop();
    this.pool.forget(this);
    this.socket.destroy();
    if (!this.#upgraded) this.#parser.free();
  }

  #installParser(): void {
    const p = this.#parser;
    p[kOnMessageBegin] = () => {
      // A second response in one exchange, or one nobody asked for: never reuse this connection.
      if (this.#handler === null || this.#finalDone) this.#poisoned = true;
    };
    p[kOnHeaders] = (headers: string[], url: string) => {
      // More than 32 fields: the binding flushes them early; keep them for headersComplete.
      for (let i = 0; i < headers.length; i++) this.#headers.push(headers[i]!);
      this.#url += url;
    };
    const onHeadersComplete: OnHeadersComplete = (
      _major, minor, headers, _method, _url, statusCode, statusMessage, upgrade, shouldKeepAlive,
    ) => {
      let raw = headers;
      if (raw === undefined) {
        raw = this.#headers;
        this.#headers = [];
      }
      const h = this.#handler;
      if (h === null || this.#poisoned) {
        this.#poisoned = true;
        return 1;
      }
      const status = statusCode ?? 0;
      if (checkResponseHead(status, minor, raw, statusMessage ?? '') !== null) {
        // Status outside 100–599, TE other than one chunked, TE with CL, a CL that is not one
        // safe integer, a look-alike framing header: never relayed, never reused (502).
        this.#poisoned = true;
        this.#badResponse = true;
        return 1;
      }
      if (status >= 100 && status < 200 && status !== 101) {
        this.#interim = true;
        h.onResponseHead(status, statusMessage ?? '', raw, minor, shouldKeepAlive, false);
        return 0;
      }
      this.#interim = false;
      this.#keepAlive = shouldKeepAlive;
      const verdict = h.onResponseHead(status, statusMessage ?? '', raw, minor, shouldKeepAlive, upgrade && status === 101);
      if (verdict === 2) {
        this.#upgradePending = true;
        return 2;
      }
      if (status === 101) {
        // Switching protocols the exchange did not ask for.
        this.#poisoned = true;
        this.#badResponse = true;
        return 1;
      }
      if (this.expectNoBody && verdict === 0) return 1;
      if (verdict === 0 && status !== 204 && status !== 304) {
        // A Content-Length body (llhttp has refused every ambiguous framing by now): llhttp
        // stops after the head (2), and #onData relays the body bytes itself.
        const length = responseFraming(raw).contentLength;
        if (length > 0 && Number.isSafeInteger(length)) {
          this.#bodyLeft = length;
          return 2;
        }
      }
      return verdict;
    };
    p[kOnHeadersComplete] = onHeadersComplete;
    p[kOnBody] = (chunk: Buffer) => {
      const h = this.#handler;
      if (h !== null && !this.#poisoned) h.onResponseBody(chunk);
    };
    p[kOnMessageComplete] = () => {
      // A head whose body we frame ourselves (see #bodyLeft): llhttp ends its message here.
      if (this.#poisoned || this.#upgradePending || this.#bodyLeft > 0) return;
      if (this.#interim) {
        this.#interim = false;
        return;
      }
      if (this.#headers.length > 0) {
        this.#trailers = this.#headers;
        this.#headers = [];
      }
      // Delivered after execute() returns, so that any bytes behind the response in the same
      // chunk are seen (and poison the connection) before it can go back to the pool.
      this.#finalDone = true;
    };
  }

  #deliverComplete(): void {
    const h = this.#handler;
    const trailers = this.#trailers;
    this.#trailers = null;
    if (h !== null) h.onResponseComplete(trailers);
  }

  #onData(chunk: Buffer): void {
    if (this.#handler === null || this.#finalDone) {
      // Bytes on an idle connection, or after a complete response: never reuse it.
      this.destroy();
      return;
    }
    this.#responseBytes += chunk.length;
    if (this.#bodyLeft > 0) {
      this.#relayBody(chunk, 0);
      return;
    }
    const ret = this.#parser.execute(chunk);
    if (this.#upgradePending) {
      const h = this.#handler as UpstreamHandler | null;
      const rest = typeof ret === 'number' ? chunk.subarray(ret) : chunk.subarray(chunk.length);
      if (h?.onUpgrade) h.onUpgrade(this, rest);
      else this.destroy();
      return;
    }
    if (this.#badResponse) {
      this.#fail(ProxyErrors.BAD_RESPONSE, null, false);
      return;
    }
    if (typeof ret !== 'number') {
      if (this.#finalDone) {
        this.#poisoned = true;
        this.#deliverComplete();
        return;
      }
      this.#fail(ProxyErrors.BAD_RESPONSE, ret as HttpParseError, false);
      return;
    }
    if (this.#bodyLeft > 0) {
      if (this.#destroyed) return;
      // llhttp took the head for an upgrade and would keep that mark: without a reset it
      // would report no error for the next response.
      this.#resetParser();
      if (ret < chunk.length) this.#relayBody(chunk, ret);
      return;
    }
    if (this.#finalDone) this.#deliverComplete();
  }

  #resetParser(): void {
    this.#parser.initialize(HTTPParser.RESPONSE, {}, MAX_RESPONSE_HEADER_BYTES, LENIENT_NONE);
  }

  /** Relays the Content-Length body bytes of `chunk` from `from` on (see #bodyLeft). */
  #relayBody(chunk: Buffer, from: number): void {
    const avail = chunk.length - from;
    const n = avail < this.#bodyLeft ? avail : this.#bodyLeft;
    this.#bodyLeft -= n;
    const h = this.#handler;
    if (h !== null && !this.#poisoned) h.onResponseBody(n === chunk.length ? chunk : chunk.subarray(from, from + n));
    if (this.#bodyLeft > 0 || this.#destroyed || this.#handler !== h) return;
    // Bytes behind a complete response: never reuse this connection.
    if (from + n < chunk.length) this.#poisoned = true;
    this.#finalDone = true;
    this.#deliverComplete();
  }

  #onClose(err: Error | null): void {
    if (this.#destroyed) return;
    const h = this.#handler;
    if (h === null) {
      this.destroy();
      return;
    }
    if (this.#finalDone) {
      this.#poisoned = true;
      this.#deliverComplete();
      this.destroy();
      return;
    }
    if (this.#connected && err === null && this.#responseBytes > 0 && this.#bodyLeft === 0) {
      // End of a close-delimited body completes the message; anything else is a cut.
      const fin = this.#parser.finish();
      if (fin === undefined && this.#finalDone) {
        this.#poisoned = true;
        this.#deliverComplete();
        this.destroy();
        return;
      }
    }
    if (!this.#connected) {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      const kind = code === 'ECONNREFUSED' ? ProxyErrors.CONNECT_REFUSED : this.#tcpConnected ? ProxyErrors.TLS_HANDSHAKE : ProxyErrors.CONNECT_FAILED;
      this.#fail(kind, err, false);
      return;
    }
    const stale = this.reused && this.#responseBytes === 0;
    this.#fail(ProxyErrors.RESET, err, stale);
  }

  #fail(kind: ProxyErrorKind, cause: Error | null, stale: boolean): void {
    const h = this.#handler;
    this.destroy();
    if (h !== null) h.onUpstreamError(kind, cause, stale);
  }
}
