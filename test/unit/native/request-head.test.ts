/**
 * The native request-head scanner (native/src/http1.cc scan_request_head), a recognizer of the
 * "clean subset" that the native engine serves itself. The property that matters: whatever it
 * calls CLEAN, llhttp (strict, as the TypeScript path runs it) accepts with the same method,
 * target, version, header fields (same order, same trimmed values), keep-alive and framing, and
 * the TypeScript desync classifier (src/proxy/framing.ts) calls compliant. The
 * rest is HANDOVER, and the table below pins a reason for each smuggling-style form. Also: every
 * strict prefix of a clean head is NEED_MORE, and feeding a head in pieces (the scanner resumes)
 * gives the same verdict as feeding it at once.
 *
 * Needs the addon: `node scripts/build-native.mjs`. SWITCHYARD_NATIVE=off skips these tests;
 * SWITCHYARD_NATIVE_FC_RUNS scales the property runs (e.g. 100 under valgrind).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { nativeHooks, RUNS, SKIP } from './native-hooks.js';
import { TCHARS, cutsFor, mostly, mutate, mutations, range, strOf } from './generators.js';
import {
  HTTPParser,
  LENIENT_NONE,
  METHODS,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  type HttpParseError,
  type OnHeadersComplete,
} from '../../../src/proxy/http-parser.js';
import { COMPLIANT, classifyRequest } from '../../../src/proxy/framing.js';

// ---- The addon --------------------------------------------------------------------------------

interface RequestScanResult {
  result: 'NEED_MORE' | 'CLEAN' | 'HANDOVER';
  reason: string;
  steps: string[];
  method: string;
  target: string;
  headers: string[];
  contentLength: number;
  close: boolean;
  headLength: number;
  hostIndex: number;
}

interface NativeHooks {
  scanRequestHead(head: Buffer, maxFields: number, cuts?: number[]): RequestScanResult;
}

const addon = (): NativeHooks => nativeHooks<NativeHooks>();

const MAX_FIELDS = 100;

function scan(head: string, cuts?: number[], maxFields = MAX_FIELDS): RequestScanResult {
  return addon().scanRequestHead(Buffer.from(head, 'latin1'), maxFields, cuts);
}

// ---- llhttp, driven as src/listener/http-connection.ts drives it -------------------------------

interface LlhttpRequest {
  error: string | null;
  headersDone: boolean;
  method: string;
  url: string;
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  keepAlive: boolean;
  upgrade: boolean;
  consumed: number;
  completed: number;
  body: number;
}

const parser = new HTTPParser();

/** Feeds `pieces` in order to a fresh strict request parser; stops at the first error. */
function llhttpRequest(...pieces: Buffer[]): LlhttpRequest {
  const r: LlhttpRequest = {
    error: null,
    headersDone: false,
    method: '',
    url: '',
    versionMajor: 0,
    versionMinor: 0,
    headers: [],
    keepAlive: false,
    upgrade: false,
    consumed: 0,
    completed: 0,
    body: 0,
  };
  parser.initialize(HTTPParser.REQUEST, {}, 1 << 20, LENIENT_NONE);
  parser[kOnHeaders] = (headers: string[], url: string) => {
    r.headers.push(...headers);
    r.url += url;
  };
  const onHeadersComplete: OnHeadersComplete = (major, minor, headers, method, url, _s, _m, upgrade, keepAlive) => {
    if (headers !== undefined) r.headers.push(...headers);
    if (url !== undefined) r.url += url;
    r.headersDone = true;
    r.method = METHODS[method ?? -1] ?? '?';
    r.versionMajor = major;
    r.versionMinor = minor;
    r.upgrade = upgrade;
    r.keepAlive = keepAlive;
    return 0;
  };
  parser[kOnHeadersComplete] = onHeadersComplete;
  parser[kOnBody] = (b: Buffer) => {
    r.body += b.length;
  };
  parser[kOnMessageComplete] = () => {
    r.completed++;
  };
  for (const piece of pieces) {
    if (piece.length === 0) continue; // node's binding takes an empty buffer for the end of input
    const ret = parser.execute(piece);
    if (typeof ret !== 'number') {
      const e = ret as HttpParseError;
      r.error = `${e.code}: ${e.reason}`;
      return r;
    }
    r.consumed += ret;
  }
  return r;
}

/**
 * Asserts that llhttp accepts a head the scanner called CLEAN, with the same facts, and that the
 * TypeScript path's desync classifier calls it compliant.
 */
