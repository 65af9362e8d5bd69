/**
 * An HTTP listener: the accepting socket, its connections, and the bridge from a connection's
 * requests to dispatch, the access log and the metrics hooks.
 *
 * Owns: binding and unbinding, the set of open connections (for graceful shutdown and active
 * connection counts), and swapping in a new compiled listener on reload (each request pins the
 * one current when its head arrived). Never routes or forwards itself.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsTerminator } from '../tls/tls-terminator.js';
import { CLIENT_CERT_HEADERS } from '../tls/tls-terminator.js';
import { H2Frontend } from './h2-frontend.js';
import type { CompiledListener } from '../config/compile.js';
import { ClientConnection } from './http-connection.js';
import type { Downstream } from '../proxy/downstream.js';
import type { ClientRequest } from './client-request.js';
import type { ListenerConnection } from './listener-context.js';
import { NativeClientConnection, type NativeListenerContext } from '../native/native-connection.js';
import { nativeEngine, nativeServes } from '../native/engine.js';
import { boundPort, listenOn, type Listener } from './listener.js';
import type { HttpParseError } from '../proxy/http-parser.js';
import type { ProxyErrorKind } from '../proxy/errors.js';
import { dispatchRequest, readFraming, type DispatchContext, type DesyncOutcome } from '../proxy/dispatch.js';
import type { Classification } from '../proxy/framing.js';
import type { ProtectionHit } from '../protection/protection.js';
import { isoNow, type AccessLog } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';

/** Hooks for observability; all optional so tests and benchmarks can leave them out. */
export interface ListenerHooks {
  onRequestDone?(listener: string, req: ClientRequest): void;
  onTargetResponse?(req: ClientRequest, group: TargetGroupRuntime, seconds: number): void;
  onConnection?(listener: string, delta: 1 | -1): void;
  /** An error answered before a request could be formed (malformed head, head timeout). */
  onLocalError?(listener: string, kind: ProxyErrorKind): void;
  /** A request that is not compliant (desync classification) and what was done with it. */
  onDesync?(listener: string, verdict: Classification, outcome: DesyncOutcome): void;
  /** A protection acted: `scope` is the rule priority, -1 for the listener's own protection. */
  onProtection?(listener: string, scope: number, hit: ProtectionHit): void;
  /** A connection was closed on accept (listener `maxConnections` reached). */
  onConnectionRejected?(listener: string, reason: 'max_connections'): void;
}

