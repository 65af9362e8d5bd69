/**
 * The native chunked-body scanner (native/src/http1.cc chunked_feed), which finds where a chunked
 * response body ends so its bytes can be relayed unchanged. Differential properties against
 * llhttp (strict, RESPONSE mode, after a "Transfer-Encoding: chunked" head) on generated and
 * mutated bodies fed in random pieces: the same verdict, the same end offset (bytes after it are
 * not the body's), the same decoded data, the same trailers, the same first offending byte, and a
 * flag whenever llhttp would close the connection because of a trailer field.
 *
 * Needs the addon: `node scripts/build-native.mjs`. SWITCHYARD_NATIVE=off skips these tests;
 * SWITCHYARD_NATIVE_FC_RUNS scales the property runs (e.g. 100 under valgrind).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nativeHooks, RUNS, SKIP } from './native-hooks.js';
import { ALL_BYTES, TCHARS, TEXT_CHARS, cutsFor as cutsInto, mostly, mutate, mutations, strOf, type Mutation } from './generators.js';
import {
  HTTPParser,
  LENIENT_NONE,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  type HttpParseError,
} from '../../../src/proxy/http-parser.js';

// ---- The addon --------------------------------------------------------------------------------

interface ChunkedScanResult {
  result: 'NEED_MORE' | 'DONE' | 'ERROR';
  error: string;
  consumed: number[];
  endOffset: number;
  body: Buffer;
  bodyBytes: number;
  trailers: boolean;
  trailerConnectionFields: boolean;
}

interface NativeHooks {
  scanChunked(pieces: Buffer[]): ChunkedScanResult;
}

const addon = (): NativeHooks => nativeHooks<NativeHooks>();

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---- llhttp after a chunked response head -----------------------------------------------------

const CHUNKED_HEAD = latin1('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
const NEXT_RESPONSE = latin1('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

interface LlhttpBody {
  error: string | null;
  completed: number;
  body: Buffer;
  trailers: string[];
}

const parser = new HTTPParser();

/** Feeds the chunked head, then `pieces` of body, to a fresh strict response parser. */
function llhttpChunked(pieces: readonly Buffer[]): LlhttpBody {
  const r: LlhttpBody = { error: null, completed: 0, body: Buffer.alloc(0), trailers: [] };
  const body: Buffer[] = [];
  let headersDone = false;
  parser.initialize(HTTPParser.RESPONSE, {}, 1 << 20, LENIENT_NONE);
  parser[kOnHeaders] = (headers: string[]) => {
    if (headersDone && r.completed === 0) r.trailers.push(...headers); // trailers come this way
  };
  parser[kOnHeadersComplete] = () => {
    headersDone = true;
    return 0;
  };
  parser[kOnBody] = (b: Buffer) => {
    if (r.completed === 0) body.push(Buffer.from(b));
  };
  parser[kOnMessageComplete] = () => {
    r.completed++;
  };
  for (const piece of [CHUNKED_HEAD, ...pieces]) {
    if (piece.length === 0) continue; // node's binding takes an empty buffer for the end of input
    const ret = parser.execute(piece);
    if (typeof ret !== 'number') {
      r.error = `${(ret as HttpParseError).code}: ${(ret as HttpParseError).reason}`;
      break;
    }
  }
  r.body = Buffer.concat(body);
  return r;
}

function split(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from || cut >= buf.length) continue;
    pieces.push(buf.subarray(from, cut));
    from = cut;
  }
  pieces.push(buf.subarray(from));
  return pieces;
}

/**
 * The differential check: the scanner fed `body` in pieces at `cuts`, the scanner fed it at
 * once, and llhttp must agree on everything observable.
 */