function assertLlhttpAgrees(buf: Buffer, s: RequestScanResult): void {
  assert.equal(s.result, 'CLEAN');
  const head = buf.subarray(0, s.headLength);
  const ll = llhttpRequest(head);
  const ctx = JSON.stringify(head.toString('latin1'));
  assert.equal(ll.error, null, `llhttp refused a CLEAN head ${ctx}`);
  assert.ok(ll.headersDone, `llhttp saw no complete head in ${ctx}`);
  assert.equal(ll.consumed, s.headLength, ctx);
  assert.equal(ll.method, s.method, ctx);
  assert.equal(ll.url, s.target, ctx);
  assert.deepEqual([ll.versionMajor, ll.versionMinor], [1, 1], ctx);
  assert.deepEqual(ll.headers, s.headers, ctx);
  assert.equal(ll.keepAlive, !s.close, ctx);
  assert.equal(ll.upgrade, false, ctx);
  // The head ended before this byte: llhttp had not seen its end one byte earlier.
  assert.equal(llhttpRequest(buf.subarray(0, s.headLength - 1)).headersDone, false, ctx);
  // Framing: content-length body bytes (none without it) complete the message. Long bodies are
  // checked up to a point: 64 bytes are body and the message is not complete yet.
  if (s.contentLength > 0) {
    assert.equal(ll.completed, 0, ctx);
    const fed = Math.min(s.contentLength, 64);
    const more = llhttpRequest(head, Buffer.alloc(fed, 0x78));
    assert.equal(more.error, null, ctx);
    assert.deepEqual([more.completed, more.body], [s.contentLength <= 64 ? 1 : 0, fed], ctx);
  } else {
    assert.equal(ll.completed, 1, ctx);
  }
  assert.equal(s.headers[s.hostIndex * 2]!.toLowerCase(), 'host', ctx);
  // The TypeScript path's desync classifier (src/proxy/framing.ts) finds nothing to say either.
  assert.equal(classifyRequest(s.method, 1, 1, s.target, s.headers), COMPLIANT, ctx);
}

// ---- Generators -------------------------------------------------------------------------------

const CLEAN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const;
const TARGET_CHARS = range(0x21, 0x7e).filter((c) => c !== '#');
const VALUE_CHARS = ['\t', ...range(0x20, 0x7e)];
const SPECIAL_NAMES = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'proxy-connection', 'upgrade', 'expect', 'te',
  'http2-settings',
]);


/** framing.ts look-alikes: the letters of a framing name, spelled otherwise. */
function looksLikeFramingName(name: string): boolean {
  const letters = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return name.length >= 13 && name.length <= 64 && (letters === 'transferencoding' || letters === 'contentlength');
}

const ows = strOf([' ', '\t'], 0, 2);
const plainName = strOf(TCHARS, 1, 16).filter((n) => !SPECIAL_NAMES.has(n.toLowerCase()) && !looksLikeFramingName(n));
/** A value of the clean subset: no leading/trailing OWS of its own (the line adds some). */
const plainValue = strOf(VALUE_CHARS, 0, 24).map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));

interface Field {
  readonly name: string;
  readonly value: string;
  readonly pre: string;
  readonly post: string;
}

const plainField: fc.Arbitrary<Field> = fc.record({ name: plainName, value: plainValue, pre: ows, post: ows });

/** A head inside the clean subset, with the facts the scanner must report. */
interface CleanCase {
  readonly head: string;
  readonly method: string;
  readonly target: string;
  readonly fields: readonly Field[];
  readonly contentLength: number;
  readonly close: boolean;
  readonly hostIndex: number;
}

function line(f: Field): string {
  return `${f.name}:${f.pre}${f.value}${f.post}\r\n`;
}

