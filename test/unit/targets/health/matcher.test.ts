import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileStatusMatcher } from '../../../../src/targets/health/matcher.js';
import { matcherProblem } from '../../../../src/config/validate.js';

describe('compileStatusMatcher', () => {
  it('matches codes and inclusive ranges', () => {
    const m = compileStatusMatcher('200-399,404');
    for (const s of [200, 204, 301, 399, 404]) assert.equal(m.test(s), true, String(s));
    for (const s of [199, 400, 403, 405, 500, 503]) assert.equal(m.test(s), false, String(s));
  });

  it('a single code', () => {
    const m = compileStatusMatcher('200');
    assert.equal(m.test(200), true);
    assert.equal(m.test(201), false);
  });

  it('tolerates spaces and keeps a compact source for reasons', () => {
    const m = compileStatusMatcher(' 200 - 299 , 418 ');
    assert.equal(m.test(250), true);
    assert.equal(m.test(418), true);
    assert.equal(m.source, '200-299,418');
  });

  it('never matches outside 100–599 or non-integers', () => {
    const m = compileStatusMatcher('100-599');
    for (const s of [0, 99, 600, 1000, -1, Number.NaN, 200.5]) assert.equal(m.test(s), false, String(s));
    assert.equal(m.test(100), true);
    assert.equal(m.test(599), true);
  });

  it('throws on what validation refuses', () => {
    for (const bad of ['', 'abc', '2xx', '200-', '399-200', '99', '600', '200,,300']) {
      assert.ok(matcherProblem(bad) !== null || bad === '', `validation should refuse ${JSON.stringify(bad)}`);
      assert.throws(() => compileStatusMatcher(bad), RangeError, bad);
    }
  });

  it('accepts everything validation accepts', () => {
    for (const good of ['200', '200-399', '200-399,404', '100-599', '200,201,202']) {
      assert.equal(matcherProblem(good), null);
      assert.doesNotThrow(() => compileStatusMatcher(good));
    }
  });
});