function compareWithLlhttp(body: Buffer, cuts: readonly number[]): ChunkedScanResult {
  const pieces = split(body, cuts);
  const s = addon().scanChunked(pieces);
  const ctx = JSON.stringify({ body: body.toString('latin1'), cuts });
  const once = addon().scanChunked([body]);
  assert.deepEqual({ ...s, consumed: [] }, { ...once, consumed: [] }, `in pieces and at once: ${ctx}`);
  const fed = s.consumed.reduce((a, b) => a + b, 0);
  // Every piece but the one where the scan stopped is taken whole.
  for (let i = 0; i + 1 < s.consumed.length; i++) assert.equal(s.consumed[i], pieces[i]!.length, ctx);
  assert.equal(s.bodyBytes, s.body.length, ctx);
  switch (s.result) {
    case 'DONE': {
      assert.equal(s.endOffset, fed, ctx);
      const ll = llhttpChunked(split(body.subarray(0, fed), cuts));
      assert.deepEqual([ll.error, ll.completed], [null, 1], `llhttp: the message ends at ${fed}: ${ctx}`);
      assert.equal(llhttpChunked([body.subarray(0, fed - 1)]).completed, 0, `llhttp: not one byte earlier: ${ctx}`);
      assert.ok(ll.body.equals(s.body), `decoded data: ${ctx}`);
      assert.equal(s.trailers, ll.trailers.length > 0, ctx);
      // After the message llhttp reads the next response, or refuses it because of a trailer.
      const next = llhttpChunked([body.subarray(0, fed), NEXT_RESPONSE]);
      if (next.error !== null) {
        assert.match(next.error, /^HPE_CLOSED_CONNECTION/, ctx);
        assert.ok(s.trailerConnectionFields, `llhttp closes after the message: ${ctx}`);
      } else {
        assert.equal(next.completed, 2, ctx);
      }
      break;
    }
    case 'ERROR': {
      assert.notEqual(s.error, 'NONE', ctx);
      const before = llhttpChunked([body.subarray(0, fed)]);
      assert.deepEqual([before.error, before.completed], [null, 0], `llhttp takes the bytes before ${fed}: ${ctx}`);
      assert.ok(before.body.equals(s.body), `decoded data: ${ctx}`);
      assert.notEqual(llhttpChunked([body.subarray(0, fed + 1)]).error, null, `llhttp refuses byte ${fed} too (${s.error}): ${ctx}`);
      break;
    }
    case 'NEED_MORE': {
      assert.equal(fed, body.length, ctx);
      const ll = llhttpChunked(pieces);
      assert.deepEqual([ll.error, ll.completed], [null, 0], `llhttp needs more too: ${ctx}`);
      assert.ok(ll.body.equals(s.body), `decoded data: ${ctx}`);
      break;
    }
  }
  return s;
}

// ---- Generators -------------------------------------------------------------------------------

const QDTEXT = TEXT_CHARS.filter((c) => c !== '"' && c !== '\\');

const token = strOf(TCHARS, 1, 6);
const quoted = fc
  .array(fc.oneof(strOf(QDTEXT, 1, 3), fc.constantFrom(...TEXT_CHARS).map((c) => '\\' + c)), { maxLength: 3 })
  .map((parts) => `"${parts.join('')}"`);

/** A chunk extension llhttp accepts: ;name[=token|quoted-string]. */
const goodExtension = fc
  .tuple(token, fc.option(fc.oneof(token, quoted, fc.constant(''))))
  .map(([name, value]) => `;${name}${value === null ? '' : '=' + value}`);
const oddExtension = fc.constantFrom(
  ';', ';;a', ';=b', ';a=b"c"', '; a', ';a =b', ';a= b', ';a=b ', ';a=b=c', ';a="x\\"y"', ';a="x', ';a="x"y', ';a="x" ',
  ';a="\x80"', ';a="\x7f"', ';a="\\\x01"', ';a="\x01"', ';\x80', ';a\t', ' ;a', '\t', ' ', ';a;', ';a="";b',
);

const hexSize = (n: number): fc.Arbitrary<string> =>
  fc.tuple(strOf(['0'], 0, 3), fc.boolean()).map(([zeros, upper]) => zeros + (upper ? n.toString(16).toUpperCase() : n.toString(16)));

const chunk = fc
  .tuple(strOf(ALL_BYTES, 1, 24), fc.array(mostly(goodExtension, oddExtension), { maxLength: 2 }))
  .chain(([data, exts]) => hexSize(data.length).map((size) => `${size}${exts.join('')}\r\n${data}\r\n`));

