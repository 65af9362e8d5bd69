/**
 * Real targets on 127.0.0.1, port 0: node:http servers that tag their answers with their name,
 * and raw `net` servers that record every byte they receive.
 */
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseRequest, type RequestMessage } from './http1.js';

export interface Echo {
  name: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodyLength: number;
  sha256: string;
}

export interface HttpTarget {
  readonly name: string;
  readonly port: number;
  readonly server: http.Server;
  /** Every request seen, in arrival order. */
  readonly requests: Echo[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** Answers with the request described as JSON, `x-target: <name>` and `content-type: application/json`. */
export const echoHandler =
  (name: string): Handler =>
  (req, res, body) => {
    const echo: Echo = {
      name,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyLength: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    const text = JSON.stringify(echo);
    res.writeHead(200, { 'x-target': name, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  };

export interface HttpTargetOptions {
  /** Custom answer; the body has been read completely first (unless `streaming`). */
  readonly handler?: Handler;
  /** Raw handler: called at once, the body is the handler's to read. */
  readonly streaming?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readonly keepAliveTimeout?: number;
}

export function startHttpTarget(name: string, o: HttpTargetOptions = {}): Promise<HttpTarget> {
  const requests: Echo[] = [];
  const handler = o.handler ?? echoHandler(name);
  const server = http.createServer((req, res) => {
    if (o.streaming) {
      o.streaming(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({
        name,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyLength: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
      handler(req, res, body);
    });
    req.on('error', () => res.destroy());
  });
  if (o.keepAliveTimeout !== undefined) server.keepAliveTimeout = o.keepAliveTimeout;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      resolve({
        name,
        port: (server.address() as AddressInfo).port,
        server,
        requests,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** One connection accepted by a raw target. */
export interface RawConnection {
  readonly socket: net.Socket;
  /** Every byte received on it. */
  data: Buffer;
  /** Requests parsed from `data` so far. */
  readonly requests: RequestMessage[];
  closed: boolean;
}

export interface RawTarget {
  readonly port: number;
  readonly server: net.Server;
  readonly connections: RawConnection[];
  /** Every request parsed, over all connections, in arrival order. */
  readonly requests: RequestMessage[];
  close(): Promise<void>;
}

export interface RawTargetOptions {
  /**
   * Called for each complete request. Default: `200 OK` with `Content-Length` and body "ok".
   * Return nothing; write to `conn.socket` as you like.
   */
  readonly onRequest?: (req: RequestMessage, conn: RawConnection) => void;
  /** Called for each new connection (before any data). When set, requests are still parsed. */
  readonly onConnection?: (conn: RawConnection) => void;
  /** Don't parse: just record bytes (e.g. garbage tests, WebSocket tunnels). */
  readonly raw?: (conn: RawConnection, chunk: Buffer) => void;
}

export const OK_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Target: raw\r\n\r\nok';

export function startRawTarget(o: RawTargetOptions = {}): Promise<RawTarget> {
  const connections: RawConnection[] = [];
  const requests: RequestMessage[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const conn: RawConnection = { socket, data: Buffer.alloc(0), requests: [], closed: false };
    connections.push(conn);
    let parsed = 0;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      conn.closed = true;
      sockets.delete(socket);
    });
    o.onConnection?.(conn);
    socket.on('data', (chunk: Buffer) => {
      conn.data = Buffer.concat([conn.data, chunk]);
      if (o.raw) {
        o.raw(conn, chunk);
        return;
      }
      for (;;) {
        let r: RequestMessage | null;
        try {
          r = parseRequest(conn.data, parsed);
        } catch {
          socket.destroy();
          return;
        }
        if (r === null) return;
        parsed += r.consumed;
        conn.requests.push(r);
        requests.push(r);
        if (o.onRequest) o.onRequest(r, conn);
        else socket.write(OK_RESPONSE);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        server,
        connections,
        requests,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** The connection of `target` whose latest request was for `path` (newest connection first). */
export function lastCarrier(target: RawTarget, path: string): RawConnection {
  for (let i = target.connections.length - 1; i >= 0; i--) {
    const k = target.connections[i]!;
    if (k.requests.length > 0 && k.requests[k.requests.length - 1]!.target === path) return k;
  }
  throw new Error(`no target connection received ${path} last`);
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
