/**
 * Generated and mutated HTTP/1.x response heads, shared by the tests of the native response
 * scanner (response-head.test.ts) and of the relayed head built from it (relay-head.test.ts).
 */
import fc from 'fast-check';
import { TCHARS, TEXT_CHARS, mostly as mostlyOf, mutate, mutations, range, strOf, type Mutation } from './generators.js';

const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => mostlyOf(good, bad, 10);

const ows = strOf([' ', '\t'], 0, 2);

/** Joins tokens with llhttp-relevant separators and optional leading/trailing bytes. */
function list(tokens: readonly string[], lead: readonly string[], seps: readonly string[], trail: readonly string[]): fc.Arbitrary<string> {
  return fc
    .record({
      lead: fc.constantFrom(...lead),
      items: fc.array(fc.tuple(fc.constantFrom(...tokens), fc.constantFrom(...seps)), { minLength: 0, maxLength: 3 }),
      last: fc.constantFrom(...tokens),
      trail: fc.constantFrom(...trail),
    })
    .map((g) => g.lead + g.items.map(([t, sep]) => t + sep).join('') + g.last + g.trail);
}

const teValue = list(
  ['chunked', 'CHUNKED', 'Chunked', 'gzip', 'identity', 'x', 'chunkedx', 'chunke', '', 'chunked;q=1', 'chunked\xa0', '\xa0chunked'],
  ['', ' ', '\t', ',', ' ,'],
  [',', ', ', ' ,', ',\t', ' , ', ',,'],
  ['', ' ', '  ', '\t', ',', ' \t', '\x80'],
);
/** Field names that a Connection field may list (the relayed head drops what it lists). */
const NAMED = ['X-A', 'x-a', 'Foo', 'Close', 'Keep-Alive', 'Server'];
const connectionValue = list(
  ['close', 'keep-alive', 'upgrade', 'Close', 'KEEP-ALIVE', 'Upgrade', 'closed', 'x', 'clos', 'close x', 'keep-alivex', '', 'x-a', 'X-A', 'foo', 'server', 'x-a\xa0'],
  ['', ' ', '\t', ','],
  [',', ', ', ' ,', ',\t', '\t,', ' , ', ' '],
  ['', ' ', '\t', ',', '  '],
);
const clValue = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(ows, fc.bigInt({ min: 0n, max: 2n ** 64n + 5n }), fc.constantFrom('', '', ' ', '  ', '\t', 'x', ' 1', ',1')).map(([a, n, b]) => a + n + b) },
  { weight: 2, arbitrary: fc.tuple(ows, strOf(range(0x30, 0x39), 1, 22), fc.constantFrom('', ' ')).map(([a, d, b]) => a + d + b) },
  { weight: 1, arbitrary: fc.constantFrom('+1', '-1', '', ' ', '1,1', '0x10', '1 2', '18446744073709551615', '18446744073709551616', '9223372036854775807', '9223372036854775808') },
);

const fieldLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(strOf(TCHARS, 1, 12), ows, strOf(TEXT_CHARS, 0, 16), ows).map(([n, a, v, b]) => `${n}:${a}${v}${b}\r\n`) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('Content-Length', 'content-length'), clValue).map(([n, v]) => `${n}:${v}\r\n`) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('Transfer-Encoding', 'transfer-encoding'), teValue).map(([n, v]) => `${n}:${v}\r\n`) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('Connection', 'Proxy-Connection', 'connection'), connectionValue).map(([n, v]) => `${n}:${v}\r\n`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...NAMED), ows, strOf(TEXT_CHARS, 0, 8)).map(([n, a, v]) => `${n}:${a}${v}\r\n`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Upgrade', 'upgrade'), fc.constantFrom('', ' ', 'websocket', ' h2c ')).map(([n, v]) => `${n}:${v}\r\n`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ' folded\r\n', '\tfolded\r\n', 'X-A : b\r\n', 'X-A\t: b\r\n', ': b\r\n', 'X A: b\r\n', 'X-A: a\rb\r\n', 'X-A: a\nb\r\n',
      'X-A: a\0b\r\n', 'X-A: \x7f\r\n', 'X-A: \x01\r\n', 'X-\x80: b\r\n', 'X-A: b\n', 'X-A; b\r\n', 'Transfer_Encoding: chunked\r\n', 'content.length: 1\r\n', 'X-Content-Length: 1\r\n', 'Content-Length: 00000000000000001\r\n',
      'Content-Length: 9007199254740992\r\n',
      'Keep-Alive: timeout=5\r\n',
    ),
  },
);

const STATUSES = ['200', '204', '304', '100', '101', '102', '103', '150', '199', '404', '500', '000', '099', '999', '600', '206'];

export const anyResponse: fc.Arbitrary<string> = fc
  .record({
    leading: mostly(fc.constant(''), fc.constantFrom('\r\n', '\n', '\r\n\r\n', '\r')),
    version: mostly(
      fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
      fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/2.1', 'http/1.1', 'RTSP/1.0', 'ICE/1.0', 'HTTP/1.1 ', 'HTTP/1', 'HTTP/11.1', 'HTTPS/1.1'),
    ),
    status: mostly(
      fc.oneof(fc.constantFrom(...STATUSES), fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0'))),
      fc.constantFrom('20', '2000', '2x0', ' 200', '', '20 '),
    ),
    reason: mostly(
      fc.oneof(fc.constant(''), strOf(TEXT_CHARS, 0, 12).map((r) => ' ' + r)),
      fc.constantFrom(' \0', ' O\x01K', ' \x7f', '  OK', '\tOK', 'OK', ' ', ' a\rb', ' O\x1bK'),
    ),
    eol: mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', '\r\r\n')),
    fields: fc.array(fieldLine, { maxLength: 6 }),
    end: mostly(fc.constant('\r\n'), fc.constantFrom('\n', '', '\r', ' \r\n')),
  })
  .map((g) => `${g.leading}${g.version} ${g.status}${g.reason}${g.eol}${g.fields.join('')}${g.end}`);

const INTERESTING_BYTES = ['\r', '\n', '\t', ' ', ':', '\0', '\x7f', '\x80', '\xff', ',', 'a', 'A', '0', '9', ';', '"', '\x0b'];
const NASTY_LINES = [
  'Transfer-Encoding: chunked\r\n', 'Content-Length: 5\r\n', 'Content-Length: 0\r\n', 'Connection: close\r\n',
  'Connection: upgrade\r\n', 'Upgrade: websocket\r\n', 'Transfer-Encoding: gzip\r\n', 'Proxy-Connection: keep-alive\r\n',
  ' folded\r\n', 'X: a\rb\r\n', 'Transfer-Encoding:\r\n', '\r\n',
];

export const mutation = mutations(INTERESTING_BYTES, NASTY_LINES);
/** Lines are inserted after the status line. */
export const mutateResponse = (s: string, m: Mutation): string => mutate(s, m, true);