const cleanCase: fc.Arbitrary<CleanCase> = fc
  .record({
    method: fc.constantFrom(...CLEAN_METHODS),
    target: strOf(TARGET_CHARS, 0, 24).map((t) => '/' + t),
    fields: fc.array(plainField, { maxLength: 8 }),
    host: fc.record({ name: fc.constantFrom('Host', 'host', 'HOST'), value: plainValue, pre: ows, post: ows }),
    hostAt: fc.nat(),
    contentLength: fc.option(fc.record({ digits: strOf(range(0x30, 0x39), 1, 15), pre: ows, post: strOf([' '], 0, 2) })),
    connection: fc.option(
      fc.record({ value: fc.constantFrom('close', 'keep-alive', 'Close', 'KEEP-ALIVE', 'Keep-Alive'), pre: ows, post: strOf([' '], 0, 2) }),
    ),
  })
  .map((g) => {
    const fields: Field[] = [...g.fields];
    const hostIndex = g.hostAt % (fields.length + 1);
    fields.splice(hostIndex, 0, g.host);
    let contentLength = -1;
    if (g.contentLength !== null && g.method !== 'GET' && g.method !== 'HEAD') {
      fields.push({ name: 'Content-Length', value: g.contentLength.digits, pre: g.contentLength.pre, post: g.contentLength.post });
      contentLength = Number(g.contentLength.digits);
    }
    let close = false;
    if (g.connection !== null) {
      fields.push({ name: 'Connection', value: g.connection.value, pre: g.connection.pre, post: g.connection.post });
      close = g.connection.value.toLowerCase() === 'close';
    }
    const head = `${g.method} ${g.target} HTTP/1.1\r\n${fields.map(line).join('')}\r\n`;
    return { head, method: g.method, target: g.target, fields, contentLength, close, hostIndex };
  });


/** Heads built from good and bad parts alike: a share is CLEAN, the rest is not. */
const anyHead: fc.Arbitrary<string> = fc
  .record({
    method: mostly(
      fc.constantFrom(...CLEAN_METHODS),
      fc.constantFrom('get', 'CONNECT', 'TRACE', 'PRI', 'M-SEARCH', 'GETT', 'PROPFIND', 'SOURCE', '', 'G\0T'),
    ),
    sp1: mostly(fc.constant(' '), fc.constantFrom('  ', '\t', '')),
    target: mostly(
      strOf(TARGET_CHARS, 0, 16).map((t) => '/' + t),
      fc.constantFrom('*', 'http://a/', '/a#b', '/\x80', '/a b', '', '/\x7f', '/\0', 'a'),
    ),
    sp2: mostly(fc.constant(' '), fc.constantFrom('  ', '\t')),
    version: mostly(fc.constant('HTTP/1.1'), fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/0.9', 'HTTP/1.11')),
    eol: mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', '\r\r\n')),
    host: mostly(
      fc.record({ name: fc.constantFrom('Host', 'host'), value: plainValue, pre: ows, post: ows }).map((f): readonly string[] => [line(f)]),
      fc.constantFrom<readonly string[]>([], ['Host: a\r\n', 'Host: b\r\n'], ['Host: a\r\n', 'host: a\r\n']),
    ),
    hostAt: fc.nat(),
    fields: fc.array(
      fc.oneof(
        { weight: 20, arbitrary: plainField.map(line) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            'Content-Length: 5\r\n', 'Content-Length: 0\r\n', 'Content-Length:  12 \r\n', 'Content-Length: 5\t\r\n',
            'Content-Length: +5\r\n', 'Content-Length: 5,5\r\n', 'Content-Length: 1 2\r\n', 'Content-Length:\r\n',
            'Content-Length: 1234567890123456\r\n', 'Content-Length: 0x5\r\n', 'Transfer-Encoding: chunked\r\n',
            'Transfer-Encoding: gzip\r\n', 'transfer-encoding:\r\n', 'TE: trailers\r\n', 'Upgrade: websocket\r\n',
            'Upgrade:\r\n', 'Expect: 100-continue\r\n', 'HTTP2-Settings: AAA\r\n', 'Connection: close\r\n',
            'Connection: keep-alive\r\n', 'Connection: upgrade\r\n', 'Connection: close, keep-alive\r\n',
            'Connection: close\t\r\n', 'Connection: close \r\n', 'Connection: closed\r\n', 'Connection:\r\n',
            'Connection:\tKeep-Alive\r\n', 'Proxy-Connection: close\r\n', 'Transfer_Encoding: chunked\r\n',
            'Content.Length: 5\r\n', 'Keep-Alive: timeout=5\r\n',
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            ' folded\r\n', '\tfolded\r\n', 'X-A : b\r\n', 'X-A\t: b\r\n', ': b\r\n', 'X A: b\r\n', 'X-A: a\rb\r\n',
            'X-A: a\nb\r\n', 'X-A: \x80\r\n', 'X-A: \xff\r\n', 'X-A: a\0b\r\n', 'X-A: \x7f\r\n', 'X-A: \x01\r\n',
            'X-\x80: b\r\n', 'X-A: b\n', 'X-A; b\r\n', 'X-A:b\r\n',
          ),
        },
      ),
      { maxLength: 6 },
    ),
    end: mostly(fc.constant('\r\n'), fc.constantFrom('\n', '', '\r')),
  })
  .map((g) => {
    const fields = [...g.fields];
    fields.splice(g.hostAt % (fields.length + 1), 0, ...g.host);
    return `${g.method}${g.sp1}${g.target}${g.sp2}${g.version}${g.eol}${fields.join('')}${g.end}`;
  });

