/**
 * Runs the SPEC §3 matcher conformance suite against `createMatcher`, plus the explain texts
 * that `switchyard explain` prints.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMatcher } from '../../src/router/matcher.js';
import { matcherConformance, requestView } from './matcher.case.js';

matcherConformance('createMatcher', createMatcher);

describe('createMatcher explain', () => {
  function reasons(match: Parameters<typeof createMatcher>[0][number]['match'], spec: Parameters<typeof requestView>[0]): string[] {
    const m = createMatcher([{ priority: 1, match, action: 'x' }], 'd');
    const trace = m.explain(requestView(spec));
    return trace.rules[0]!.conditions.map((c) => c.reason);
  }

  it('says when only the case of the path differs', () => {
    assert.deepEqual(reasons({ path: ['/Img/*'] }, { target: '/img/a.jpg' }), [
      'path is case-sensitive: /Img/* does not match /img/a.jpg',
    ]);
  });

  it('names the host and the pattern', () => {
    assert.deepEqual(reasons({ host: ['*.api.example.com'] }, { host: 'api.example.com' }), [
      'host api.example.com does not match *.api.example.com',
    ]);
    assert.deepEqual(reasons({ host: ['*.example.com'] }, { host: 'A.Example.com:8443' }), [
      'host a.example.com matches *.example.com',
    ]);
  });

  it('explains every condition, cheapest first, even after one fails', () => {
    const r = reasons(
      { query: [{ key: 'v', value: '2' }], method: ['POST'], header: { 'X-Env': ['canary'] }, sourceIp: ['10.0.0.0/8'] },
      { method: 'get', target: '/?v=1', headers: ['X-Env', 'prod'], sourceIp: '::ffff:10.1.1.1' },
    );
    assert.deepEqual(r, [
      'method get is not POST',
      'header x-env value "prod" does not match canary',
      'source IP ::ffff:10.1.1.1 is in 10.0.0.0/8',
      'no query parameter matches v=2',
    ]);
  });

  it('hints at method and cookie case', () => {
    assert.deepEqual(reasons({ method: ['GET'] }, { method: 'get' }), ['method is case-sensitive: get is not GET']);
    assert.deepEqual(reasons({ cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'tier=GOLD'] }), [
      'cookie value is case-sensitive: gold does not match "GOLD"',
    ]);
    assert.deepEqual(reasons({ cookie: { tier: ['gold'] } }, {}), ['cookie tier is absent']);
    assert.deepEqual(reasons({ header: { 'X-Env': ['a'] } }, {}), ['header x-env is absent']);
  });

  it('lists rules up to the winner, with descriptions', () => {
    const m = createMatcher(
      [
        { priority: 30, match: {}, action: 'c' },
        { priority: 10, match: { path: ['/a/*'] }, action: 'a' },
        { priority: 20, match: { host: ['b.example.com', 'c.example.com'] }, action: 'b' },
      ],
      'd',
    );
    const trace = m.explain(requestView({ host: 'c.example.com', target: '/x' }));
    assert.deepEqual(
      trace.rules.map((r) => [r.priority, r.matched, r.winner]),
      [
        [10, false, false],
        [20, true, true],
      ],
    );
    assert.equal(trace.rules[1]!.conditions[0]!.description, 'host is any of b.example.com, c.example.com');
    assert.equal(trace.winner.action, 'b');
    assert.equal(trace.notEvaluated, 1);
    assert.equal(trace.isDefault, false);
  });

  it('reports the default action with priority 0', () => {
    const m = createMatcher([{ priority: 1, match: { path: ['/a'] }, action: 'a' }], 'd');
    const trace = m.explain(requestView({ target: '/b' }));
    assert.equal(trace.isDefault, true);
    assert.deepEqual(trace.winner, { action: 'd', priority: 0 });
    assert.equal(trace.notEvaluated, 0);
  });
});
