/**
 * HTTP/2 from the test side: node:http2 client sessions to an HTTPS listener (ALPN h2) and
 * single requests on them, with the response head, body, trailers and any 1xx heads.
 */
import http2 from 'node:http2';
import { within } from './wait.js';

export interface H2Reply {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** Trailers, or null when the response had none. */
  readonly trailers: http2.IncomingHttpHeaders | null;
  /** 1xx heads received before the response, in order. */
  readonly informational: http2.IncomingHttpHeaders[];
  json<T = Record<string, unknown>>(): T;
}

/**
 * A session to an HTTPS listener on 127.0.0.1 (certificates not verified unless `options` say
 * so), resolved once the server's SETTINGS arrived (`remoteSettings` holds the server's values).
 */
export function h2connect(port: number, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return within(
    new Promise((resolve, reject) => {
      const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, ...options });
      session.once('remoteSettings', () => {
        session.off('error', reject);
        session.on('error', () => undefined);
        resolve(session);
      });
      session.once('error', reject);
    }),
    5000,
    'HTTP/2 connect',
  );
}

export interface H2RequestOptions {
  readonly method?: string;
  readonly path?: string;
  /** Default: 127.0.0.1:<port of the session>. */
  readonly authority?: string;
  readonly headers?: http2.OutgoingHttpHeaders;
  /** Sent and ended at once; or a function that writes to the stream itself. */
  readonly body?: Buffer | string | ((stream: http2.ClientHttp2Stream) => void);
  readonly timeoutMs?: number;
}

/** One request on `session`; rejects on a stream error (RST_STREAM) or a timeout. */
export function h2request(session: http2.ClientHttp2Session, o: H2RequestOptions = {}): Promise<H2Reply> {
  return within(
    new Promise<H2Reply>((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = { ':method': o.method ?? 'GET', ':path': o.path ?? '/', ...o.headers };
      if (o.authority !== undefined) headers[':authority'] = o.authority;
      const body = o.body;
      const stream = session.request(headers, { endStream: body === undefined });
      const informational: http2.IncomingHttpHeaders[] = [];
      let head: http2.IncomingHttpHeaders | null = null;
      let trailers: http2.IncomingHttpHeaders | null = null;
      const chunks: Buffer[] = [];
      stream.on('headers', (h) => informational.push(h));
      stream.on('response', (h) => (head = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('close', () => {
        if (head === null) {
          reject(new Error(`stream closed without a response (RST_STREAM code ${stream.rstCode})`));
          return;
        }
        const h: http2.IncomingHttpHeaders = head;
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        resolve({
          status: Number(h[':status']),
          headers: h,
          body: buf,
          text,
          trailers,
          informational,
          json: <T>() => JSON.parse(text) as T,
        });
      });
      if (typeof body === 'function') body(stream);
      else if (body !== undefined) stream.end(body);
    }),
    o.timeoutMs ?? 10_000,
    `h2 ${o.method ?? 'GET'} ${o.path ?? '/'}`,
  );
}

/** Closes a session and waits until it is gone. */
export function h2close(session: http2.ClientHttp2Session): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    session.once('close', () => resolve());
    session.close();
    setTimeout(() => session.destroy(), 1000).unref();
  });
}
