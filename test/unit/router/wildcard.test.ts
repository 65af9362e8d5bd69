import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileWildcard,
  equalsAsciiIgnoreCase,
  hasWildcard,
  toAsciiLowerCase,
  wildcardShape,
} from '../../../src/router/wildcard.js';

/** [pattern, input, case-sensitive result, case-insensitive result] */
const TABLE: readonly (readonly [string, string, boolean, boolean])[] = [
  // exact
  ['abc', 'abc', true, true],
  ['abc', 'ABC', false, true],
  ['abc', 'abcd', false, false],
  ['', '', true, true],
  ['', 'a', false, false],
  // prefix
  ['/api/*', '/api/', true, true],
  ['/api/*', '/api/a/b', true, true],
  ['/api/*', '/API/a', false, true],
  ['/api/*', '/api', false, false],
  // suffix
  ['*.example.com', 'a.example.com', true, true],
  ['*.example.com', 'A.EXAMPLE.COM', false, true],
  ['*.example.com', 'example.com', false, false],
  ['*.example.com', '.example.com', true, true],
  // contains
  ['*mid*', 'mid', true, true],
  ['*mid*', 'xxMIDyy', false, true],
  ['*mid*', 'mi', false, false],
  // any
  ['*', '', true, true],
  ['**', 'anything/at/all', true, true],
  // ?
  ['?', 'a', true, true],
  ['?', '', false, false],
  ['?', 'ab', false, false],
  ['a?c', 'abc', true, true],
  ['a?c', 'A/C', false, true],
  ['a?c', 'ac', false, false],
  ['??', 'ab', true, true],
  // general globs
  ['a*b*c', 'abc', true, true],
  ['a*b*c', 'aXXbYYc', true, true],
  ['a*b*c', 'aXXcYYb', false, false],
  ['a*b*c', 'ABC', false, true],
  ['*a*b', 'xaybzb', true, true],
  ['a*a', 'a', false, false],
  ['a*a', 'aa', true, true],
  ['ab*ba', 'aba', false, false],
  ['ab*ba', 'abba', true, true],
  ['*?', '', false, false],
  ['*?', 'x', true, true],
  ['?*?', 'xy', true, true],
  ['?*?', 'x', false, false],
  ['*a?c*', 'zzabcz', true, true],
  ['*a?c*', 'zzacz', false, false],
  ['/u/*/p?/*.jpg', '/u/1/2/p7/x.jpg', true, true],
  ['/u/*/p?/*.jpg', '/u/1/2/p77/x.jpg', false, false],
  ['a**b', 'ab', true, true],
  ['*ab*ab*', 'xabyab', true, true],
  ['*ab*ab*', 'xaby', false, false],
  ['*aab', 'aaab', true, true],
  // only ASCII folds
  ['é*', 'É', false, false],
  ['É*', 'É', true, true],
];

describe('compileWildcard', () => {
  for (const [pattern, input, cs, ci] of TABLE) {
    it(`${JSON.stringify(pattern)} vs ${JSON.stringify(input)}`, () => {
      assert.equal(compileWildcard(pattern, { caseInsensitive: false })(input), cs, 'case-sensitive');
      assert.equal(compileWildcard(pattern, { caseInsensitive: true })(input), ci, 'case-insensitive');
    });
  }

  it('case-insensitive patterns are folded once: an uppercase pattern matches lowercase input', () => {
    assert.equal(compileWildcard('*.EXAMPLE.com', { caseInsensitive: true })('www.example.com'), true);
    assert.equal(compileWildcard('A?C*', { caseInsensitive: true })('abcdef'), true);
  });

  it('has no backtracking blow-up on hostile input', () => {
    // A naive backtracking matcher (or regex /^(a*)*b$/-like) takes exponential time here.
    const input = 'a'.repeat(20000);
    assert.equal(compileWildcard('*a*a*a*a*a*a*a*a*a*a*b', { caseInsensitive: false })(input), false);
    assert.equal(compileWildcard('*a?a*a?a*a?a*a?a*b', { caseInsensitive: true })(input), false);
    assert.equal(compileWildcard('*a*a*a*a*a*a*a*a*a*a*', { caseInsensitive: false })(input), true);
  });
});

describe('wildcardShape', () => {
  it('classifies the indexable shapes', () => {
    assert.deepEqual(wildcardShape('/health'), { kind: 'exact', literal: '/health' });
    assert.deepEqual(wildcardShape('/api/*'), { kind: 'prefix', literal: '/api/' });
    assert.deepEqual(wildcardShape('/api/**'), { kind: 'prefix', literal: '/api/' });
    assert.deepEqual(wildcardShape('*.jpg'), { kind: 'suffix', literal: '.jpg' });
    assert.deepEqual(wildcardShape('*mid*'), { kind: 'contains', literal: 'mid' });
    assert.deepEqual(wildcardShape('*'), { kind: 'any' });
    assert.deepEqual(wildcardShape('/a/*/b'), { kind: 'glob' });
    assert.deepEqual(wildcardShape('/v?/*'), { kind: 'glob' });
  });
});

describe('ASCII helpers', () => {
  it('toAsciiLowerCase folds only A–Z and returns the same string when nothing changes', () => {
    assert.equal(toAsciiLowerCase('Host.EXAMPLE'), 'host.example');
    assert.equal(toAsciiLowerCase('ÀB'), 'Àb');
    const s = 'already.lower';
    assert.equal(toAsciiLowerCase(s), s);
  });

  it('equalsAsciiIgnoreCase', () => {
    assert.equal(equalsAsciiIgnoreCase('Content-Type', 'content-type'), true);
    assert.equal(equalsAsciiIgnoreCase('Content-Typ', 'content-type'), false);
    assert.equal(equalsAsciiIgnoreCase('Cookie', 'cookiE'), false, 'the second argument must be lowercase');
  });

  it('hasWildcard', () => {
    assert.equal(hasWildcard('a.b'), false);
    assert.equal(hasWildcard('a*'), true);
    assert.equal(hasWildcard('a?'), true);
  });
});
