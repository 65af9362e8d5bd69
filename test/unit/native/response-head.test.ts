/**
 * The native response-head parser (native/src/http1.cc scan_response_head), a full strict parser:
 * responses cannot be handed over, so it must accept what llhttp (strict) accepts and refuse what
 * it refuses. Differential properties against llhttp in RESPONSE mode, on generated and mutated
 * heads: when either side accepts, both do, with the same version, status, reason, header fields,
 * upgrade and keep-alive, and the same body framing (checked by feeding llhttp a body and watching
 * where it ends the message). The deliberate differences (http1.h R1-R6, all stricter) are listed
 * in EXPECTED_DIFFERENCES and pinned by a test, so they stay true.
 *
 * Needs the addon: `node scripts/build-native.mjs`. SWITCHYARD_NATIVE=off skips these tests;
 * SWITCHYARD_NATIVE_FC_RUNS scales the property runs (e.g. 100 under valgrind).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nativeHooks, RUNS, SKIP } from './native-hooks.js';
import { cutsFor } from './generators.js';
import { anyResponse, mutateResponse, mutation } from './response-generators.js';
import {
  HTTPParser,
  LENIENT_NONE,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  type HttpParseError,
  type OnHeadersComplete,
} from '../../../src/proxy/http-parser.js';

// ---- The addon --------------------------------------------------------------------------------

type Framing = 'NONE' | 'CONTENT_LENGTH' | 'CHUNKED' | 'UNTIL_CLOSE' | 'SWITCH_PROTOCOLS';

interface ResponseScanResult {
  result: 'NEED_MORE' | 'OK' | 'ERROR';
  error: string;
  steps: string[];
  start: number;
  versionMinor: number;
  status: number;
  reason: string;
  headers: string[];
  contentLength: bigint;
  chunked: boolean;
  transferEncoding: boolean;
  connectionClose: boolean;
  connectionKeepAlive: boolean;
  connectionUpgrade: boolean;
  upgradeField: boolean;
  upgrade: boolean;
  headLength: number;
  framing: Framing;
  framingAfterHead: Framing;
  keepAlive: boolean;
  keepAliveAfterHead: boolean;
}

interface NativeHooks {
  scanResponseHead(head: Buffer, maxFields: number, cuts?: number[]): ResponseScanResult;
}

const addon = (): NativeHooks => nativeHooks<NativeHooks>();

/** Large enough never to be the reason for a verdict in the differential tests (R4). */
const MAX_FIELDS = 1000;

function scan(head: Buffer | string, cuts?: number[], maxFields = MAX_FIELDS): ResponseScanResult {
  return addon().scanResponseHead(typeof head === 'string' ? Buffer.from(head, 'latin1') : head, maxFields, cuts);
}

// ---- llhttp in RESPONSE mode ------------------------------------------------------------------

interface LlhttpResponse {
  error: string | null;
  headersDone: boolean;
  versionMajor: number;
  versionMinor: number;
  status: number;
  reason: string;
  headers: string[];
  keepAlive: boolean;
  upgrade: boolean;
  consumed: number;
  completed: number;
  body: number;
}

const parser = new HTTPParser();

/**
 * Feeds `pieces` to a fresh strict response parser (`skipBody`: the request was HEAD, as
 * node:http's client answers kOnHeadersComplete). Stops at the first error; `finish` then tells
 * the parser the connection closed. Callbacks of a following message are not recorded.
 */
