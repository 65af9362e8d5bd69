/**
 * Responses the load balancer generates itself: errors (SPEC §5), redirects, fixed responses.
 *
 * Owns: rendering a complete HTTP/1.1 response as one buffer. Every generated response carries
 * `Server: switchyard`. Header values are validated before they reach the wire, so no request
 * data can split a response. No I/O.
 */
import { STATUS_CODES } from 'node:http';

const CTL = /[\x00-\x1f\x7f]/;

/** Reason phrase for a status code, including the load balancer's own 463/464. */
export function reasonPhrase(status: number): string {
  if (status === 463) return 'X-Forwarded-For Too Long';
  if (status === 464) return 'Incompatible Protocol';
  return STATUS_CODES[status] ?? 'Unknown';
}

export interface LocalReplyOptions {
  readonly status: number;
  readonly contentType?: string;
  readonly body?: string | Buffer;
  readonly headers?: readonly (readonly [string, string])[];
  /** Adds `Connection: close`; the caller closes the connection after writing. */
  readonly close: boolean;
  /** HEAD requests get the head only. */
  readonly headOnly?: boolean;
}

/** Renders a whole response. Throws only on a programmer error (a CR/LF in a header value). */
export function renderLocalReply(o: LocalReplyOptions): Buffer {
  const body = o.body === undefined ? Buffer.alloc(0) : typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  const head = `${headFields(o.status, o.contentType, body.length, o.headers)}${o.close ? 'Connection: close\r\n' : ''}\r\n`;
  if (o.headOnly || body.length === 0) return Buffer.from(head, 'latin1');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Status line and header fields up to (not including) Connection and the blank line. */
function headFields(status: number, contentType: string | undefined, bodyLength: number, headers?: readonly (readonly [string, string])[]): string {
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nServer: switchyard\r\n`;
  if (contentType !== undefined && bodyLength > 0) {
    if (CTL.test(contentType)) throw new Error('header Content-Type carries a control character');
    head += `Content-Type: ${contentType}\r\n`;
  }
  if (headers) {
    for (const [name, value] of headers) {
      if (CTL.test(name) || CTL.test(value)) throw new Error(`header ${name} carries a control character`);
      head += `${name}: ${value}\r\n`;
    }
  }
  return `${head}Content-Length: ${bodyLength}\r\n`;
}

/** A fixed response in the four forms a connection sends: keep-alive or close, whole or head only. */
export interface RenderedReplyVariants {
  readonly keepAlive: Buffer;
  readonly close: Buffer;
  readonly keepAliveHead: Buffer;
  readonly closeHead: Buffer;
}

/**
 * The four forms of one response, as views of a single buffer laid out
 * `[keep-alive head][body][close head][body]` — one allocation instead of eight, which is what
 * made compiling 2,000 fixed-response rules the largest part of a reload. Same bytes as
 * renderLocalReply with the corresponding options.
 */
export function renderLocalReplyVariants(status: number, contentType: string | undefined, body: Buffer): RenderedReplyVariants {
  const common = headFields(status, contentType, body.length);
  const keepAliveHead = `${common}\r\n`;
  const closeHead = `${common}Connection: close\r\n\r\n`;
  const a = keepAliveHead.length;
  const b = closeHead.length;
  const n = body.length;
  const all = Buffer.allocUnsafe(a + n + b + n);
  all.write(keepAliveHead, 0, 'latin1');
  body.copy(all, a);
  all.write(closeHead, a + n, 'latin1');
  body.copy(all, a + n + b);
  return {
    keepAlive: all.subarray(0, a + n),
    keepAliveHead: all.subarray(0, a),
    close: all.subarray(a + n),
    closeHead: all.subarray(a + n, a + n + b),
  };
}

/** The short plain-text error response for a status. */
export function renderErrorReply(status: number, reason: string, close: boolean, headOnly = false, extra?: readonly (readonly [string, string])[]): Buffer {
  return renderLocalReply({
    status,
    contentType: 'text/plain; charset=utf-8',
    body: `${status} ${reasonPhrase(status)}: ${reason}\n`,
    close,
    headOnly,
    ...(extra ? { headers: extra } : {}),
  });
}