const INTERESTING_BYTES = ['\r', '\n', '\t', ' ', ':', '\0', '\x7f', '\x80', '\xff', '#', ',', 'a', 'A', '/', '"', '\x0b'];
const NASTY_LINES = [
  'Transfer-Encoding: chunked\r\n', 'Content-Length: 5\r\n', 'Host: b\r\n', 'Connection: upgrade\r\n',
  'Upgrade: websocket\r\n', 'Expect: 100-continue\r\n', 'TE: trailers\r\n', 'Transfer_Encoding: chunked\r\n',
  ' folded\r\n', '\tfolded\r\n', 'X: a\rb\r\n', 'Connection: close, keep-alive\r\n', 'Proxy-Connection: close\r\n',
  'X-Fine: 1\r\n', '\r\n',
];

const mutation = mutations(INTERESTING_BYTES, NASTY_LINES, true);

/** Checks the invariants every verdict must satisfy, whatever the input. */
function checkVerdict(head: string, s: RequestScanResult): void {
  const ctx = JSON.stringify(head);
  const end = head.indexOf('\r\n\r\n');
  if (s.result === 'CLEAN') {
    assert.equal(s.headLength, end + 4, `a CLEAN head ends at the first CRLFCRLF: ${ctx}`);
    assertLlhttpAgrees(Buffer.from(head, 'latin1'), s);
  } else if (s.result === 'HANDOVER') {
    assert.notEqual(s.reason, 'NONE', ctx);
  } else {
    assert.equal(end, -1, `NEED_MORE although the head is complete: ${ctx}`);
  }
}

// ---- Tests ------------------------------------------------------------------------------------