function llhttpResponse(pieces: readonly Buffer[], skipBody = false, finish = false): LlhttpResponse {
  const r: LlhttpResponse = {
    error: null,
    headersDone: false,
    versionMajor: 0,
    versionMinor: 0,
    status: 0,
    reason: '',
    headers: [],
    keepAlive: false,
    upgrade: false,
    consumed: 0,
    completed: 0,
    body: 0,
  };
  parser.initialize(HTTPParser.RESPONSE, {}, 1 << 20, LENIENT_NONE);
  parser[kOnHeaders] = (headers: string[]) => {
    if (!r.headersDone) r.headers.push(...headers);
  };
  const onHeadersComplete: OnHeadersComplete = (major, minor, headers, _m, _u, status, message, upgrade, keepAlive) => {
    if (r.headersDone) return 0; // a following message
    if (headers !== undefined) r.headers.push(...headers);
    Object.assign(r, { headersDone: true, versionMajor: major, versionMinor: minor, status, reason: message, upgrade, keepAlive });
    return skipBody ? 1 : 0;
  };
  parser[kOnHeadersComplete] = onHeadersComplete;
  parser[kOnBody] = (b: Buffer) => {
    if (r.completed === 0) r.body += b.length;
  };
  parser[kOnMessageComplete] = () => {
    r.completed++;
  };
  const fail = (e: HttpParseError): LlhttpResponse => {
    r.error = `${e.code}: ${e.reason}`;
    return r;
  };
  for (const piece of pieces) {
    if (piece.length === 0) continue; // node's binding takes an empty buffer for the end of input
    const ret = parser.execute(piece);
    if (typeof ret !== 'number') return fail(ret as HttpParseError);
    r.consumed += ret;
  }
  if (finish) {
    const e = parser.finish();
    if (e !== undefined) return fail(e);
  }
  return r;
}

const PROBE = Buffer.from('0\r\n\r\n' + 'x'.repeat(59), 'latin1');
const NEXT_RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'latin1');

/**
 * Checks, by feeding llhttp body bytes after `head`, that it frames the body as `framing` says
 * and keeps (or closes) the connection after the message as `keepAlive` says.
 */
function assertLlhttpFraming(head: Buffer, s: ResponseScanResult, skipBody: boolean, ctx: string): void {
  const framing = skipBody ? s.framingAfterHead : s.framing;
  const keepAlive = skipBody ? s.keepAliveAfterHead : s.keepAlive;
  const alone = llhttpResponse([head], skipBody);
  let messageBytes: Buffer[] | null = null; // the whole message, when it ends within the probe
  switch (framing) {
    case 'NONE':
    case 'SWITCH_PROTOCOLS':
      assert.equal(alone.completed, 1, `${framing}: complete with the head: ${ctx}`);
      assert.equal(framing === 'SWITCH_PROTOCOLS', s.status === 101, ctx);
      if (framing === 'NONE') messageBytes = [head];
      break;
    case 'CHUNKED': {
      const r = llhttpResponse([head, PROBE], skipBody);
      assert.deepEqual([alone.completed, r.completed, r.body], [0, 1, 0], `CHUNKED: ${ctx}`);
      messageBytes = [head, PROBE.subarray(0, 5)];
      break;
    }
    case 'CONTENT_LENGTH': {
      const length = s.contentLength;
      // The probe completes the body when the length is at most the probe's (exactly: too).
      const fits = length <= BigInt(PROBE.length);
      const fed = fits ? Number(length) : PROBE.length;
      const r = llhttpResponse([head, PROBE], skipBody);
      assert.deepEqual([alone.completed, r.completed, r.body], [0, fits ? 1 : 0, fed], `CONTENT_LENGTH ${length}: ${ctx}`);
      if (fits) messageBytes = [head, PROBE.subarray(0, fed)];
      break;
    }
    case 'UNTIL_CLOSE': {
      const r = llhttpResponse([head, PROBE], skipBody, true);
      assert.deepEqual([alone.completed, r.body, r.completed, r.error], [0, PROBE.length, 1, null], `UNTIL_CLOSE: ${ctx}`);
      // keepAlive may be true here (a 1xx with a non-chunked Transfer-Encoding, as llhttp says),
      // but the message only ends with the connection.
      break;
    }
  }
  if (messageBytes !== null) {
    // After the message, llhttp either parses the next response or refuses "data after close".
    const next = llhttpResponse([...messageBytes, NEXT_RESPONSE], skipBody);
    assert.equal(next.completed, keepAlive ? 2 : 1, `keep-alive ${keepAlive}: ${ctx}: ${next.error}`);
    const closed = next.error?.startsWith('HPE_CLOSED_CONNECTION') ?? false;
    assert.deepEqual([next.error === null, closed], [keepAlive, !keepAlive], `keep-alive ${keepAlive}: ${ctx}: ${next.error}`);
  }
}

