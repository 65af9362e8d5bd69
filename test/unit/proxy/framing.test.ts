/**
 * The desync classifier and the response-head check (src/proxy/framing.ts), table-driven after
 * the tiers and reasons of aws/http-desync-guardian (tests/*.yaml), plus property tests
 * (fast-check): the classifier never throws, a valid request stays compliant, and any mangled
 * spelling of a framing header is at least ambiguous.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkResponseHead,
  classifyRequest,
  parseContentLength,
  scanTransferEncoding,
  stripLookAlikeHeaders,
  type ClassificationReason,
  type Tier,
} from '../../../src/proxy/framing.js';

interface Case {
  readonly name: string;
  readonly method?: string;
  readonly version?: readonly [number, number];
  readonly url?: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly tier: Tier;
  readonly reason: ClassificationReason;
}

const H = ['Host', 'a.example'] as const;

const CASES: readonly Case[] = [
  // compliant
  { name: 'plain GET', headers: [H], tier: 'compliant', reason: 'Compliant' },
  { name: 'POST with Content-Length', method: 'POST', headers: [H, ['Content-Length', '5']], tier: 'compliant', reason: 'Compliant' },
  { name: 'POST chunked', method: 'POST', headers: [H, ['Transfer-Encoding', 'chunked']], tier: 'compliant', reason: 'Compliant' },
  { name: 'TE case-insensitive', method: 'POST', headers: [H, ['transfer-encoding', 'CHUNKED']], tier: 'compliant', reason: 'Compliant' },
  { name: 'gzip, chunked (valid codings; 501 is dispatch\'s business)', method: 'POST', headers: [H, ['Transfer-Encoding', 'gzip, chunked']], tier: 'compliant', reason: 'Compliant' },
  { name: 'HTTP/1.0 without Host', version: [1, 0], headers: [], tier: 'compliant', reason: 'Compliant' },
  { name: 'CL with leading zeros', method: 'POST', headers: [H, ['Content-Length', '007']], tier: 'compliant', reason: 'Compliant' },
  { name: 'absolute-form agreeing with Host', url: 'http://a.example/x', headers: [H], tier: 'compliant', reason: 'Compliant' },
  { name: 'WebSocket upgrade', headers: [H, ['Connection', 'Upgrade'], ['Upgrade', 'websocket']], tier: 'compliant', reason: 'Compliant' },
  { name: 'X-Content-Length is just a header', headers: [H, ['X-Content-Length', '5']], tier: 'compliant', reason: 'Compliant' },
  { name: 'Content-Lengths is just a header', headers: [H, ['Content-Lengths', '5']], tier: 'compliant', reason: 'Compliant' },

  // acceptable
  { name: 'GET with Content-Length: 0', headers: [H, ['Content-Length', '0']], tier: 'acceptable', reason: 'GetHeadZeroContentLength' },
  { name: 'obs-text in a header value', headers: [H, ['User-Agent', 'caf\xc3\xa9']], tier: 'acceptable', reason: 'NonCompliantHeader' },
  { name: 'control byte in a non-framing value', headers: [H, ['X-A', 'a\x01b']], tier: 'acceptable', reason: 'NonCompliantHeader' },
  { name: 'non-token byte in a non-framing name', headers: [H, ['X A', 'b']], tier: 'acceptable', reason: 'NonCompliantHeader' },
  { name: 'HTTP/0.9', version: [0, 9], headers: [], tier: 'acceptable', reason: 'NonCompliantVersion' },
  { name: 'HTTP/1.2', version: [1, 2], headers: [H], tier: 'acceptable', reason: 'NonCompliantVersion' },
  { name: 'space in URI', url: '/a b', headers: [H], tier: 'acceptable', reason: 'SpaceInUri' },

  // ambiguous
  { name: 'Transfer_Encoding', method: 'POST', headers: [H, ['Transfer_Encoding', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'Content_Length', method: 'POST', headers: [H, ['Content_Length', '5']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'TE with a trailing space in the name', method: 'POST', headers: [H, ['Transfer-Encoding ', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'TE with a tab before the name', method: 'POST', headers: [H, ['\tTransfer-Encoding', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'TE with a \\x0b suffix', method: 'POST', headers: [H, ['Transfer-Encoding\x0b', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'TE with an inner space', method: 'POST', headers: [H, ['Transfer Encoding', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'Transfer-Encodıng (dotless i)', method: 'POST', headers: [H, ['Transfer-Encod\u0131ng', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'Transfer-Encodıng as UTF-8 bytes', method: 'POST', headers: [H, ['Transfer-Encod\xc4\xb1ng', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'Tranſfer-Encoding (long s)', method: 'POST', headers: [H, ['Tran\u017ffer-Encoding', 'chunked']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'Content-Length with \\xa0', method: 'POST', headers: [H, ['Content-Length\xa0', '5']], tier: 'ambiguous', reason: 'SuspiciousHeader' },
  { name: 'duplicate CL, same value', method: 'POST', headers: [H, ['Content-Length', '5'], ['Content-Length', '5']], tier: 'ambiguous', reason: 'DuplicateContentLength' },
  { name: 'TE and CL', method: 'POST', headers: [H, ['Content-Length', '5'], ['Transfer-Encoding', 'chunked']], tier: 'ambiguous', reason: 'BothTeClPresent' },
  { name: 'HTTP/1.0 with TE', method: 'POST', version: [1, 0], headers: [H, ['Transfer-Encoding', 'chunked']], tier: 'ambiguous', reason: 'UndefinedTransferEncodingSemantics' },
  { name: 'GET with TE', headers: [H, ['Transfer-Encoding', 'chunked']], tier: 'ambiguous', reason: 'UndefinedTransferEncodingSemantics' },
  { name: 'GET with a body', headers: [H, ['Content-Length', '5']], tier: 'ambiguous', reason: 'UndefinedContentLengthSemantics' },
  { name: 'HEAD with a body', method: 'HEAD', headers: [H, ['Content-Length', '1']], tier: 'ambiguous', reason: 'UndefinedContentLengthSemantics' },
  { name: 'HTTP/0.9 with CL', version: [0, 9], headers: [['Content-Length', '1']], tier: 'ambiguous', reason: 'UndefinedContentLengthSemantics' },
  { name: 'h2c upgrade', headers: [H, ['Connection', 'Upgrade, HTTP2-Settings'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAAQAAP__']], tier: 'ambiguous', reason: 'H2cUpgrade' },
  { name: 'HTTP2-Settings alone', headers: [H, ['HTTP2-Settings', 'AAMAAABkAAQAAP__']], tier: 'ambiguous', reason: 'H2cUpgrade' },
  { name: 'empty header name', headers: [H, ['', 'x']], tier: 'ambiguous', reason: 'EmptyHeader' },
  { name: 'tab in URI', url: '/a\tb', headers: [H], tier: 'ambiguous', reason: 'AmbiguousUri' },
  { name: 'missing URI', url: '', headers: [H], tier: 'ambiguous', reason: 'MissingUri' },

  // severe
  { name: 'TE ,chunked', method: 'POST', headers: [H, ['Transfer-Encoding', ',chunked']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE chunked,', method: 'POST', headers: [H, ['Transfer-Encoding', 'chunked,']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE xchunked', method: 'POST', headers: [H, ['Transfer-Encoding', 'xchunked']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE "chunked"', method: 'POST', headers: [H, ['Transfer-Encoding', '"chunked"']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE chunked\\x0b', method: 'POST', headers: [H, ['Transfer-Encoding', 'chunked\x0b']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE \\xa0chunked', method: 'POST', headers: [H, ['Transfer-Encoding', '\xa0chunked']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE chunk', method: 'POST', headers: [H, ['Transfer-Encoding', 'chunk']], tier: 'severe', reason: 'BadTransferEncoding' },
  { name: 'TE chunked, chunked', method: 'POST', headers: [H, ['Transfer-Encoding', 'chunked, chunked']], tier: 'severe', reason: 'MultipleTransferEncodingChunked' },
  { name: 'two TE chunked lines', method: 'POST', headers: [H, ['Transfer-Encoding', 'chunked'], ['transfer-encoding', 'chunked']], tier: 'severe', reason: 'MultipleTransferEncodingChunked' },
  { name: 'CL 5, 5', method: 'POST', headers: [H, ['Content-Length', '5, 5']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'CL +5', method: 'POST', headers: [H, ['Content-Length', '+5']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'CL 0x10', method: 'POST', headers: [H, ['Content-Length', '0x10']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'CL empty', method: 'POST', headers: [H, ['Content-Length', '']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'CL 1000.1000', method: 'POST', headers: [H, ['Content-Length', '1000.1000']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'CL beyond 2^53', method: 'POST', headers: [H, ['Content-Length', '9007199254740993']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'CL 2^64', method: 'POST', headers: [H, ['Content-Length', '18446744073709551616']], tier: 'severe', reason: 'BadContentLength' },
  { name: 'differing CLs', method: 'POST', headers: [H, ['Content-Length', '5'], ['Content-Length', '6']], tier: 'severe', reason: 'MultipleContentLength' },
  { name: 'NUL in a value', headers: [H, ['X-A', 'a\x00b']], tier: 'severe', reason: 'BadHeader' },
  { name: 'CR in a value', headers: [H, ['X-A', 'a\rb']], tier: 'severe', reason: 'BadHeader' },
  { name: 'LF in a name', headers: [H, ['X\nA', 'b']], tier: 'severe', reason: 'BadHeader' },
  { name: 'NUL in the URI', url: '/a\x00', headers: [H], tier: 'severe', reason: 'BadUri' },
  { name: 'LF in the URI', url: '/a\nGET /b', headers: [H], tier: 'severe', reason: 'BadUri' },
  { name: 'bad method', method: 'GE(T', headers: [H], tier: 'severe', reason: 'BadMethod' },
  { name: 'HTTP/2.0 on the HTTP/1 parser', version: [2, 0], headers: [H], tier: 'severe', reason: 'BadVersion' },
  { name: 'duplicate Host', headers: [H, ['Host', 'b.example']], tier: 'severe', reason: 'DuplicateHost' },
  { name: 'absolute-form disagreeing with Host', url: 'http://b.example/x', headers: [H], tier: 'severe', reason: 'HostMismatch' },
  { name: 'worst tier wins', method: 'GET', headers: [H, ['Content-Length', '0'], ['Transfer_Encoding', 'x'], ['Content-Length', '1, 1']], tier: 'severe', reason: 'BadContentLength' },
];

function flat(headers: readonly (readonly [string, string])[]): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) out.push(n, v);
  return out;
}

describe('classifyRequest', () => {
  for (const c of CASES) {
    it(`${c.tier}: ${c.name}`, () => {
      const [maj, min] = c.version ?? [1, 1];
      const v = classifyRequest(c.method ?? 'GET', maj, min, c.url ?? '/', flat(c.headers));
      assert.deepEqual({ tier: v.tier, reason: v.reason }, { tier: c.tier, reason: c.reason });
    });
  }

  it('returns the same frozen object for compliant requests (no allocation)', () => {
    const a = classifyRequest('GET', 1, 1, '/', ['Host', 'a']);
    const b = classifyRequest('POST', 1, 1, '/x', ['Host', 'b', 'Content-Length', '3']);
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
  });
});

describe('framing value parsers', () => {
  it('parseContentLength: digits only, safe integers only', () => {
    assert.equal(parseContentLength('0'), 0);
    assert.equal(parseContentLength(' 42\t'), 42);
    assert.equal(parseContentLength('9007199254740991'), 9007199254740991);
    for (const bad of ['', ' ', '-1', '+1', '1e3', '0x1', '1 1', '1,1', '9007199254740992', '١'])
      assert.equal(parseContentLength(bad), -1, JSON.stringify(bad));
  });

  it('scanTransferEncoding counts chunked codings and refuses malformed lists', () => {
    assert.equal(scanTransferEncoding('chunked'), 1);
    assert.equal(scanTransferEncoding('gzip, chunked'), 1);
    assert.equal(scanTransferEncoding('gzip,chunked;q=1'), 1);
    assert.equal(scanTransferEncoding('chunked, chunked'), 2);
    assert.equal(scanTransferEncoding('gzip'), 0);
    for (const bad of ['', ',chunked', 'chunked,', 'chunked,,gzip', 'chunked gzip', 'xchunked', '"chunked"', 'chunked\x00'])
      assert.equal(scanTransferEncoding(bad), -1, JSON.stringify(bad));
  });

  it('stripLookAlikeHeaders removes only look-alikes, in place', () => {
    const raw = ['Host', 'a', 'Transfer_Encoding', 'chunked', 'Content-Length', '3', 'Content_Length', '9', 'X', 'y'];
    assert.equal(stripLookAlikeHeaders(raw), 2);
    assert.deepEqual(raw, ['Host', 'a', 'Content-Length', '3', 'X', 'y']);
  });
});

describe('checkResponseHead', () => {
  const table: readonly [string, number, number, string[], string | null][] = [
    ['200 with CL', 200, 1, ['Content-Length', '2'], null],
    ['200 chunked', 200, 1, ['Transfer-Encoding', 'chunked'], null],
    ['204', 204, 1, [], null],
    ['close-delimited', 200, 1, [], null],
    ['status 999', 999, 1, ['Content-Length', '2'], 'BadStatus'],
    ['status 99', 99, 1, [], 'BadStatus'],
    ['TE chunked, chunked', 200, 1, ['Transfer-Encoding', 'chunked, chunked'], 'BadTransferEncoding'],
    ['two TE lines', 200, 1, ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], 'BadTransferEncoding'],
    ['TE gzip', 200, 1, ['Transfer-Encoding', 'gzip'], 'BadTransferEncoding'],
    ['TE gzip, chunked', 200, 1, ['Transfer-Encoding', 'gzip, chunked'], 'BadTransferEncoding'],
    ['TE ,chunked', 200, 1, ['Transfer-Encoding', ',chunked'], 'BadTransferEncoding'],
    ['TE + CL', 200, 1, ['Transfer-Encoding', 'chunked', 'Content-Length', '2'], 'BothTeClPresent'],
    ['CL beyond 2^53', 200, 1, ['Content-Length', '9007199254740993'], 'BadContentLength'],
    ['differing CLs', 200, 1, ['Content-Length', '2', 'Content-Length', '3'], 'MultipleContentLength'],
    ['Content_Length look-alike', 200, 1, ['Content_Length', '2'], 'SuspiciousHeader'],
    ['HTTP/1.0 with TE', 200, 0, ['Transfer-Encoding', 'chunked'], 'UndefinedTransferEncodingSemantics'],
    ['NUL in a value', 200, 1, ['X', 'a\x00'], 'BadHeader'],
  ];
  for (const [name, status, minor, raw, expected] of table) {
    it(name, () => assert.equal(checkResponseHead(status, minor, raw), expected));
  }
  it('a control byte in the reason phrase (llhttp lets NUL through); obs-text and tabs are fine', () => {
    assert.equal(checkResponseHead(200, 1, [], 'O\x00K'), 'BadReason');
    assert.equal(checkResponseHead(200, 1, [], 'O\x7fK'), 'BadReason');
    assert.equal(checkResponseHead(200, 1, [], 'Ok\tcaf\xe9'), null);
  });
});

// ---- properties ------------------------------------------------------------------------------

const byteString = (max: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: max }).map((a) => String.fromCharCode(...a));

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);

describe('classifier properties (fast-check)', () => {
  it('never throws, and always answers one of the four tiers', () => {
    fc.assert(
      fc.property(
        byteString(12),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        byteString(40),
        fc.array(fc.tuple(byteString(24), byteString(40)), { maxLength: 12 }),
        (method, maj, min, url, headers) => {
          const v = classifyRequest(method, maj, min, url, flat(headers));
          assert.ok(['compliant', 'acceptable', 'ambiguous', 'severe'].includes(v.tier));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a well-formed request with a safe Content-Length or plain chunked stays compliant', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
        fc.stringMatching(/^\/[A-Za-z0-9._~/-]{0,30}$/),
        fc.array(fc.tuple(token.filter((t) => !/^(host|content[-_]?length|transfer[-_]?encoding|upgrade|http2-settings)$/i.test(t) && !/t.*r.*a.*n.*s.*f.*e.*r.*e.*n.*c.*o.*d.*i.*n.*g|c.*o.*n.*t.*e.*n.*t.*l.*e.*n.*g.*t.*h/i.test(t)), fc.stringMatching(/^[\x21-\x7e]{0,30}$/)), { maxLength: 8 }),
        fc.oneof(fc.nat({ max: 1e12 }).map((n) => ['Content-Length', String(n)] as const), fc.constant(['Transfer-Encoding', 'chunked'] as const)),
        (method, url, headers, framing) => {
          const v = classifyRequest(method, 1, 1, url, flat([['Host', 'a'], ...headers, framing]));
          assert.equal(v.tier, 'compliant', `${v.reason}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('any other spelling of Transfer-Encoding or Content-Length is at least ambiguous', () => {
    // Mutations of the kind request-smuggling scanners try: case is fine (not a mutation);
    // everything else (inserted bytes, replaced separators, look-alike letters) must be caught.
    // Letters are only ever replaced by their look-alikes (inserting a letter makes a different
    // name, which no parser folds onto a framing header).
    const LOOK_ALIKE: Readonly<Record<string, string>> = { i: '\u0131', s: '\u017f', k: '\u212a', I: '\u0131', S: '\u017f' };
    const mutate = (name: string, pos: number, insert: string, replaceDash: string, lookAlike: boolean): string => {
      const p = pos % (name.length + 1);
      let out = name.slice(0, p) + insert + name.slice(p);
      if (replaceDash !== '-') out = out.replace('-', replaceDash);
      if (lookAlike) out = out.replace(/[isIS]/, (c) => LOOK_ALIKE[c]!);
      return out;
    };
    fc.assert(
      fc.property(
        fc.constantFrom('Transfer-Encoding', 'Content-Length', 'transfer-encoding', 'CONTENT-LENGTH'),
        fc.nat(),
        fc.constantFrom('', ' ', '\t', '\x00', '\x01', '\x0b', '\x0c', '\x7f', '\x80', '\xa0', '\xff', '_', '.', ':', '"'),
        fc.constantFrom('-', '_', ' ', '', '.', '\t'),
        fc.boolean(),
        (name, pos, insert, dash, lookAlike) => {
          const m = mutate(name, pos, insert, dash, lookAlike);
          fc.pre(m.toLowerCase() !== name.toLowerCase());
          const v = classifyRequest('POST', 1, 1, '/', ['Host', 'a', m, name.toLowerCase().startsWith('t') ? 'chunked' : '5']);
          assert.ok(v.tier === 'ambiguous' || v.tier === 'severe', `${JSON.stringify(m)} → ${v.tier}/${v.reason}`);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