const badSizeLine = fc.constantFrom(
  '5 \r\nhello\r\n', '5\t\r\nhello\r\n', ' 5\r\nhello\r\n', '-5\r\nhello\r\n', '0x5\r\nhello\r\n', 'g\r\n', '\r\n',
  '10000000000000000\r\n', 'ffffffffffffffff\r\n', '00000000000000000001\r\nx\r\n', '5\nhello\r\n', '5\rhello\r\n',
  '5\r\nhelloX\r\n', '5\r\nhello\n', '5\r\nhello\r\r\n', '2\r\nhello\r\n',
);

const TRAILER_NAMES = ['X-Trailer', 'Content-Length', 'content-length', 'Connection', 'Proxy-Connection', 'Transfer-Encoding', 'Upgrade', 'Keep-Alive', 'Expires'];
const trailerLine = mostly(
  fc
    .tuple(fc.oneof(fc.constantFrom(...TRAILER_NAMES), strOf(TCHARS, 1, 10)), strOf([' ', '\t'], 0, 2), strOf(TEXT_CHARS, 0, 12))
    .map(([name, ows, value]) => `${name}:${ows}${value}\r\n`),
  fc.constantFrom(' folded\r\n', 'X : a\r\n', ': a\r\n', 'X: a\nb\r\n', 'X: a\rb\r\n', 'X: a\0\r\n', 'X: \x7f\r\n', 'X\r\n', 'X: a\n', 'Connection: close\r\n', 'Transfer-Encoding: gzip\r\n', 'Connection: x\x01\r\n'),
);

const SUFFIXES = ['', 'HTTP/1.1 200 OK\r\n\r\n', 'garbage', '\r\n', '0\r\n\r\n', '\n'];

/** A chunked body (with some pipelined bytes after it): mostly valid, sometimes not. */
const chunkedBody = fc
  .record({
    chunks: fc.array(mostly(chunk, badSizeLine), { maxLength: 4 }),
    last: mostly(
      fc.tuple(strOf(['0'], 1, 3), fc.array(mostly(goodExtension, oddExtension), { maxLength: 2 })).map(([z, e]) => z + e.join('') + '\r\n'),
      fc.constantFrom('0\n', '0 \r\n', '0\r', '0;\r\n', '00\r\r\n'),
    ),
    trailers: fc.array(trailerLine, { maxLength: 3 }),
    end: mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', ' \r\n', '')),
    suffix: fc.constantFrom(...SUFFIXES),
  })
  .map((g) => latin1(g.chunks.join('') + g.last + g.trailers.join('') + g.end + g.suffix));

