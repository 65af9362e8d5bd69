import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MatchConfig } from '../../../src/config/types.js';
import { createMatcher, type Matcher, type MatchResult, type RuleInput } from '../../../src/router/matcher.js';
import type { RequestView } from '../../../src/router/request-view.js';
import { RuleIndex, type IndexedRule } from '../../../src/router/rule-index.js';
import { requestView } from '../../conformance/matcher.case.js';

interface R extends IndexedRule {
  readonly name: string;
}
function rule(order: number, name: string, host: string[] | null, path: string[] | null): R {
  return { order, name, hostPatterns: host, pathPatterns: path };
}
const names = (list: readonly R[]): string[] => list.map((r) => r.name);

describe('RuleIndex', () => {
  it('sorts rules into host, path and unindexed dimensions', () => {
    const index = new RuleIndex<R>([
      rule(0, 'exact-host', ['API.example.com.'], ['/x/*']),
      rule(1, 'wild-host', ['*.example.com'], null),
      rule(2, 'mixed-host-with-prefix', ['a.example.com', '*.b.example.com'], ['/m/*']),
      rule(3, 'prefix', null, ['/api/*']),
      rule(4, 'exact-path', null, ['/api/health']),
      rule(5, 'glob-path', null, ['/u/*/p']),
      rule(6, 'nothing', null, null),
    ]);
    assert.deepEqual(index.stats, {
      hostBuckets: 1,
      exactPaths: 1,
      pathPrefixes: 2,
      hostIndexedRules: 1,
      pathIndexedRules: 3,
      unindexedRules: 3,
    });
    assert.deepEqual(names(index.hostBucket('api.example.com')), ['exact-host']);
    assert.deepEqual(names(index.hostBucket('other.example.com')), []);
    assert.deepEqual(names(index.pathBucket('/api/health')), ['wild-host', 'prefix', 'exact-path', 'glob-path', 'nothing']);
    assert.deepEqual(names(index.pathBucket('/api/x')), ['wild-host', 'prefix', 'glob-path', 'nothing']);
    assert.deepEqual(names(index.pathBucket('/m/1')), ['wild-host', 'mixed-host-with-prefix', 'glob-path', 'nothing']);
    assert.deepEqual(names(index.pathBucket('/zzz')), ['wild-host', 'glob-path', 'nothing']);
    assert.deepEqual(names(index.candidates('api.example.com', '/api/x')), [
      'exact-host',
      'wild-host',
      'prefix',
      'glob-path',
      'nothing',
    ]);
  });

  it('finds the deepest prefix and includes its ancestors, across radix edge splits', () => {
    const index = new RuleIndex<R>([
      rule(0, '/api/v1/*', null, ['/api/v1/*']),
      rule(1, '/a*', null, ['/a*']),
      rule(2, '/api/v2/*', null, ['/api/v2/*']),
      rule(3, '/api/*', null, ['/api/*']),
      rule(4, '/b*', null, ['/b*']),
      rule(5, '/api/v1/users/*', null, ['/api/v1/users/*']),
    ]);
    assert.deepEqual(names(index.pathBucket('/api/v1/users/7')), ['/api/v1/*', '/a*', '/api/*', '/api/v1/users/*']);
    assert.deepEqual(names(index.pathBucket('/api/v1/x')), ['/api/v1/*', '/a*', '/api/*']);
    assert.deepEqual(names(index.pathBucket('/api/v2/x')), ['/a*', '/api/v2/*', '/api/*']);
    assert.deepEqual(names(index.pathBucket('/api/v3')), ['/a*', '/api/*']);
    assert.deepEqual(names(index.pathBucket('/api')), ['/a*']);
    assert.deepEqual(names(index.pathBucket('/apx')), ['/a*']);
    assert.deepEqual(names(index.pathBucket('/b')), ['/b*']);
    assert.deepEqual(names(index.pathBucket('/c')), []);
    assert.deepEqual(names(index.pathBucket('/')), []);
  });

  it('lists a rule once even when several of its patterns select the same bucket', () => {
    const index = new RuleIndex<R>([
      rule(0, 'two-prefixes', null, ['/a/*', '/a/b/*', '/a/b/c']),
      rule(1, 'two-hosts', ['x.test', 'X.TEST'], null),
    ]);
    assert.deepEqual(names(index.pathBucket('/a/b/c')), ['two-prefixes']);
    assert.deepEqual(names(index.pathBucket('/a/b/d')), ['two-prefixes']);
    assert.deepEqual(names(index.hostBucket('x.test')), ['two-hosts']);
  });
});