// ---- What the parser deliberately refuses although llhttp accepts (http1.h R1-R6) ------------

const CTL_IN_REASON = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^[\r\n]*([A-Z]+)\/(\d)\.(\d) \d{3}(?: ([^\r\n]*))?[\r\n]/;

/** Bytes that complete a head in the common ways (a field line, the end of the head). */
const CONTINUATIONS = ['\r\n\r\n', 'X: y\r\n\r\n', '\nX: y\r\n\r\n'].map((s) => Buffer.from(s, 'latin1'));

/** The documented differences an input falls under (with the error we report for each). */
function expectedDifferences(buf: Buffer): { difference: string; error: string }[] {
  const text = buf.toString('latin1');
  const found: { difference: string; error: string }[] = [];
  const m = STATUS_LINE.exec(text);
  if (m !== null && !(m[1] === 'HTTP' && m[2] === '1' && (m[3] === '0' || m[3] === '1'))) {
    found.push({ difference: 'R1 protocol/version other than HTTP/1.0 and HTTP/1.1', error: 'BAD_VERSION' });
  }
  if (m !== null && m[4] !== undefined && CTL_IN_REASON.test(m[4])) {
    found.push({ difference: 'R2 control byte in the reason phrase', error: 'BAD_REASON' });
  }
  if (/^[\r\n]*[^\r\n]*\r\r/.test(text)) found.push({ difference: 'R6 status line ended by CR CR', error: 'BARE_CR' });
  for (const cl of text.matchAll(/\ncontent-length:[ \t]*(\d+) *\r\n/gi)) {
    if (BigInt(cl[1]!) > 2n ** 63n - 1n && BigInt(cl[1]!) < 2n ** 64n) {
      found.push({ difference: 'R3 Content-Length above 2^63-1', error: 'BAD_CONTENT_LENGTH' });
    }
  }
  return found;
}

/** The differential check: run both parsers on `buf` and compare verdicts and facts. */
function compareWithLlhttp(buf: Buffer, skipBody: boolean): ResponseScanResult {
  const s = scan(buf);
  const ll = llhttpResponse([buf], skipBody);
  const ctx = JSON.stringify(buf.toString('latin1'));
  if (s.result === 'OK') {
    const head = buf.subarray(0, s.headLength);
    const llHead = llhttpResponse([head], skipBody);
    assert.equal(llHead.error, null, `llhttp refused a head we accept: ${ctx}`);
    assert.ok(llHead.headersDone, `llhttp saw no complete head in ${ctx}`);
    assert.equal(llhttpResponse([buf.subarray(0, s.headLength - 1)], skipBody).headersDone, false, `head end: ${ctx}`);
    assert.equal(llHead.consumed, s.headLength, ctx);
    assert.deepEqual([llHead.versionMajor, llHead.versionMinor], [1, s.versionMinor], ctx);
    assert.equal(llHead.status, s.status, ctx);
    assert.equal(llHead.reason, s.reason, ctx);
    assert.deepEqual(llHead.headers, s.headers, ctx);
    assert.equal(llHead.upgrade, s.upgrade, ctx);
    // node's kOnHeadersComplete reports keep-alive before a HEAD response's skip is known.
    assert.equal(llHead.keepAlive, s.keepAlive, `keep-alive: ${ctx}`);
    assertLlhttpFraming(head, s, skipBody, ctx);
  } else if (s.result === 'ERROR') {
    if (ll.error !== null) return s;
    // llhttp judges some lines one byte late (an empty Content-Length when the next line starts):
    // whatever follows, it must refuse the head too, unless a documented difference applies.
    for (const more of CONTINUATIONS) {
      const longer = Buffer.concat([buf, more]);
      if (llhttpResponse([longer], skipBody).error !== null) continue;
      const diffs = expectedDifferences(longer);
      assert.ok(diffs.length > 0, `we refuse (${s.error}) what llhttp accepts: ${JSON.stringify(longer.toString('latin1'))}`);
      assert.ok(diffs.some((d) => d.error === s.error), `${s.error} for ${diffs.map((d) => d.difference).join(', ')}: ${ctx}`);
    }
  } else {
    assert.equal(ll.error, null, `llhttp refused bytes we take (NEED_MORE): ${ctx}: ${ll.error}`);
    assert.equal(ll.headersDone, false, `llhttp has a complete head, we need more: ${ctx}`);
  }
  return s;
}

