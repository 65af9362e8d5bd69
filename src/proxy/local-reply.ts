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
  let head = `HTTP/1.1 ${o.status} ${reasonPhrase(o.status)}\r\nServer: switchyard\r\n`;
  if (o.contentType !== undefined && body.length > 0) head += `Content-Type: ${o.contentType}\r\n`;
  if (o.headers) {
    for (const [name, value] of o.headers) {
      if (CTL.test(name) || CTL.test(value)) throw new Error(`header ${name} carries a control character`);
      head += `${name}: ${value}\r\n`;
    }
  }
  head += `Content-Length: ${body.length}\r\n`;
  if (o.close) head += 'Connection: close\r\n';
  head += '\r\n';
  if (o.headOnly || body.length === 0) return Buffer.from(head, 'latin1');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
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