describe('matcher cost with many rules', () => {
  const HOSTS = 1000;
  const PREFIXES = 1000;
  const rules: { priority: number; match: MatchConfig; action: string }[] = [];
  for (let i = 0; i < HOSTS; i++) {
    rules.push({ priority: 1 + i, match: { host: [`h${i}.example.com`], method: ['GET'] }, action: `host ${i}` });
  }
  for (let i = 0; i < PREFIXES; i++) {
    rules.push({ priority: 5000 + i, match: { path: [`/p${i}/*`], method: ['GET'] }, action: `path ${i}` });
  }
  const matcher = createMatcher(rules, 'default');

  function evaluationsFor(host: string, target: string, method = 'GET'): { action: string; evaluations: number } {
    const before = matcher.conditionEvaluations;
    const { action } = matcher.match(requestView({ host, target, method }));
    return { action, evaluations: matcher.conditionEvaluations - before };
  }

  it('indexes every rule', () => {
    assert.equal(matcher.indexStats.hostBuckets, HOSTS);
    assert.equal(matcher.indexStats.pathPrefixes, PREFIXES);
    assert.equal(matcher.indexStats.unindexedRules, 0);
  });

  it('evaluates only the candidates of the request', () => {
    assert.deepEqual(evaluationsFor('h500.example.com', '/p700/x'), { action: 'host 500', evaluations: 2 });
    assert.deepEqual(evaluationsFor('nobody.example.com', '/p999/x/y'), { action: 'path 999', evaluations: 2 });
    assert.deepEqual(evaluationsFor('h3.example.com', '/p3/x', 'POST'), { action: 'default', evaluations: 2 });
    assert.deepEqual(evaluationsFor('nobody.example.com', '/nothing'), { action: 'default', evaluations: 0 });
  });

  it('hands match() a short candidate list', () => {
    const c = matcher.candidates(requestView({ host: 'h10.example.com', target: '/p10/a' }));
    assert.deepEqual(
      c.map((r) => r.priority),
      [11, 5010],
    );
    // /p1/* must not be a candidate for /p10/: prefixes are literal, '/p1/' is not a prefix of '/p10/'.
    assert.deepEqual(
      matcher.candidates(requestView({ target: '/p1/x' })).map((r) => r.priority),
      [5001],
    );
  });

  it('agrees with a linear scan of the same rules', () => {
    for (const [host, target] of [
      ['h1.example.com', '/p1/x'],
      ['h999.example.com', '/x'],
      ['z.example.com', '/p42/'],
      ['z.example.com', '/p42'],
      ['H7.EXAMPLE.COM:80', '/p7/../p8/x'],
    ] as const) {
      const expected = linearMatch(matcher, requestView({ host, target }));
      assert.equal(matcher.match(requestView({ host, target })).priority, expected?.priority ?? 0);
    }
  });
});

/** The reference: every rule in priority order, no index. */
function linearMatch<A>(m: Matcher<A>, view: RequestView): MatchResult<A> | null {
  for (const r of m.rules) if (r.conditions.every((c) => c.test(view))) return r.result;
  return null;
}

describe('index differential test', () => {
  // A deterministic mix of every shape: exact and wildcard hosts, exact/prefix/glob paths,
  // multi-pattern rules, unindexed rules. The indexed matcher must pick what a linear scan picks.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const HOSTS = ['a.test', 'b.test', 'x.a.test', 'A.TEST', 'c.test'];
  const HOST_PATTERNS = ['a.test', 'b.test', '*.a.test', '*.test', '?.test', 'c.test'];
  const PATHS = ['/', '/a', '/a/', '/a/b', '/ab', '/a/b/c', '/b/x', '/api/v1', '/api/v2/x'];
  const PATH_PATTERNS = ['/a', '/a/*', '/a*', '/a/b', '/a/b/*', '/b/*', '/api/*', '/api/v?/*', '*', '*/x', '/'];
  const pick = <T,>(list: readonly T[]): T => list[rnd(list.length)]!;

  for (let round = 0; round < 30; round++) {
    const rules: RuleInput<number>[] = [];
    const count = 5 + rnd(25);
    for (let i = 0; i < count; i++) {
      const match: { host?: string[]; path?: string[]; method?: string[] } = {};
      if (rnd(2) === 0) match.host = [pick(HOST_PATTERNS), ...(rnd(3) === 0 ? [pick(HOST_PATTERNS)] : [])];
      if (rnd(3) !== 0) match.path = [pick(PATH_PATTERNS), ...(rnd(3) === 0 ? [pick(PATH_PATTERNS)] : [])];
      if (rnd(4) === 0) match.method = ['POST'];
      const priority = 1 + rnd(500) * 100 + i; // unique
      rules.push({ priority, match, action: priority });
    }
    const m = createMatcher(rules, 0);
    it(`round ${round}: ${count} rules`, () => {
      for (const host of HOSTS) {
        for (const target of PATHS) {
          for (const method of ['GET', 'POST']) {
            const expected = linearMatch(m, requestView({ host, target, method }));
            const got = m.match(requestView({ host, target, method }));
            assert.equal(got.priority, expected?.priority ?? 0, `${method} ${host}${target}`);
          }
        }
      }
    });
  }
});
