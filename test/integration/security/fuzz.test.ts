/**
 * Property-based tests through the whole proxy (fast-check): valid requests and responses are
 * mutated the way smuggling scanners and broken peers mutate them (inserted control and
 * separator bytes, look-alike header names, duplicated and truncated lines, extra framing
 * headers, odd splits across writes). Whatever the mutation:
 *
 * - every byte the fake target receives parses strictly as canonical requests (strict-wire.ts):
 *   Switchyard never forwards ambiguous framing, even in `monitor` mode;
 * - every response the client receives is well formed with at most one framing header;
 * - the process keeps serving (a probe request answers 200 after each property).
 *
 * A failing run prints its seed and the shrunk counterexample; replay with `seed` in fc.assert.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { startRawTarget, startSwitchyard, listener, group, request, OK_RESPONSE, type RawTarget, type Running } from '../harness/index.js';
import { strictParse } from './strict-wire.js';

const BASE_REQUESTS = [
  'GET /fz HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n',
  'POST /fz HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
  'POST /fz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'PUT /fz/a?b=c HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabcGET /fz/2 HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /fz HTTP/1.0\r\nHost: a\r\n\r\n',
];

const BASE_RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n',
  'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
];

const INTERESTING = ['\x00', '\r', '\n', '\r\n', '\t', ' ', ',', ':', ';', '\x0b', '\x0c', '\x7f', '\x80', '\xa0', '\xff', '_', '-', '"', '0', 'chunked', '\xc4\xb1'];
const EXTRA_HEADERS = [
  'Content-Length: 0',
  'Content-Length: 5',
  'Content-Length: 7, 7',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: ,chunked',
  'Transfer-Encoding: gzip',
  'Transfer_Encoding: chunked',
  'Content_Length: 3',
  'Transfer-Encoding : chunked',
  'Host: b',
  'Connection: close',
  'Connection: keep-alive, Content-Length',
  'Upgrade: h2c',
  'HTTP2-Settings: AAMAAABkAAQAAP__',
  'Expect: 100-continue',
];

type Op =
  | { kind: 'insert'; at: number; what: string }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'header'; what: string }
  | { kind: 'dupLine'; at: number }
  | { kind: 'case'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'dash'; at: number; what: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), what: fc.constantFrom(...INTERESTING) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('header' as const), what: fc.constantFrom(...EXTRA_HEADERS) }),
  fc.record({ kind: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('case' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dash' as const), at: fc.nat(), what: fc.constantFrom('_', ' ', '', '.') }),
);

function apply(base: string, ops: readonly Op[]): string {
  let s = base;
  for (const op of ops) {
    if (s.length === 0) break;
    const at = op.kind === 'header' ? 0 : (op as { at: number }).at % s.length;
    switch (op.kind) {
      case 'insert':
        s = s.slice(0, at) + op.what + s.slice(at);
        break;
      case 'delete':
        s = s.slice(0, at) + s.slice(at + op.n);
        break;
      case 'header': {
        const i = s.indexOf('\r\n');
        if (i >= 0) s = s.slice(0, i + 2) + op.what + '\r\n' + s.slice(i + 2);
        break;
      }
      case 'dupLine': {
        const start = s.lastIndexOf('\r\n', at) + 2;
        const end = s.indexOf('\r\n', at);
        if (start > 1 && end > start) s = s.slice(0, end + 2) + s.slice(start, end + 2) + s.slice(end + 2);
        break;
      }
      case 'case': {
        const c = s[at]!;
        s = s.slice(0, at) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + s.slice(at + 1);
        break;
      }
      case 'truncate':
        s = s.slice(0, Math.max(1, at));
        break;
      case 'dash': {
        const i = s.indexOf('-', at);
        if (i >= 0) s = s.slice(0, i) + op.what + s.slice(i + 1);
        break;
      }
    }
  }
  return s;
}

/**
 * Sends `bytes` in `splits` pieces and collects everything until Switchyard closes the
 * connection (the callers end their bytes with `Connection: close`; a client half-close would
 * count as the client leaving). Gives up after 3 s.
 */
function exchange(port: number, bytes: Buffer, splits: readonly number[]): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    const done = (): void => resolve(Buffer.concat(parts));
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, 3000);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      done();
    });
    s.on('connect', () => {
      let off = 0;
      for (const n of splits) {
        if (off >= bytes.length) break;
        const cut = off + 1 + (n % Math.max(1, bytes.length - off));
        s.write(bytes.subarray(off, cut));
        off = cut;
      }
      if (off < bytes.length) s.write(bytes.subarray(off));
    });
  });
}