describe('native request head scanner', { skip: SKIP }, () => {
  it('says CLEAN for heads of the clean subset, with the facts of the head, and llhttp agrees', () => {
    fc.assert(
      fc.property(cleanCase, (c) => {
        const s = scan(c.head);
        assert.equal(s.result, 'CLEAN', `${JSON.stringify(c.head)}: ${s.reason}`);
        assert.equal(s.method, c.method);
        assert.equal(s.target, c.target);
        assert.deepEqual(s.headers, c.fields.flatMap((f) => [f.name, f.value]));
        assert.equal(s.contentLength, c.contentLength);
        assert.equal(s.close, c.close);
        assert.equal(s.hostIndex, c.hostIndex);
        assert.equal(s.headLength, c.head.length);
        assertLlhttpAgrees(Buffer.from(c.head, 'latin1'), s);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it('whatever it calls CLEAN among arbitrary heads, llhttp accepts with the same facts', () => {
    const seen = { CLEAN: 0, HANDOVER: 0, NEED_MORE: 0 };
    fc.assert(
      fc.property(anyHead, (head) => {
        const s = scan(head);
        seen[s.result]++;
        checkVerdict(head, s);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    // Not vacuous: the generator reaches both verdicts often.
    assert.ok(seen.CLEAN > RUNS / 10, JSON.stringify(seen));
    assert.ok(seen.HANDOVER > RUNS / 4, JSON.stringify(seen));
  });

  it('whatever it calls CLEAN among mutations of clean heads, llhttp accepts with the same facts', () => {
    const seen = { CLEAN: 0, HANDOVER: 0, NEED_MORE: 0 };
    fc.assert(
      fc.property(cleanCase, fc.array(mutation, { minLength: 1, maxLength: 3 }), (c, ms) => {
        const head = ms.reduce((h, m) => mutate(h, m), c.head);
        const s = scan(head);
        seen[s.result]++;
        checkVerdict(head, s);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    assert.ok(seen.CLEAN > RUNS / 20 && seen.HANDOVER > RUNS / 4, JSON.stringify(seen));
  });

  it('gives the same verdict when the head arrives in pieces (the scan resumes)', () => {
    const heads = fc.oneof(cleanCase.map((c) => c.head), anyHead, fc.tuple(cleanCase, mutation).map(([c, m]) => mutate(c.head, m)));
    fc.assert(
      fc.property(
        heads.chain((h) => fc.tuple(fc.constant(h), cutsFor(h.length))),
        ([head, cuts]) => {
          const once = scan(head);
          const pieces = scan(head, cuts);
          assert.deepEqual({ ...pieces, steps: [] }, { ...once, steps: [] }, JSON.stringify({ head, cuts }));
          // Every call before the last one needed more.
          assert.ok(pieces.steps.slice(0, -1).every((r) => r === 'NEED_MORE'), JSON.stringify(pieces.steps));
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it('says NEED_MORE for every strict prefix of a clean head, fed at once or byte by byte', () => {
    fc.assert(
      fc.property(cleanCase, (c) => {
        const buf = Buffer.from(c.head, 'latin1');
        for (let k = 0; k < buf.length; k++) {
          assert.equal(addon().scanRequestHead(buf.subarray(0, k), MAX_FIELDS).result, 'NEED_MORE', `prefix ${k} of ${JSON.stringify(c.head)}`);
        }
        const byByte = addon().scanRequestHead(buf, MAX_FIELDS, Array.from({ length: buf.length - 1 }, (_, i) => i + 1));
        assert.equal(byByte.steps.length, buf.length);
        assert.ok(byByte.steps.slice(0, -1).every((r) => r === 'NEED_MORE'));
        assert.equal(byByte.result, 'CLEAN');
      }),
      { numRuns: Math.ceil(RUNS / 10), includeErrorInReport: true },
    );
  });

  it('hands over early, before the end of the head, once the bytes so far leave the subset', () => {
    for (const [prefix, reason] of [
      ['\x16\x03\x01\x02\x00', 'BAD_METHOD'], // a TLS ClientHello on the plain port
      ['PRI * HTTP/2.0\r\n', 'BAD_METHOD'],
      ['GET / HTTP/1.1\nHost: a\n', 'BARE_LF'],
      ['GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n', 'TRANSFER_ENCODING'],
      ['GET /a#', 'BAD_TARGET'],
      ['GET / HTTP/1.0', 'BAD_VERSION'],
      ['GET / HTTP/1.1\r\nX-A: \x80', 'BAD_FIELD_VALUE'],
    ] as const) {
      const s = scan(prefix);
      assert.deepEqual([s.result, s.reason], ['HANDOVER', reason], JSON.stringify(prefix));
    }
  });

  it('hands over every form outside the subset, with its reason (smuggling corpus)', () => {
    const H = 'Host: a.example\r\n';
    const req = (fields: string, start = 'POST / HTTP/1.1'): string => `${start}\r\n${fields}\r\n`;
    const cases: readonly (readonly [string, string, string])[] = [
      ['CL and TE', req(H + 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), 'TRANSFER_ENCODING'],
      ['TE and CL', req(H + 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), 'TRANSFER_ENCODING'],
      ['TE chunked', req(H + 'Transfer-Encoding: chunked\r\n'), 'TRANSFER_ENCODING'],
      ['TE gzip, chunked', req(H + 'Transfer-Encoding: gzip, chunked\r\n'), 'TRANSFER_ENCODING'],
      ['TE ,chunked', req(H + 'Transfer-Encoding: ,chunked\r\n'), 'TRANSFER_ENCODING'],
      ['TE empty', req(H + 'Transfer-Encoding:\r\n'), 'TRANSFER_ENCODING'],
      ['TE lowercase name', req(H + 'transfer-encoding: chunked\r\n'), 'TRANSFER_ENCODING'],
      ['Transfer_Encoding', req(H + 'Transfer_Encoding: chunked\r\n'), 'LOOKALIKE_FRAMING_NAME'],
      ['Content_Length', req(H + 'Content_Length: 5\r\n'), 'LOOKALIKE_FRAMING_NAME'],
      ['Content-Length- suffix', req(H + 'Content-Length-: 5\r\n'), 'LOOKALIKE_FRAMING_NAME'],
      ['TE with a space before the colon', req(H + 'Transfer-Encoding : chunked\r\n'), 'BAD_FIELD_NAME'],
      ['duplicate CL, same value', req(H + 'Content-Length: 5\r\nContent-Length: 5\r\n'), 'DUPLICATE_CONTENT_LENGTH'],
      ['duplicate CL, other value', req(H + 'Content-Length: 5\r\nContent-Length: 6\r\n'), 'DUPLICATE_CONTENT_LENGTH'],
      ['CL with a sign', req(H + 'Content-Length: +5\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL negative', req(H + 'Content-Length: -1\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL with a space inside', req(H + 'Content-Length: 1 2\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL list', req(H + 'Content-Length: 5, 5\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL with a trailing HTAB (llhttp refuses)', req(H + 'Content-Length: 5\t\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL empty', req(H + 'Content-Length:\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL hex', req(H + 'Content-Length: 0x5\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL of 16 digits', req(H + 'Content-Length: 1000000000000000\r\n'), 'BAD_CONTENT_LENGTH'],
      ['CL on GET', req(H + 'Content-Length: 5\r\n', 'GET / HTTP/1.1'), 'BODY_ON_GET_OR_HEAD'],
      ['CL 0 on HEAD', req(H + 'Content-Length: 0\r\n', 'HEAD / HTTP/1.1'), 'BODY_ON_GET_OR_HEAD'],
      ['obs-fold', req(H + 'X-A: b\r\n c\r\n'), 'OBS_FOLD'],
      ['obs-fold with HTAB', req(H + 'X-A: b\r\n\tc\r\n'), 'OBS_FOLD'],
      ['space before the first field', req(' ' + H), 'OBS_FOLD'],
      ['bare LF ending a field', req(H + 'X-A: b\n'), 'BARE_LF'],
      ['bare LF ending the request line', 'GET / HTTP/1.1\n' + H + '\r\n', 'BARE_LF'],
      ['bare LF ending the head', 'GET / HTTP/1.1\r\n' + H + '\n', 'BARE_LF'],
      ['bare CR in a value', req(H + 'X-A: b\rc\r\n'), 'BARE_CR'],
      ['CR CR LF', 'GET / HTTP/1.1\r\r\n' + H + '\r\n', 'BARE_CR'],
      ['space before the colon', req(H + 'X-A : b\r\n'), 'BAD_FIELD_NAME'],
      ['HTAB before the colon', req(H + 'X-A\t: b\r\n'), 'BAD_FIELD_NAME'],
      ['empty name', req(H + ': b\r\n'), 'BAD_FIELD_NAME'],
      ['non-token name', req(H + 'X(A): b\r\n'), 'BAD_FIELD_NAME'],
      ['no colon', req(H + 'X-A b\r\n'), 'BAD_FIELD_NAME'],
      ['two Hosts', req(H + 'Host: b.example\r\n'), 'DUPLICATE_HOST'],
      ['two Hosts, same value', req(H + H), 'DUPLICATE_HOST'],
      ['no Host', req('X-A: b\r\n'), 'NO_HOST'],
      ['absolute-form', req(H, 'GET http://a.example/ HTTP/1.1'), 'BAD_TARGET'],
      ['asterisk-form', req(H, 'OPTIONS * HTTP/1.1'), 'BAD_TARGET'],
      ['authority-form', req(H, 'CONNECT a.example:443 HTTP/1.1'), 'BAD_METHOD'],
      ['fragment', req(H, 'GET /a#b HTTP/1.1'), 'BAD_TARGET'],
      ['DEL in the target', req(H, 'GET /a\x7f HTTP/1.1'), 'BAD_TARGET'],
      ['obs-text in the target', req(H, 'GET /\xe9 HTTP/1.1'), 'BAD_TARGET'],
      ['HTTP/0.9', 'GET /\r\n\r\n', 'BAD_TARGET'],
      ['HTTP/1.0', req(H, 'GET / HTTP/1.0'), 'BAD_VERSION'],
      ['HTTP/2.0', req(H, 'GET / HTTP/2.0'), 'BAD_VERSION'],
      ['HTTP/1.1 lowercase', req(H, 'GET / http/1.1'), 'BAD_VERSION'],
      ['two SPs before the target', req(H, 'GET  / HTTP/1.1'), 'BAD_REQUEST_LINE'],
      ['two SPs before the version', req(H, 'GET /  HTTP/1.1'), 'BAD_REQUEST_LINE'],
      ['HTAB as separator', req(H, 'GET\t/ HTTP/1.1'), 'BAD_METHOD'],
      ['SP after the version', req(H, 'GET / HTTP/1.1 '), 'BAD_VERSION'],
      ['lowercase method', req(H, 'get / HTTP/1.1'), 'BAD_METHOD'],
      ['unknown method', req(H, 'FOO / HTTP/1.1'), 'BAD_METHOD'],
      ['TRACE (llhttp knows it, the subset does not)', req(H, 'TRACE / HTTP/1.1'), 'BAD_METHOD'],
      ['a CRLF before the request line', '\r\n' + req(H, 'GET / HTTP/1.1'), 'BAD_METHOD'],
      ['NUL in a value', req(H + 'X-A: a\0b\r\n'), 'BAD_FIELD_VALUE'],
      ['0x80 in a value', req(H + 'X-A: a\x80b\r\n'), 'BAD_FIELD_VALUE'],
      ['0xff in a value', req(H + 'X-A: \xff\r\n'), 'BAD_FIELD_VALUE'],
      ['DEL in a value', req(H + 'X-A: \x7f\r\n'), 'BAD_FIELD_VALUE'],
      ['VT in a value', req(H + 'X-A: a\x0bb\r\n'), 'BAD_FIELD_VALUE'],
      ['Upgrade', req(H + 'Connection: upgrade\r\nUpgrade: websocket\r\n', 'GET / HTTP/1.1'), 'CONNECTION_OPTION'],
      ['Upgrade alone', req(H + 'Upgrade: websocket\r\n', 'GET / HTTP/1.1'), 'UPGRADE'],
      ['h2c upgrade', req(H + 'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n', 'GET / HTTP/1.1'), 'UPGRADE'],
      ['HTTP2-Settings', req(H + 'HTTP2-Settings: AAMAAABkAAQAAP__\r\n', 'GET / HTTP/1.1'), 'HTTP2_SETTINGS'],
      ['Expect', req(H + 'Expect: 100-continue\r\nContent-Length: 5\r\n'), 'EXPECT'],
      ['TE', req(H + 'TE: trailers\r\n', 'GET / HTTP/1.1'), 'TE'],
      ['Connection list', req(H + 'Connection: keep-alive, close\r\n'), 'CONNECTION_OPTION'],
      ['Connection with another token', req(H + 'Connection: X-Hop\r\n'), 'CONNECTION_OPTION'],
      ['Connection close with a trailing HTAB', req(H + 'Connection: close\t\r\n'), 'CONNECTION_OPTION'],
      ['Connection empty', req(H + 'Connection:\r\n'), 'CONNECTION_OPTION'],
      ['Proxy-Connection', req(H + 'Proxy-Connection: close\r\n'), 'PROXY_CONNECTION'],
    ];
    for (const [name, head, reason] of cases) {
      const s = scan(head);
      assert.deepEqual([s.result, s.reason], ['HANDOVER', reason], `${name}: ${JSON.stringify(head)}`);
    }
  });

  it('counts fields against maxFields', () => {
    const fields = Array.from({ length: 40 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    const head = `GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`;
    const at41 = scan(head, undefined, 41);
    assert.equal(at41.result, 'CLEAN');
    assert.equal(at41.headers.length, 82);
    assertLlhttpAgrees(Buffer.from(head, 'latin1'), at41); // llhttp's binding hands these over in two batches
    const at40 = scan(head, undefined, 40);
    assert.deepEqual([at40.result, at40.reason], ['HANDOVER', 'TOO_MANY_FIELDS']);
  });

  it('stops at the end of the head: pipelined bytes after it are not its business', () => {
    const head = 'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n';
    const s = scan(head + 'abcGET / HTTP/1.1\r\n\r\n');
    assert.deepEqual([s.result, s.headLength, s.contentLength], ['CLEAN', head.length, 3]);
  });

  it('reads the facts of a typical browser request', () => {
    const head =
      'GET /search?q=caf%C3%A9&lang=fr HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n' +
      'Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate, br\r\n' +
      'Cookie: a=1; b="two"\r\nConnection: keep-alive\r\n\r\n';
    const s = scan(head);
    assert.equal(s.result, 'CLEAN');
    assert.equal(s.method, 'GET');
    assert.equal(s.target, '/search?q=caf%C3%A9&lang=fr');
    assert.equal(s.hostIndex, 0);
    assert.deepEqual([s.contentLength, s.close], [-1, false]);
    assert.equal(s.headers[9], 'a=1; b="two"');
    assertLlhttpAgrees(Buffer.from(head, 'latin1'), s);
  });
});
