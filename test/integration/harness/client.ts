/**
 * Clients for the test side: node:http requests, and a raw socket client that reads responses
 * byte-exact (for pipelining, malformed input, and checking framing).
 */
import http from 'node:http';
import net from 'node:net';
import { parseResponse, type ResponseMessage } from './http1.js';
import { within } from './wait.js';

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: Buffer | string;
  /** Default: false (a new connection per request). */
  readonly agent?: http.Agent | false;
  readonly timeoutMs?: number;
}

/** One request over node:http to 127.0.0.1:port. Rejects on a socket error or timeout. */
export function request(port: number, o: RequestOptions = {}): Promise<Reply> {
  return within(
    new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/', headers: o.headers ?? {}, agent: o.agent ?? false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('aborted', () => reject(new Error('response aborted')));
          res.on('end', () => {
            if (!res.complete) {
              reject(new Error('response incomplete'));
              return;
            }
            const body = Buffer.concat(chunks);
            const text = body.toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              rawHeaders: res.rawHeaders,
              body,
              text,
              json: <T>() => JSON.parse(text) as T,
            });
          });
        },
      );
      req.on('error', reject);
      if (o.body !== undefined) req.end(o.body);
      else req.end();
    }),
    o.timeoutMs ?? 10_000,
    `${o.method ?? 'GET'} ${o.path ?? '/'}`,
  );
}

/** A raw TCP client that accumulates bytes and parses responses from them on demand. */
export class RawClient {
  readonly socket: net.Socket;
  data: Buffer;
  closed: boolean;
  error: Error | null;
  #pos: number;
  #waiters: Set<() => void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.data = Buffer.alloc(0);
    this.closed = false;
    this.error = null;
    this.#pos = 0;
    this.#waiters = new Set();
    socket.on('data', (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
      this.#wake();
    });
    socket.on('error', (e) => {
      this.error = e;
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until `pred` holds (checked on every data/close event). */
  until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return within(
      new Promise<void>((resolve) => {
        const w = (): void => {
          if (pred()) {
            this.#waiters.delete(w);
            resolve();
          }
        };
        this.#waiters.add(w);
      }),
      timeoutMs,
      what,
    );
  }

  /** The next response on the connection (in order). */
  async readResponse(o: { head?: boolean; timeoutMs?: number } = {}): Promise<ResponseMessage> {
    let r: ResponseMessage | null = null;
    await this.until(
      () => {
        r = parseResponse(this.data, this.#pos, { head: o.head ?? false, closed: this.closed });
        return r !== null || (this.closed && this.data.length <= this.#pos);
      },
      o.timeoutMs ?? 5000,
      'a response',
    );
    if (r === null) throw new Error(`connection closed before a complete response; got ${JSON.stringify(this.data.subarray(this.#pos).toString('latin1').slice(0, 300))}`);
    const resp: ResponseMessage = r;
    this.#pos += resp.consumed;
    return resp;
  }

  /** Bytes not yet consumed by readResponse. */
  get unread(): Buffer {
    return this.data.subarray(this.#pos);
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.closed, timeoutMs, 'connection close');
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** Connects, writes `data`, and reads one response (and optionally waits for the close). */
export async function rawOnce(port: number, data: string | Buffer, o: { head?: boolean; waitClose?: boolean } = {}): Promise<{ response: ResponseMessage; client: RawClient }> {
  const c = await RawClient.connect(port);
  try {
    c.write(data);
    const response = await c.readResponse({ head: o.head ?? false });
    if (o.waitClose) await c.waitClosed();
    return { response, client: c };
  } finally {
    c.destroy();
  }
}