// ---- Tests ------------------------------------------------------------------------------------

describe('native response head parser', { skip: SKIP }, () => {
  it('agrees with llhttp on generated heads: same verdict, same facts, same framing', () => {
    const seen = { OK: 0, ERROR: 0, NEED_MORE: 0 };
    const framings = new Set<string>();
    fc.assert(
      fc.property(anyResponse, fc.boolean(), (head, skipBody) => {
        const s = compareWithLlhttp(Buffer.from(head, 'latin1'), skipBody);
        seen[s.result]++;
        if (s.result === 'OK') framings.add(skipBody ? s.framingAfterHead : s.framing);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    assert.ok(seen.OK > RUNS / 5 && seen.ERROR > RUNS / 10, JSON.stringify(seen));
    if (RUNS >= 1000) assert.equal(framings.size, 5, [...framings].join());
  });

  it('agrees with llhttp on mutated heads', () => {
    const seen = { OK: 0, ERROR: 0, NEED_MORE: 0 };
    fc.assert(
      fc.property(anyResponse, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (head, ms, skipBody) => {
        const s = compareWithLlhttp(Buffer.from(ms.reduce(mutateResponse, head), 'latin1'), skipBody);
        seen[s.result]++;
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    assert.ok(seen.OK > RUNS / 10 && seen.ERROR > RUNS / 10, JSON.stringify(seen));
  });

  it('gives the same verdict when the head arrives in pieces (the scan resumes)', () => {
    const heads = fc.oneof(anyResponse, fc.tuple(anyResponse, mutation).map(([h, m]) => mutateResponse(h, m)));
    fc.assert(
      fc.property(
        heads.chain((h) => fc.tuple(fc.constant(h), cutsFor(h.length))),
        ([head, cuts]) => {
          const once = scan(head);
          const pieces = scan(head, cuts);
          assert.deepEqual({ ...pieces, steps: [] }, { ...once, steps: [] }, JSON.stringify({ head, cuts }));
          assert.ok(pieces.steps.slice(0, -1).every((r) => r === 'NEED_MORE'), JSON.stringify(pieces.steps));
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it('says NEED_MORE for every strict prefix of a valid head', () => {
    fc.assert(
      fc.property(anyResponse, (head) => {
        const buf = Buffer.from(head, 'latin1');
        const whole = scan(buf);
        if (whole.result !== 'OK') return;
        for (let k = 0; k < whole.headLength; k++) {
          assert.equal(scan(buf.subarray(0, k)).result, 'NEED_MORE', `prefix ${k} of ${JSON.stringify(head)}`);
        }
      }),
      { numRuns: Math.ceil(RUNS / 10), includeErrorInReport: true },
    );
  });

  it('refuses, as llhttp does, the malformed and ambiguous forms', () => {
    const S = 'HTTP/1.1 200 OK\r\n';
    const cases: readonly (readonly [string, string])[] = [
      [S + 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'CONTENT_LENGTH_WITH_TRANSFER_ENCODING'],
      [S + 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 'CONTENT_LENGTH_WITH_TRANSFER_ENCODING'],
      [S + 'Content-Length: 0\r\nTransfer-Encoding:\r\n\r\n', 'CONTENT_LENGTH_WITH_TRANSFER_ENCODING'],
      [S + 'Content-Length: 5\r\nContent-Length: 5\r\n\r\n', 'DUPLICATE_CONTENT_LENGTH'],
      [S + 'Content-Length: 5\r\nContent-Length: 6\r\n\r\n', 'DUPLICATE_CONTENT_LENGTH'],
      [S + 'Content-Length: +5\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      [S + 'Content-Length: 5\t\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      [S + 'Content-Length: 1 2\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      [S + 'Content-Length:\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      [S + 'Content-Length: 18446744073709551616\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      [S + 'X-A: b\r\n c\r\n\r\n', 'OBS_FOLD'],
      [S + ' X-A: b\r\n\r\n', 'OBS_FOLD'],
      [S + 'X-A: b\n\r\n', 'BARE_LF'],
      ['HTTP/1.1 200 OK\n\r\n', 'BARE_LF'],
      [S + 'X-A: b\rc\r\n\r\n', 'BARE_CR'],
      [S + '\r\r\n', 'BARE_CR'],
      [S + 'X-A : b\r\n\r\n', 'BAD_FIELD_NAME'],
      [S + ': b\r\n\r\n', 'BAD_FIELD_NAME'],
      [S + 'X-A: a\0b\r\n\r\n', 'BAD_FIELD_VALUE'],
      [S + 'X-A: \x7f\r\n\r\n', 'BAD_FIELD_VALUE'],
      ['HTTP/1.1 20 OK\r\n\r\n', 'BAD_STATUS_LINE'],
      ['HTTP/1.1 2000 OK\r\n\r\n', 'BAD_STATUS_LINE'],
      ['HTTP/1.1  200 OK\r\n\r\n', 'BAD_STATUS_LINE'],
      ['HTTP/1.1 200\tOK\r\n\r\n', 'BAD_STATUS_LINE'],
      ['http/1.1 200 OK\r\n\r\n', 'BAD_VERSION'],
      ['HTTP/1.1\r\n\r\n', 'BAD_STATUS_LINE'],
    ];
    for (const [head, error] of cases) {
      const s = scan(head);
      assert.deepEqual([s.result, s.error], ['ERROR', error], JSON.stringify(head));
      assert.notEqual(llhttpResponse([Buffer.from(head, 'latin1')]).error, null, `llhttp accepts ${JSON.stringify(head)}`);
    }
  });

  it('reads llhttp facts that are easy to get wrong', () => {
    const S = 'HTTP/1.1 200 OK\r\n';
    const cases: readonly (readonly [string, Partial<ResponseScanResult>])[] = [
      // A trailing HTAB after "chunked" makes it not chunked for llhttp; a trailing SP does not.
      [S + 'Transfer-Encoding: chunked\t\r\n\r\n', { chunked: false, framing: 'UNTIL_CLOSE', headers: ['Transfer-Encoding', 'chunked'] }],
      [S + 'Transfer-Encoding: chunked \r\n\r\n', { chunked: true, framing: 'CHUNKED' }],
      [S + 'Transfer-Encoding: gzip, chunked\r\n\r\n', { chunked: true, framing: 'CHUNKED' }],
      [S + 'Transfer-Encoding: chunked, gzip\r\n\r\n', { chunked: false, framing: 'UNTIL_CLOSE', keepAlive: false }],
      [S + 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n', { chunked: true }],
      [S + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n', { chunked: false }],
      [S + 'Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n', { chunked: true }],
      [S + 'Transfer-Encoding:\r\nContent-Length: 3\r\n\r\n', { transferEncoding: false, contentLength: 3n }],
      [S + 'Connection: close\t\r\nContent-Length: 0\r\n\r\n', { connectionClose: false, keepAlive: true }],
      [S + 'Connection: close ,x\r\nContent-Length: 0\r\n\r\n', { connectionClose: true, keepAlive: false }],
      [S + 'Proxy-Connection: close\r\nContent-Length: 0\r\n\r\n', { connectionClose: true, keepAlive: false }],
      ['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', { keepAlive: true }],
      ['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', { keepAlive: false }],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', { upgrade: true, framing: 'SWITCH_PROTOCOLS' }],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade:\r\nConnection: Upgrade\r\n\r\n', { upgrade: false, upgradeField: false }],
      ['HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', { upgrade: false }],
      ['HTTP/1.1 204 No Content\r\n\r\n', { framing: 'NONE', keepAlive: true }],
      ['HTTP/1.1 200 OK\r\n\r\n', { framing: 'UNTIL_CLOSE', keepAlive: false, reason: 'OK' }],
      ['HTTP/1.1 200\r\nContent-Length: 3\r\n\r\n', { reason: '', framing: 'CONTENT_LENGTH', framingAfterHead: 'NONE' }],
      ['HTTP/1.1 200  OK  \r\nContent-Length: 0\r\n\r\n', { reason: ' OK  ', framing: 'NONE' }],
      ['HTTP/1.1 099 Odd\r\n\r\n', { status: 99, framing: 'UNTIL_CLOSE' }],
      ['HTTP/1.1 150 Odd\r\n\r\n', { status: 150, framing: 'NONE' }],
      ['\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { start: 3 }],
      [S + 'X-Caf\xe9: \xe9t\xe9 \t\r\nContent-Length: 0\r\n\r\n', { result: 'ERROR', error: 'BAD_FIELD_NAME' }],
      [S + 'X-Cafe: \xe9t\xe9 \t\r\nContent-Length: 0\r\n\r\n', { headers: ['X-Cafe', '\xe9t\xe9', 'Content-Length', '0'] }],
      [S + 'Content-Length: 9223372036854775807\r\n\r\n', { contentLength: 9223372036854775807n }],
    ];
    for (const [head, facts] of cases) {
      const s = scan(head);
      const picked = Object.fromEntries(Object.keys(facts).map((k) => [k, s[k as keyof ResponseScanResult]]));
      assert.deepEqual(picked, facts, JSON.stringify(head));
      if (s.result === 'OK') compareWithLlhttp(Buffer.from(head, 'latin1'), false);
    }
  });

  it('EXPECTED_DIFFERENCES: refuses these forms that llhttp accepts (http1.h R1-R6)', () => {
    const EXPECTED_DIFFERENCES: readonly (readonly [string, string, string, number?])[] = [
      ['R1 HTTP/2.0 status line', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', 'BAD_VERSION'],
      ['R1 HTTP/0.9 status line', 'HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n', 'BAD_VERSION'],
      ['R1 RTSP', 'RTSP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', 'BAD_VERSION'],
      ['R1 ICE', 'ICE/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', 'BAD_VERSION'],
      ['R2 NUL in the reason', 'HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n', 'BAD_REASON'],
      ['R2 control byte in the reason', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n', 'BAD_REASON'],
      ['R2 DEL in the reason', 'HTTP/1.1 200 OK\x7f\r\nContent-Length: 0\r\n\r\n', 'BAD_REASON'],
      ['R3 Content-Length 2^63', 'HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      ['R3 Content-Length 2^64-1', 'HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      ['R4 more fields than the caller allows', 'HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'TOO_MANY_FIELDS', 2],
      ['R6 status line ended by CR CR', 'HTTP/1.1 200 OK\r\rX: y\r\n\r\n', 'BARE_CR'],
    ];
    for (const [name, head, error, maxFields] of EXPECTED_DIFFERENCES) {
      const buf = Buffer.from(head, 'latin1');
      const ll = llhttpResponse([buf]);
      assert.ok(ll.error === null && ll.headersDone, `${name}: llhttp accepts it (else drop the difference): ${ll.error}`);
      const s = scan(buf, undefined, maxFields ?? MAX_FIELDS);
      assert.deepEqual([s.result, s.error], ['ERROR', error], name);
    }
  });
});