/** Checks every response in `buf` is well formed (a cut at the very end is allowed). */
function checkResponses(buf: Buffer): void {
  const text = buf.toString('latin1');
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end < 0) return; // a head cut by a close (a response cut short)
    const lines = text.slice(pos, end).split('\r\n');
    const status = lines.shift()!;
    assert.match(status, /^HTTP\/1\.1 \d{3} [\t\x20-\x7e\x80-\xff]*$/, `status line ${JSON.stringify(status)}`);
    const code = Number(status.slice(9, 12));
    let cl = -1;
    let chunked = false;
    let framing = 0;
    for (const line of lines) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n\x00]*)$/.exec(line);
      assert.ok(m !== null, `header line ${JSON.stringify(line)}`);
      const name = m[1]!.toLowerCase();
      if (name === 'content-length') {
        framing++;
        assert.match(m[2]!, /^\d+$/);
        cl = Number(m[2]);
      } else if (name === 'transfer-encoding') {
        framing++;
        assert.equal(m[2], 'chunked');
        chunked = true;
      }
    }
    assert.ok(framing <= 1, `${framing} framing headers in ${JSON.stringify(text.slice(pos, end))}`);
    pos = end + 4;
    if (code < 200 || code === 204 || code === 304) continue;
    if (cl >= 0) pos += cl;
    else if (chunked) {
      for (;;) {
        const e = text.indexOf('\r\n', pos);
        if (e < 0) return;
        const n = parseInt(text.slice(pos, e), 16);
        assert.ok(/^[0-9a-f]+$/.test(text.slice(pos, e)), `chunk size ${JSON.stringify(text.slice(pos, e))}`);
        if (n === 0) {
          // Trailer fields, then the empty line.
          const t = text.indexOf('\r\n\r\n', e);
          if (t < 0) return;
          for (const line of text.slice(e + 2, t).split('\r\n').filter((l) => l !== '')) {
            assert.match(line, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*[^\r\n\x00]*$/, `trailer ${JSON.stringify(line)}`);
          }
          pos = t + 4;
          break;
        }
        pos = e + 2 + n + 2;
      }
    } else return; // close-delimited: the rest is body
  }
}

describe('fuzzing through the proxy (fast-check)', () => {
  let target: RawTarget;
  let responder: RawTarget;
  let lb: Running;
  const responses = new Map<string, Buffer>();

  before(async () => {
    target = await startRawTarget({ onRequest: (_r, conn) => conn.socket.write(OK_RESPONSE) });
    responder = await startRawTarget({
      onRequest: (r, conn) => {
        const bytes = responses.get(r.target);
        if (bytes === undefined) return void conn.socket.write(OK_RESPONSE);
        conn.socket.write(bytes);
        conn.socket.end();
      },
    });
    lb = await startSwitchyard({
      // monitor: the most permissive mode, so the strongest test of "never forwards ambiguity".
      settings: { desyncMitigation: 'monitor', idleTimeoutSeconds: 0.3, requestHeaderTimeoutSeconds: 0.5 },
      listeners: [listener('req', { forward: { targetGroup: 'g' } }), listener('res', { forward: { targetGroup: 'r' } })],
      targetGroups: [group('g', [target.port]), group('r', [responder.port], { responseTimeoutMs: 1000 })],
    });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
    await responder?.close();
  });

  it('mutated requests: the target only ever sees canonical requests; responses are well formed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BASE_REQUESTS), fc.array(opArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 4 }), async (base, ops, splits) => {
        // A last, well-formed request closes the connection once the mutated one is answered
        // (or it becomes part of a body, or the refusal closes the connection first).
        const bytes = Buffer.from(apply(base, ops) + 'GET /fz/end HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 'latin1');
        // Only what this run forwarded is judged (requests end on request boundaries, and a
        // connection cut mid-request is never reused).
        const offsets = new Map(target.connections.map((c) => [c, c.data.length] as const));
        const out = await exchange(lb.port('req'), bytes, splits);
        checkResponses(out);
        for (const c of target.connections) {
          const p = strictParse(c.data.subarray(offsets.get(c) ?? 0));
          assert.equal(p.error, null, `${p.error} after ${JSON.stringify(bytes.toString('latin1'))}`);
        }
      }),
      { numRuns: 300 },
    );
    assert.equal((await request(lb.port('req'), { path: '/probe' })).status, 200, 'still serving');
  });

  let n = 0;
  it('mutated responses: the client gets a well-formed response, a 502, or a visible cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BASE_RESPONSES), fc.array(opArb, { minLength: 1, maxLength: 4 }), async (base, ops) => {
        const path = `/rfz/${n++}`;
        responses.set(path, Buffer.from(apply(base, ops), 'latin1'));
        const out = await exchange(lb.port('res'), Buffer.from(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, 'latin1'), []);
        responses.delete(path);
        checkResponses(out);
      }),
      { numRuns: 300 },
    );
    assert.equal((await request(lb.port('res'), { path: '/probe' })).status, 200, 'still serving');
  });
});