const RESERVED_CLIENT_CERT: ReadonlySet<string> = new Set(CLIENT_CERT_HEADERS);

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export class HttpListener implements Listener, NativeListenerContext {
  listener: CompiledListener;
  draining: boolean;
  readonly server: net.Server;
  readonly connections: Set<ListenerConnection>;
  readonly #accessLog: AccessLog;
  readonly #log: Logger;
  readonly #hooks: ListenerHooks;
  readonly #tls: TlsTerminator | null;
  /** HTTP/2 sessions of an HTTPS listener that offers h2 through ALPN. */
  readonly #h2: H2Frontend | null;
  #dc: DispatchContext;
  /** While closing: called when the last connection closed. */
  #onAllClosed: (() => void) | null = null;

  constructor(listener: CompiledListener, accessLog: AccessLog, log: Logger, hooks: ListenerHooks, tlsTerminator: TlsTerminator | null = null) {
    this.listener = listener;
    this.draining = false;
    this.connections = new Set();
    this.#accessLog = accessLog;
    this.#log = log;
    this.#hooks = hooks;
    this.#dc = this.#dispatchContext(listener.port);
    this.#tls = tlsTerminator;
    this.#h2 = tlsTerminator !== null && listener.resolved.tls.alpn.includes('h2') ? new H2Frontend(this, listener.settings.maxRequestHeaderBytes) : null;
    if (tlsTerminator === null) {
      // Paused on accept: the native data path takes the socket's descriptor before any read.
      this.server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.#onPlainConnection(socket));
    } else {
      const server = tls.createServer({ ...tlsTerminator.serverOptions(), noDelay: true });
      tlsTerminator.attach(server);
      server.on('secureConnection', (socket: tls.TLSSocket) => this.#onSecureConnection(socket));
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        // Failed or timed-out handshakes. Node leaves a timed-out socket open (the error only
        // reaches this event), so a client stuck in the handshake would hold it forever.
        this.#log.debug({ listener: this.listener.name, client: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
        socket.destroy();
      });
      this.server = server;
    }
    this.server.on('error', (err) => this.#log.error({ err, listener: listener.name }, 'listener error'));
    // maxConnections: Node closes a connection beyond the limit as it is accepted (before any
    // TLS handshake), counting plain, TLS and HTTP/2 connections alike, and emits 'drop'.
    this.server.maxConnections = listener.maxConnections > 0 ? listener.maxConnections : 0;
    this.server.on('drop', () => {
      this.#hooks.onConnectionRejected?.(this.listener.name, 'max_connections');
      this.#log.debug({ listener: this.listener.name, maxConnections: this.listener.maxConnections }, 'connection refused: maxConnections reached');
    });
  }

  get name(): string {
    return this.listener.name;
  }

  /** The port actually bound (differs from the config when it says 0). */
  get port(): number {
    return boundPort(this.server, this.listener.port);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<void> {
    await listenOn(this.server, this.listener.host, this.listener.port);
    this.#dc = this.#dispatchContext(this.port);
  }

  /** Reload: requests that start from now on use `next`. */
  update(next: CompiledListener): void {
    this.listener = next;
    this.server.maxConnections = next.maxConnections > 0 ? next.maxConnections : 0;
    this.#tls?.update(next.resolved);
  }

  /**
   * Stops accepting, lets in-flight requests finish, closes idle keep-alive connections, and
   * destroys whatever is left after `graceMs`.
   */
  close(graceMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const deadline = setTimeout(() => {
        for (const c of this.connections) c.destroy();
        this.#h2?.destroyAll();
      }, graceMs);
      deadline.unref();
      this.#tls?.close();
      // Node's close waits for the connections it counts; native ones it does not: wait for both.
      let serverClosed = false;
      const done = (): void => {
        if (!serverClosed || this.connections.size > 0) return;
        this.#onAllClosed = null;
        clearTimeout(deadline);
        resolve();
      };
      this.#onAllClosed = done;
      this.server.close(() => {
        serverClosed = true;
        done();
      });
      for (const c of this.connections) c.shutdown();
      this.#h2?.shutdown();
    });
  }

  #dispatchContext(port: number): DispatchContext {
    const hooks = this.#hooks;
    return {
      proto: this.listener.protocol === 'HTTPS' ? 'https' : 'http',
      port: String(port),
      onTargetResponse: hooks.onTargetResponse ? (req, group, s) => hooks.onTargetResponse!(req, group, s) : null,
      onDesync: (req, verdict, outcome) => this.#onDesync(req, verdict, outcome),
      protection: {
        onProtection: (scope, hit, sourceIp, method, path) => {
          hooks.onProtection?.(this.listener.name, scope, hit);
          this.#log.info(
            { listener: this.listener.name, rule: scope < 0 ? 'listener' : scope, protection: hit.protection, name: hit.name, action: hit.action, clientIp: sourceIp, method, path },
            `protection ${hit.protection} ${hit.name}: ${hit.action}`,
          );
        },
      },
    };
  }

  /** Desync mitigation: counted always; logged (acceptable requests let through at debug only). */
  #onDesync(req: ClientRequest, verdict: Classification, outcome: DesyncOutcome): void {
    this.#hooks.onDesync?.(this.listener.name, verdict, outcome);
    const fields = { listener: this.listener.name, classification: verdict.tier, classificationReason: verdict.reason, outcome, method: req.method, url: req.url.slice(0, 200) };
    if (verdict.tier === 'acceptable' && outcome !== 'refused') this.#log.debug(fields, 'non-compliant request');
    else this.#log.info(fields, `desync mitigation: ${verdict.tier} request (${verdict.reason}) ${outcome.replaceAll('_', ' ')}`);
  }

  /**
   * A plain-HTTP connection: to the native data path when the addon is built and serves this
   * listener's actions (docs/decisions/0017), else to the TypeScript engine.
   */
  #onPlainConnection(socket: net.Socket): void {
    const engine = nativeEngine();
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (engine !== null && fd !== undefined && fd >= 0 && nativeServes(this.listener)) {
      const max = this.listener.maxConnections;
      if (max > 0 && this.connections.size >= max) {
        // Node stops counting a socket once the addon has it: the limit is kept here.
        socket.destroy();
        this.#hooks.onConnectionRejected?.(this.listener.name, 'max_connections');
        return;
      }
      const s = this.listener.settings;
      const cid = engine.addon.adopt(fd, s.maxRequestHeaderBytes, s.maxRequestHeaderCount, s.idleTimeoutMs);
      if (cid !== 0) {
        engine.onError = (err) => this.#log.error({ err, listener: this.listener.name }, 'native data path: request failed');
        const conn = new NativeClientConnection(engine, cid, this, socket.remoteAddress ?? '', socket.remotePort ?? 0);
        socket.destroy();
        this.connections.add(conn);
        this.#hooks.onConnection?.(this.listener.name, 1);
        if (this.draining) conn.shutdown();
        return;
      }
    }
    socket.resume();
    this.#onConnection(socket);
  }

  /** The native data path hands a connection over: the TypeScript engine serves it from here. */
  handOver(from: NativeClientConnection, socket: net.Socket): void {
    this.connections.delete(from);
    const conn = new ClientConnection(socket, this);
    this.connections.add(conn);
    if (this.draining) conn.shutdown();
  }

  #onConnection(socket: net.Socket): ClientConnection {
    const conn = new ClientConnection(socket, this);
    this.connections.add(conn);
    this.#hooks.onConnection?.(this.listener.name, 1);
    if (this.draining) conn.shutdown();
    return conn;
  }

  #onSecureConnection(socket: tls.TLSSocket): void {
    const t = this.#tls!;
    // Targets trust these headers: a client's own copies never pass.
    const reserved = t.mutualTls ? RESERVED_CLIENT_CERT : null;
    const extra = t.mutualTls ? t.clientCertHeaders(socket) : '';
    if (socket.alpnProtocol === 'h2' && this.#h2 !== null) {
      this.#hooks.onConnection?.(this.listener.name, 1);
      socket.once('close', () => this.#hooks.onConnection?.(this.listener.name, -1));
      this.#h2.handle(socket, extra, reserved);
      return;
    }
    const conn = this.#onConnection(socket);
    conn.reservedRequestHeaders = reserved;
    conn.extraRequestHeaders = extra;
  }

  // --- ListenerContext -------------------------------------------------------------------

  inspectHead(_conn: ClientConnection, req: ClientRequest): void {
    readFraming(req);
  }

  dispatch(conn: Downstream, req: ClientRequest): void {
    try {
      dispatchRequest(conn, req, this.#dc);
    } catch (err) {
      // A bug must cost one request, never the process.
      this.#log.error({ err, listener: this.listener.name }, 'request dispatch failed');
      if (!req.responseStarted) conn.replyError(req, { code: 'SY_ERR_INTERNAL', status: 500, source: 'internal', retryable: false, reason: 'internal error' }, true);
      else conn.abortResponse(req);
    }
  }

  onRequestDone(conn: Downstream, req: ClientRequest): void {
    this.#hooks.onRequestDone?.(req.listener.name, req);
    if (!this.#accessLog.enabled) return;
    const now = performance.now();
    const dispatched = req.dispatchMs || now;
    const head = req.responseHeadMs || now;
    this.#accessLog.write({
      time: isoNow(),
      clientIp: conn.remoteAddress,
      clientPort: conn.remotePort,
      listener: req.listener.name,
      rulePriority: req.rulePriority,
      targetGroup: req.targetGroup,
      target: req.target,
      method: req.method,
      host: req.host,
      path: req.path,
      status: req.status,
      bytesIn: req.bytesIn,
      bytesOut: req.bytesOut,
      requestMs: round(dispatched - req.startMs),
      targetMs: req.dispatchMs ? round(head - dispatched) : 0,
      responseMs: req.responseHeadMs ? round(now - head) : 0,
      error: req.error,
    });
  }

  onParseError(conn: ClientConnection, err: HttpParseError): void {
    this.#log.debug({ listener: this.listener.name, client: conn.remoteAddress, code: err.code, reason: err.reason }, 'malformed request');
  }

  onLocalError(conn: ClientConnection, kind: ProxyErrorKind): void {
    if (this.#accessLog.enabled) {
      this.#accessLog.write({
        time: isoNow(),
        clientIp: conn.remoteAddress,
        clientPort: conn.remotePort,
        listener: this.listener.name,
        rulePriority: 0,
        targetGroup: '',
        target: '',
        method: '',
        host: '',
        path: '',
        status: kind.status,
        bytesIn: 0,
        bytesOut: 0,
        requestMs: 0,
        targetMs: 0,
        responseMs: 0,
        error: kind.code,
      });
    }
    this.#hooks.onLocalError?.(this.listener.name, kind);
  }

  onConnectionClosed(conn: ListenerConnection): void {
    if (this.connections.delete(conn)) this.#hooks.onConnection?.(this.listener.name, -1);
    if (this.connections.size === 0) this.#onAllClosed?.();
  }
}
