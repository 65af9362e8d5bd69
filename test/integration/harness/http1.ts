/**
 * A small, strict-enough HTTP/1.1 message reader for the test side of the wire: raw targets use
 * it to see the exact request heads Switchyard sends, raw clients to read responses byte-exact.
 * It is deliberately independent of Switchyard's own parser (and of node:http's leniencies).
 */

export interface Message {
  /** The head exactly as received, through the blank line. */
  readonly head: string;
  /** Request line or status line. */
  readonly startLine: string;
  /** Header fields in order, names as received. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Framing that carried the body. */
  readonly framing: 'length' | 'chunked' | 'close' | 'none';
  /** Trailer fields of a chunked body. */
  readonly trailers: readonly (readonly [string, string])[];
  /** Bytes of the buffer this message used. */
  readonly consumed: number;
}

export interface RequestMessage extends Message {
  readonly method: string;
  readonly target: string;
  readonly version: string;
}

export interface ResponseMessage extends Message {
  readonly status: number;
  readonly reason: string;
}

/** Every value of a header (name case-insensitive). */
export function headerValues(m: Pick<Message, 'headers'>, name: string): string[] {
  const lower = name.toLowerCase();
  return m.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** The single value of a header, undefined when absent; throws when repeated. */
export function header(m: Pick<Message, 'headers'>, name: string): string | undefined {
  const v = headerValues(m, name);
  if (v.length > 1) throw new Error(`header ${name} appears ${v.length} times: ${JSON.stringify(v)}`);
  return v[0];
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

interface Head {
  head: string;
  startLine: string;
  headers: [string, string][];
  end: number;
}

function readHead(buf: Buffer, from: number): Head | null {
  const end = buf.indexOf(CRLFCRLF, from);
  if (end < 0) return null;
  const head = buf.subarray(from, end + 4).toString('latin1');
  const lines = head.slice(0, -4).split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { head, startLine, headers, end: end + 4 };
}

interface Body {
  body: Buffer;
  trailers: [string, string][];
  end: number;
}

/** Reads a chunked body starting at `from`; null when incomplete. */
function readChunked(buf: Buffer, from: number): Body | null {
  const parts: Buffer[] = [];
  let pos = from;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
    if (lineEnd < 0) return null;
    const sizeText = buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) {
      const trailers: [string, string][] = [];
      for (;;) {
        const e = buf.indexOf('\r\n', pos, 'latin1');
        if (e < 0) return null;
        const line = buf.subarray(pos, e).toString('latin1');
        pos = e + 2;
        if (line === '') return { body: Buffer.concat(parts), trailers, end: pos };
        const colon = line.indexOf(':');
        trailers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
      }
    }
    if (buf.length < pos + size + 2) return null;
    parts.push(buf.subarray(pos, pos + size));
    if (buf.toString('latin1', pos + size, pos + size + 2) !== '\r\n') throw new Error('chunk not followed by CRLF');
    pos += size + 2;
  }
}

function isChunked(headers: readonly (readonly [string, string])[]): boolean {
  return headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && /chunked/i.test(v));
}

function contentLength(headers: readonly (readonly [string, string])[]): number {
  const v = headers.filter(([n]) => n.toLowerCase() === 'content-length').map(([, v]) => v);
  if (v.length === 0) return -1;
  return Number(v[0]);
}

/** Parses one request at `from`; null when more bytes are needed. */
export function parseRequest(buf: Buffer, from = 0): RequestMessage | null {
  const h = readHead(buf, from);
  if (h === null) return null;
  const [method = '', target = '', version = ''] = h.startLine.split(' ');
  let body: Buffer = Buffer.alloc(0);
  let trailers: [string, string][] = [];
  let end = h.end;
  let framing: Message['framing'] = 'none';
  if (isChunked(h.headers)) {
    const b = readChunked(buf, h.end);
    if (b === null) return null;
    ({ body, trailers, end } = b);
    framing = 'chunked';
  } else {
    const cl = contentLength(h.headers);
    if (cl >= 0) {
      if (buf.length < h.end + cl) return null;
      body = buf.subarray(h.end, h.end + cl);
      end = h.end + cl;
      framing = 'length';
    }
  }
  return { head: h.head, startLine: h.startLine, headers: h.headers, body, framing, trailers, consumed: end - from, method, target, version };
}

/** Every complete request in `buf`. */
export function parseRequests(buf: Buffer): RequestMessage[] {
  const out: RequestMessage[] = [];
  let pos = 0;
  for (;;) {
    const r = parseRequest(buf, pos);
    if (r === null) return out;
    out.push(r);
    pos += r.consumed;
  }
}

export interface ParseResponseOptions {
  /** The request was HEAD (no body whatever the headers say). */
  readonly head?: boolean;
  /** The connection has closed: a close-delimited body is complete. */
  readonly closed?: boolean;
}

/** Parses one response at `from`; null when more bytes are needed. */
export function parseResponse(buf: Buffer, from = 0, o: ParseResponseOptions = {}): ResponseMessage | null {
  const h = readHead(buf, from);
  if (h === null) return null;
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(h.startLine);
  if (m === null) throw new Error(`bad status line ${JSON.stringify(h.startLine)}`);
  const status = Number(m[1]);
  const reason = m[2] ?? '';
  let body: Buffer = Buffer.alloc(0);
  let trailers: [string, string][] = [];
  let end = h.end;
  let framing: Message['framing'] = 'none';
  if (o.head || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    // no body
  } else if (isChunked(h.headers)) {
    const b = readChunked(buf, h.end);
    if (b === null) return null;
    ({ body, trailers, end } = b);
    framing = 'chunked';
  } else {
    const cl = contentLength(h.headers);
    if (cl >= 0) {
      if (buf.length < h.end + cl) return null;
      body = buf.subarray(h.end, h.end + cl);
      end = h.end + cl;
      framing = 'length';
    } else {
      if (!o.closed) return null;
      body = buf.subarray(h.end);
      end = buf.length;
      framing = 'close';
    }
  }
  return { head: h.head, startLine: h.startLine, headers: h.headers, body, framing, trailers, consumed: end - from, status, reason };
}