/** A valid body built from known data, for the facts the scanner must report. */
const validBody = fc
  .record({
    data: fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 5 }),
    exts: fc.array(fc.array(goodExtension, { maxLength: 2 }), { minLength: 6, maxLength: 6 }),
    upper: fc.boolean(),
    trailers: fc.array(fc.tuple(strOf(TCHARS, 1, 10), strOf(TEXT_CHARS, 0, 12)), { maxLength: 3 }),
    suffix: fc.constantFrom(...SUFFIXES),
  })
  .map((g) => {
    let text = '';
    g.data.forEach((d, i) => {
      const size = g.upper ? d.length.toString(16).toUpperCase() : d.length.toString(16);
      text += `${size}${g.exts[i]!.join('')}\r\n${Buffer.from(d).toString('latin1')}\r\n`;
    });
    text += `0${g.exts[5]!.join('')}\r\n${g.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    const data = Buffer.concat(g.data.map((d) => Buffer.from(d)));
    const specials = /^(content-length|connection|proxy-connection|transfer-encoding|upgrade)$/i;
    return { wire: latin1(text + g.suffix), end: latin1(text).length, data, trailers: g.trailers, special: g.trailers.some(([n]) => specials.test(n)) };
  });

const INTERESTING_BYTES = ['\r', '\n', '\t', ' ', ';', '=', '"', '\\', ':', '\0', '\x7f', '\x80', '\xff', '0', 'f', 'g'];

const mutation = mutations(INTERESTING_BYTES);
const mutateBody = (b: Buffer, m: Mutation): Buffer => latin1(mutate(b.toString('latin1'), m));
/** Up to 8 cuts: bodies are fed in more pieces than heads. */
const cutsFor = (len: number): fc.Arbitrary<number[]> => cutsInto(len, 8);

// ---- Tests ------------------------------------------------------------------------------------

describe('native chunked body scanner', { skip: SKIP }, () => {
  it('finds the end of valid bodies fed in pieces, with their data and trailers, as llhttp does', () => {
    fc.assert(
      fc.property(
        validBody.chain((v) => fc.tuple(fc.constant(v), cutsFor(v.wire.length))),
        ([v, cuts]) => {
          const s = compareWithLlhttp(v.wire, cuts);
          assert.equal(s.result, 'DONE', s.error);
          assert.equal(s.endOffset, v.end);
          assert.ok(s.body.equals(v.data));
          assert.equal(s.trailers, v.trailers.length > 0);
          assert.equal(s.trailerConnectionFields, v.special);
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it('agrees with llhttp on generated bodies, valid or not', () => {
    const seen = { DONE: 0, ERROR: 0, NEED_MORE: 0 };
    fc.assert(
      fc.property(
        chunkedBody.chain((b) => fc.tuple(fc.constant(b), cutsFor(b.length))),
        ([body, cuts]) => {
          seen[compareWithLlhttp(body, cuts).result]++;
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    assert.ok(seen.DONE > RUNS / 5 && seen.ERROR > RUNS / 5, JSON.stringify(seen));
  });

  it('agrees with llhttp on mutated bodies', () => {
    const seen = { DONE: 0, ERROR: 0, NEED_MORE: 0 };
    fc.assert(
      fc.property(
        fc
          .tuple(fc.oneof(validBody.map((v) => v.wire), chunkedBody), fc.array(mutation, { minLength: 1, maxLength: 3 }))
          .map(([b, ms]) => ms.reduce(mutateBody, b))
          .chain((b) => fc.tuple(fc.constant(b), cutsFor(b.length))),
        ([body, cuts]) => {
          seen[compareWithLlhttp(body, cuts).result]++;
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    assert.ok(seen.DONE > RUNS / 10 && seen.ERROR > RUNS / 5, JSON.stringify(seen));
  });

  it('needs more for every strict prefix of a valid body, fed byte by byte', () => {
    fc.assert(
      fc.property(validBody, (v) => {
        const body = v.wire.subarray(0, v.end);
        const pieces = Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
        const s = addon().scanChunked(pieces);
        assert.equal(s.result, 'DONE');
        assert.equal(s.consumed.length, body.length, 'DONE only with the last byte');
        assert.ok(s.consumed.every((n) => n === 1));
        assert.ok(s.body.equals(v.data));
      }),
      { numRuns: Math.ceil(RUNS / 10), includeErrorInReport: true },
    );
  });

  it('reads llhttp chunk-extension and trailer quirks the same way (table)', () => {
    const cases: readonly (readonly [string, string, string?])[] = [
      ['5\r\nhello\r\n0\r\n\r\n', 'DONE'],
      ['5;a=b\r\nhello\r\n0\r\n\r\n', 'DONE'],
      ['5;a="x y\\"z"\r\nhello\r\n0\r\n\r\n', 'DONE'],
      ['5;;a\r\nhello\r\n0\r\n\r\n', 'DONE'], // an empty extension name before ';' is accepted
      ['5;=b\r\nhello\r\n0\r\n\r\n', 'DONE'], // ... and before '='
      ['5;a=\r\nhello\r\n0\r\n\r\n', 'DONE'], // an empty value
      ['5;a=b"c"\r\nhello\r\n0\r\n\r\n', 'DONE'], // a quoted-string inside a token value
      ['5;a="\x80\t"\r\nhello\r\n0\r\n\r\n', 'DONE'],
      ['00000000000000000005\r\nhello\r\n0\r\n\r\n', 'DONE'], // leading zeros do not count
      ['5\r\nhello\r\n0;x=y\r\nX-T: 1\r\nX-T: \xff\r\n\r\nNEXT', 'DONE'],
      ['0\r\nTransfer-Encoding:\r\n\r\n', 'DONE'],
      ['5;\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_EXTENSION'],
      ['5; a\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_EXTENSION'],
      ['5 ;a\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_SIZE'],
      ['5\t\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_SIZE'],
      ['5;a=b=c\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_EXTENSION'],
      ['5;a="x"c\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_EXTENSION'],
      ['5;a="\x7f"\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_EXTENSION'],
      ['5;a="\\\x01"\r\nhello\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_EXTENSION'],
      ['5;a\n', 'ERROR', 'BARE_LF'],
      ['5\n', 'ERROR', 'BARE_LF'],
      ['5\r\r\n', 'ERROR', 'BARE_CR'],
      ['-5\r\n', 'ERROR', 'BAD_CHUNK_SIZE'],
      ['0x5\r\n', 'ERROR', 'BAD_CHUNK_SIZE'],
      ['\r\n0\r\n\r\n', 'ERROR', 'BAD_CHUNK_SIZE'],
      ['ffffffffffffffff\r\nhello', 'NEED_MORE'], // 2^64-1 is a valid size
      ['10000000000000000\r\n', 'ERROR', 'CHUNK_SIZE_OVERFLOW'],
      ['5\r\nhelloX\r\n', 'ERROR', 'BAD_CHUNK_DATA_END'],
      ['5\r\nhello\n', 'ERROR', 'BARE_LF'],
      ['5\r\nhello\r\r', 'ERROR', 'BARE_CR'],
      ['5\r\nhello\r\n\r\n', 'ERROR', 'BAD_CHUNK_SIZE'], // no last chunk
      ['0\r\nContent-Length: 5\r\n\r\n', 'ERROR', 'CONTENT_LENGTH_TRAILER'],
      ['0\r\nX: a\r\n b\r\n\r\n', 'ERROR', 'OBS_FOLD'],
      ['0\r\n b\r\n\r\n', 'ERROR', 'BAD_TRAILER_NAME'],
      ['0\r\nX : a\r\n\r\n', 'ERROR', 'BAD_TRAILER_NAME'],
      ['0\r\n: a\r\n\r\n', 'ERROR', 'BAD_TRAILER_NAME'],
      ['0\r\nX: a\0\r\n\r\n', 'ERROR', 'BAD_TRAILER_VALUE'],
      ['0\r\nX: a\rb\r\n\r\n', 'ERROR', 'BARE_CR'],
      ['0\r\n\n', 'ERROR', 'BARE_LF'],
      ['0\r\n\r\r', 'ERROR', 'BARE_CR'],
    ];
    for (const [text, result, error] of cases) {
      const s = compareWithLlhttp(latin1(text), []);
      assert.deepEqual([s.result, s.error], [result, error ?? 'NONE'], JSON.stringify(text));
    }
  });

  it('flags trailers after which llhttp closes the connection', () => {
    for (const [trailer, closes] of [
      ['Connection: close', true],
      ['Proxy-Connection: close', true],
      ['Transfer-Encoding: gzip', true],
      ['Connection: keep-alive', false],
      ['Upgrade: websocket', false],
    ] as const) {
      const text = `0\r\n${trailer}\r\n\r\n`;
      const s = compareWithLlhttp(latin1(text), []);
      assert.equal(s.trailerConnectionFields, true, trailer); // flagged either way: the engine does not reuse
      const next = llhttpChunked([latin1(text), NEXT_RESPONSE]);
      assert.equal(next.error !== null, closes, `${trailer}: ${next.error}`);
    }
    const plain = compareWithLlhttp(latin1('0\r\nX-Checksum: abc\r\n\r\n'), []);
    assert.deepEqual([plain.trailers, plain.trailerConnectionFields], [true, false]);
  });

  it('consumes nothing after the end or after an error', () => {
    const done = addon().scanChunked([latin1('0\r\n\r\nHTTP/1.1'), latin1('more')]);
    assert.deepEqual([done.result, done.consumed, done.endOffset], ['DONE', [5], 5]);
    const bad = addon().scanChunked([latin1('5\r\nhel'), latin1('lo\rX')]);
    assert.deepEqual([bad.result, bad.error, bad.consumed, bad.endOffset], ['ERROR', 'BARE_CR', [6, 3], -1]);
    assert.equal(bad.body.toString(), 'hello');
  });
});
