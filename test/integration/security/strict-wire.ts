/**
 * A deliberately strict reader of what a fake target received from Switchyard: every request
 * must be canonical HTTP/1.1 (CRLF only, token names, no control bytes, at most one framing
 * header, `Transfer-Encoding` exactly `chunked`, no look-alike framing names, no h2c upgrade
 * headers, chunk sizes in plain hex without extensions). A violation is a test failure: it
 * means Switchyard forwarded framing it did not generate itself.
 */

export interface StrictRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly framing: 'length' | 'chunked' | 'none';
}

export interface StrictParse {
  readonly requests: StrictRequest[];
  /** Bytes of an incomplete request at the end (allowed only on a connection that was cut). */
  readonly rest: Buffer;
  /** The first violation, or null. */
  readonly error: string | null;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * A name spelled differently from Transfer-Encoding / Content-Length but made of the same
 * letters once separators and other non-alphanumerics are dropped (`Transfer_Encoding`,
 * `Content.Length`): what a lenient parser downstream might fold onto a framing header.
 */
function isLookAlike(lower: string): boolean {
  if (lower === 'transfer-encoding' || lower === 'content-length') return false;
  const letters = lower.replace(/[^a-z0-9]/g, '');
  return letters === 'transferencoding' || letters === 'contentlength';
}

export function strictParse(buf: Buffer): StrictParse {
  const requests: StrictRequest[] = [];
  let pos = 0;
  const fail = (msg: string): StrictParse => ({ requests, rest: buf.subarray(pos), error: msg });
  while (pos < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd < 0) return { requests, rest: buf.subarray(pos), error: null };
    const head = buf.toString('latin1', pos, headEnd);
    const lines = head.split('\r\n');
    const requestLine = lines.shift()!;
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/[\x21-\x7e]*) HTTP\/1\.1$/.exec(requestLine);
    if (m === null) return fail(`bad request line ${JSON.stringify(requestLine)}`);
    const headers: [string, string][] = [];
    let cl = -1;
    let chunked = false;
    for (const line of lines) {
      if (/[\r\n\x00]/.test(line)) return fail(`bare CR/LF/NUL in ${JSON.stringify(line)}`);
      const colon = line.indexOf(':');
      if (colon <= 0) return fail(`no colon in ${JSON.stringify(line)}`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (!TOKEN.test(name)) return fail(`bad header name ${JSON.stringify(name)}`);
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return fail(`control byte in ${name}`);
      const lower = name.toLowerCase();
      if (isLookAlike(lower)) return fail(`look-alike framing header ${JSON.stringify(name)}`);
      if (lower === 'http2-settings') return fail('HTTP2-Settings forwarded');
      if (lower === 'upgrade' && /h2c/i.test(value)) return fail('Upgrade: h2c forwarded');
      if (lower === 'content-length') {
        if (cl >= 0) return fail('two Content-Length fields');
        if (!/^\d+$/.test(value)) return fail(`bad Content-Length ${JSON.stringify(value)}`);
        cl = Number(value);
      }
      if (lower === 'transfer-encoding') {
        if (chunked) return fail('two Transfer-Encoding fields');
        if (value !== 'chunked') return fail(`Transfer-Encoding ${JSON.stringify(value)}`);
        chunked = true;
      }
      headers.push([name, value]);
    }
    if (chunked && cl >= 0) return fail('Transfer-Encoding with Content-Length');
    let p = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    let framing: StrictRequest['framing'] = 'none';
    if (cl >= 0) {
      if (buf.length < p + cl) return { requests, rest: buf.subarray(pos), error: null };
      body = buf.subarray(p, p + cl);
      p += cl;
      framing = 'length';
    } else if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const e = buf.indexOf('\r\n', p, 'latin1');
        if (e < 0) return { requests, rest: buf.subarray(pos), error: null };
        const size = buf.toString('latin1', p, e);
        if (!/^[0-9a-f]{1,15}$/.test(size)) return fail(`bad chunk size line ${JSON.stringify(size.slice(0, 40))}`);
        const n = parseInt(size, 16);
        p = e + 2;
        if (n === 0) {
          if (buf.length < p + 2) return { requests, rest: buf.subarray(pos), error: null };
          if (buf.toString('latin1', p, p + 2) !== '\r\n') return fail('trailer fields or junk after the last chunk');
          p += 2;
          break;
        }
        if (buf.length < p + n + 2) return { requests, rest: buf.subarray(pos), error: null };
        parts.push(buf.subarray(p, p + n));
        if (buf.toString('latin1', p + n, p + n + 2) !== '\r\n') return fail('chunk data not followed by CRLF');
        p += n + 2;
      }
      body = Buffer.concat(parts);
      framing = 'chunked';
    }
    requests.push({ method: m[1]!, target: m[2]!, headers, body, framing });
    pos = p;
  }
  return { requests, rest: Buffer.alloc(0), error: null };
}
