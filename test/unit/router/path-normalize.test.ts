import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePath, splitTarget } from '../../../src/router/path-normalize.js';

/** [raw path, normalised] */
const NORMALISED: readonly (readonly [string, string])[] = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  // unreserved escapes are decoded
  ['/%61%62%63', '/abc'],
  ['/%41%5A%30%39', '/AZ09'],
  ['/%2D%2E%5F%7E', '/-._~'],
  ['/%7e/x', '/~/x'],
  // other escapes are kept, hex uppercased
  ['/a%20b', '/a%20b'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/%3a%3B%40', '/%3A%3B%40'],
  ['/%25', '/%25'],
  ['/%252e%252e/', '/%252e%252e/'],
  ['/%3f', '/%3F'],
  ['/%23', '/%23'],
  ['/%ff', '/%FF'],
  // dot-segments
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a/b/../', '/a/'],
  ['/a/..', '/'],
  ['/.', '/'],
  ['/./', '/'],
  ['/a/b/c/../../d', '/a/d'],
  ['/a/%2e%2E/b', '/b'],
  ['/a/.%2e/b', '/b'],
  ['/a/%2E/b', '/a/b'],
  ['/a/.../b', '/a/.../b'],
  ['/a/..b/c', '/a/..b/c'],
  ['/.well-known/x', '/.well-known/x'],
  ['/a/.x;y', '/a/.x;y'],
  // repeated slashes are kept
  ['//a//b', '//a//b'],
  ['/a//../b', '/a/b'],
  // printable characters not allowed raw in a path are encoded
  ['/a"b', '/a%22b'],
  ['/<x>', '/%3Cx%3E'],
  ['/{a}|b^`[c]', '/%7Ba%7D%7Cb%5E%60%5Bc%5D'],
  // allowed raw: sub-delims, ':' and '@'
  ["/!$&'()*+,;=:@", "/!$&'()*+,;=:@"],
];

/** Raw paths that must be rejected (→ 400). */
const REJECTED: readonly (readonly [string, string])[] = [
  ['', 'empty'],
  ['a/b', 'not starting with /'],
  ['*', 'asterisk-form'],
  ['http://x/a', 'absolute-form'],
  ['/a%00b', 'encoded NUL'],
  ['/a%0d%0ab', 'encoded CR LF'],
  ['/a%0Ab', 'encoded LF'],
  ['/a%09b', 'encoded TAB'],
  ['/a%1fb', 'encoded CTL'],
  ['/a%7Fb', 'encoded DEL'],
  ['/a%2Fb', 'encoded slash'],
  ['/a%2fb', 'encoded slash, lowercase'],
  ['/a%5Cb', 'encoded backslash'],
  ['/a%5cb', 'encoded backslash, lowercase'],
  ['/a\\b', 'raw backslash'],
  ['/a\\..\\b', 'raw backslash traversal'],
  ['/a b', 'raw space'],
  ['/a\tb', 'raw TAB'],
  ['/a\r\nb', 'raw CR LF'],
  ['/a\x00b', 'raw NUL'],
  ['/a\x7fb', 'raw DEL'],
  ['/caf\u00e9', 'raw byte >= 0x80'],
  ['/\u2028', 'raw non-Latin-1'],
  ['/a#b', 'fragment'],
  ['/a%', 'truncated escape'],
  ['/a%4', 'truncated escape, one digit'],
  ['/a%zz', 'non-hex escape'],
  ['/a%4g', 'half-hex escape'],
  ['/..', 'climbing above root'],
  ['/../x', 'climbing above root then down'],
  ['/a/../../x', 'climbing above root from depth'],
  ['/%2e%2e/x', 'encoded climbing above root'],
  ['/a/..;/b', 'Tomcat ..; segment'],
  ['/a/.;/b', 'Tomcat .; segment'],
  ['/a/..;jsessionid=1/b', 'Tomcat ..;params segment'],
];

describe('normalizePath', () => {
  for (const [raw, expected] of NORMALISED) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(raw), expected);
    });
  }
  for (const [raw, why] of REJECTED) {
    it(`rejects ${JSON.stringify(raw)} (${why})`, () => {
      assert.equal(normalizePath(raw), null);
    });
  }

  it('returns the input itself when it is already normal', () => {
    const raw = '/api/v1/users/42';
    assert.equal(normalizePath(raw), raw);
  });

  it('is idempotent on everything it accepts', () => {
    for (const [raw] of NORMALISED) {
      const once = normalizePath(raw)!;
      assert.equal(normalizePath(once), once, raw);
    }
  });

  it('produces only valid request-target path characters', () => {
    const valid = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*$/;
    for (const [raw] of NORMALISED) assert.match(normalizePath(raw)!, valid);
  });
});

describe('normalizePath with mergeSlashes', () => {
  const MERGED: readonly (readonly [string, string])[] = [
    ['//admin', '/admin'],
    ['/a//b///c', '/a/b/c'],
    ['/a/b//', '/a/b/'],
    ['///', '/'],
    // merged before dot-segments (as nginx): `/a//../b` is `/a/../b`
    ['/a//../b', '/b'],
    ['//%61dmin//x', '/admin/x'],
    ['/a/./b//c', '/a/b/c'],
  ];
  for (const [raw, expected] of MERGED) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(raw, true), expected);
    });
  }

  it('keeps repeated slashes without it (the default), and rejects the same inputs either way', () => {
    assert.equal(normalizePath('//admin'), '//admin');
    assert.equal(normalizePath('/a//../b'), '/a/b');
    for (const [raw] of REJECTED) assert.equal(normalizePath(raw, true), null, raw);
  });

  it('returns the input itself when there is nothing to merge', () => {
    const raw = '/api/v1/users/42';
    assert.equal(normalizePath(raw, true), raw);
  });

  it('is idempotent and leaves no repeated slash', () => {
    for (const [raw] of [...MERGED, ...NORMALISED]) {
      const once = normalizePath(raw, true);
      if (once === null) continue;
      assert.equal(normalizePath(once, true), once, raw);
      assert.equal(once.includes('//'), false, raw);
    }
  });
});

describe('splitTarget', () => {
  it('splits path and query at the first ?', () => {
    assert.deepEqual(splitTarget('/a?b'), { path: '/a', query: 'b' });
    assert.deepEqual(splitTarget('/a?b=1&c=2?d'), { path: '/a', query: 'b=1&c=2?d' });
    assert.deepEqual(splitTarget('/a'), { path: '/a', query: '' });
    assert.deepEqual(splitTarget('/a?'), { path: '/a', query: '' });
    assert.deepEqual(splitTarget('/?x'), { path: '/', query: 'x' });
    assert.deepEqual(splitTarget('//a'), { path: '//a', query: '' });
  });

  it('returns null for targets that are not origin-form or not valid', () => {
    assert.equal(splitTarget(''), null);
    assert.equal(splitTarget('*'), null);
    assert.equal(splitTarget('http://example.com/a'), null);
    assert.equal(splitTarget('a/b'), null);
    assert.equal(splitTarget('/a#frag'), null);
    assert.equal(splitTarget('/a?b#frag'), null);
    assert.equal(splitTarget('/a b'), null);
    assert.equal(splitTarget('/a?b\r\nX: y'), null);
    assert.equal(splitTarget('/a?\x7f'), null);
  });
});
