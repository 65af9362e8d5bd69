/**
 * The shared conformance suite for rule matchers: SPEC §3, row by row (ARCHITECTURE §6 item 14).
 * `matcher.test.ts` runs it against `createMatcher`; any other matcher implementation (say, a
 * linear reference matcher) gets the same suite by passing its own factory.
 *
 * Owns: table-driven cases of rules + request → winning priority (0 = default action), and the
 * check that `explain` reaches the same verdict as `match` for every case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MatchConfig } from '../../src/config/types.js';
import type { Matcher, RuleInput } from '../../src/router/matcher.js';
import { normalizePath, splitTarget } from '../../src/router/path-normalize.js';
import { RequestView } from '../../src/router/request-view.js';

export type MatcherFactory = <A>(rules: readonly RuleInput<A>[], defaultAction: A) => Matcher<A>;

/** A request as a test writes it. `target` is the raw request target (path and query). */
export interface RequestSpec {
  readonly method?: string;
  readonly host?: string;
  readonly target?: string;
  /** Flat name/value pairs, as Node's rawHeaders. */
  readonly headers?: readonly string[];
  readonly sourceIp?: string;
}

/** Builds the RequestView the data plane would: split the target, normalise the path. */
export function requestView(spec: RequestSpec): RequestView {
  const target = splitTarget(spec.target ?? '/');
  if (target === null) throw new Error(`bad target ${spec.target}`);
  const path = normalizePath(target.path);
  if (path === null) throw new Error(`path ${target.path} would be a 400`);
  const host = spec.host ?? 'example.com';
  return new RequestView(
    spec.method ?? 'GET',
    host,
    path,
    target.query,
    ['Host', host, ...(spec.headers ?? [])],
    spec.sourceIp ?? '192.0.2.10',
  );
}

interface Case {
  readonly name: string;
  readonly rules: readonly { readonly priority: number; readonly match?: MatchConfig }[];
  readonly request: RequestSpec;
  /** Winning priority; 0 for the default action. */
  readonly expect: number;
}

/** One-rule cases: does `match` match the request? */
function single(name: string, match: MatchConfig, request: RequestSpec, matches: boolean): Case {
  return { name, rules: [{ priority: 1, match }], request, expect: matches ? 1 : 0 };
}

const HOST: Case[] = [
  single('exact host', { host: ['api.example.com'] }, { host: 'api.example.com' }, true),
  single('host is case-insensitive (request)', { host: ['api.example.com'] }, { host: 'API.Example.COM' }, true),
  single('host is case-insensitive (pattern)', { host: ['API.EXAMPLE.com'] }, { host: 'api.example.com' }, true),
  single('host port is stripped', { host: ['api.example.com'] }, { host: 'api.example.com:8080' }, true),
  single('host trailing dot is ignored', { host: ['api.example.com'] }, { host: 'api.example.com.' }, true),
  single('host other name', { host: ['api.example.com'] }, { host: 'www.example.com' }, false),
  single('host is not a suffix match', { host: ['example.com'] }, { host: 'api.example.com' }, false),
  single('*.example.com matches a subdomain', { host: ['*.example.com'] }, { host: 'a.example.com' }, true),
  single('*.example.com crosses dots', { host: ['*.example.com'] }, { host: 'a.b.example.com' }, true),
  single('*.example.com does not match example.com', { host: ['*.example.com'] }, { host: 'example.com' }, false),
  single('*.example.com with port and case', { host: ['*.Example.com'] }, { host: 'WWW.EXAMPLE.COM:443' }, true),
  single('? is exactly one character', { host: ['api?.example.com'] }, { host: 'api1.example.com' }, true),
  single('? is not zero characters', { host: ['api?.example.com'] }, { host: 'api.example.com' }, false),
  single('? is not two characters', { host: ['api?.example.com'] }, { host: 'api12.example.com' }, false),
  single('host prefix wildcard', { host: ['api.*'] }, { host: 'api.example.org' }, true),
  single('host values are OR', { host: ['a.example.com', 'b.example.com'] }, { host: 'b.example.com' }, true),
  single('host IPv6 literal with port', { host: ['[::1]'] }, { host: '[::1]:8080' }, true),
  single('host IPv4 with port', { host: ['10.0.0.1'] }, { host: '10.0.0.1:80' }, true),
];

const PATH: Case[] = [
  single('exact path', { path: ['/health'] }, { target: '/health' }, true),
  single('exact path is not a prefix', { path: ['/health'] }, { target: '/healthz' }, false),
  single('/api/* matches below', { path: ['/api/*'] }, { target: '/api/users' }, true),
  single('* crosses /', { path: ['/api/*'] }, { target: '/api/v1/users/7' }, true),
  single('* matches zero characters', { path: ['/api/*'] }, { target: '/api/' }, true),
  single('/api/* does not match /api', { path: ['/api/*'] }, { target: '/api' }, false),
  single('path is case-sensitive', { path: ['/Img/*'] }, { target: '/img/a.jpg' }, false),
  single('path same case', { path: ['/img/*'] }, { target: '/img/a.jpg' }, true),
  single('path suffix', { path: ['*.jpg'] }, { target: '/img/a.jpg' }, true),
  single('path suffix is case-sensitive', { path: ['*.jpg'] }, { target: '/img/a.JPG' }, false),
  single('path middle wildcard', { path: ['/u/*/profile'] }, { target: '/u/42/profile' }, true),
  single('path middle wildcard crosses /', { path: ['/u/*/profile'] }, { target: '/u/a/b/profile' }, true),
  single('path ?', { path: ['/v?/x'] }, { target: '/v2/x' }, true),
  single('path ? not slash-free', { path: ['/a?b'] }, { target: '/a/b' }, true),
  single('path ignores the query', { path: ['/search'] }, { target: '/search?q=1' }, true),
  single('path pattern does not see the query', { path: ['*q=1*'] }, { target: '/search?q=1' }, false),
  single('path after dot-segment removal', { path: ['/api/*'] }, { target: '/static/../api/x' }, true),
  single('dot-segments cannot dodge a rule', { path: ['/admin/*'] }, { target: '/public/%2e%2E/admin/x' }, true),
  single('unreserved escapes are decoded', { path: ['/api/*'] }, { target: '/%61pi/x' }, true),
  single('reserved escapes stay encoded', { path: ['/a b'] }, { target: '/a%20b' }, false),
  single('reserved escapes match in encoded form', { path: ['/a%20b'] }, { target: '/a%20b' }, true),
  single('escape hex is uppercased', { path: ['/caf%C3%A9'] }, { target: '/caf%c3%a9' }, true),
  single('path values are OR', { path: ['/a', '/b/*'] }, { target: '/b/c' }, true),
  single('path * alone', { path: ['*'] }, { target: '/anything' }, true),
];

const METHOD: Case[] = [
  single('method exact', { method: ['GET'] }, { method: 'GET' }, true),
  single('method is case-sensitive', { method: ['GET'] }, { method: 'get' }, false),
  single('method values are OR', { method: ['GET', 'POST'] }, { method: 'POST' }, true),
  single('method has no wildcards', { method: ['G*'] }, { method: 'GET' }, false),
  single('HEAD is not GET', { method: ['GET'] }, { method: 'HEAD' }, false),
];

const HEADER: Case[] = [
  single('header value', { header: { 'X-Env': ['canary'] } }, { headers: ['X-Env', 'canary'] }, true),
  single('header name is case-insensitive', { header: { 'X-Env': ['canary'] } }, { headers: ['x-ENV', 'canary'] }, true),
  single('header value is case-insensitive', { header: { 'X-Env': ['canary'] } }, { headers: ['X-Env', 'CANARY'] }, true),
  single('header value wildcard', { header: { 'X-Env': ['beta*'] } }, { headers: ['X-Env', 'Beta-2'] }, true),
  single('header value ?', { header: { 'X-Env': ['v?'] } }, { headers: ['X-Env', 'v2'] }, true),
  single('header absent', { header: { 'X-Env': ['*'] } }, {}, false),
  single('header empty value matches *', { header: { 'X-Env': ['*'] } }, { headers: ['X-Env', ''] }, true),
  single('header whole value, not a substring', { header: { 'X-Env': ['canary'] } }, { headers: ['X-Env', 'canary2'] }, false),
  single('header any value of a repeated header', { header: { 'X-Env': ['canary'] } }, { headers: ['X-Env', 'prod', 'x-env', 'canary'] }, true),
  single('header comma-joined value is one value', { header: { 'X-Env': ['canary'] } }, { headers: ['X-Env', 'prod, canary'] }, false),
  single('header comma-joined value with wildcard', { header: { 'X-Env': ['*canary'] } }, { headers: ['X-Env', 'prod, canary'] }, true),
  single('header values are OR', { header: { 'X-Env': ['canary', 'beta*'] } }, { headers: ['X-Env', 'beta7'] }, true),
  single('header names are AND (both)', { header: { 'X-A': ['1'], 'X-B': ['2'] } }, { headers: ['X-A', '1', 'X-B', '2'] }, true),
  single('header names are AND (one missing)', { header: { 'X-A': ['1'], 'X-B': ['2'] } }, { headers: ['X-A', '1'] }, false),
  single('header other header does not count', { header: { 'X-Env': ['canary'] } }, { headers: ['X-Other', 'canary'] }, false),
];

const QUERY: Case[] = [
  single('query key and value', { query: [{ key: 'version', value: 'v2' }] }, { target: '/?version=v2' }, true),
  single('query key and value, wrong value', { query: [{ key: 'version', value: 'v2' }] }, { target: '/?version=v1' }, false),
  single('query value under another key', { query: [{ key: 'version', value: 'v2' }] }, { target: '/?other=v2' }, false),
  single('query without key: any key', { query: [{ value: 'debug' }] }, { target: '/?mode=debug' }, true),
  single('query without key: bare value', { query: [{ value: 'debug' }] }, { target: '/?x=1&debug' }, false),
  single('query without key: bare key matches empty value', { query: [{ value: '' }] }, { target: '/?debug' }, true),
  single('query key is case-insensitive', { query: [{ key: 'Version', value: 'v2' }] }, { target: '/?VERSION=v2' }, true),
  single('query value is case-insensitive', { query: [{ key: 'version', value: 'V2' }] }, { target: '/?version=v2' }, true),
  single('query value wildcard', { query: [{ key: 'version', value: 'v*' }] }, { target: '/?version=v10' }, true),
  single('query key wildcard', { query: [{ key: 'utm_*', value: '*' }] }, { target: '/?utm_source=x' }, true),
  single('query value ?', { query: [{ key: 'v', value: '?' }] }, { target: '/?v=12' }, false),
  single('query is percent-decoded', { query: [{ key: 'q', value: 'a b/c' }] }, { target: '/?q=a%20b%2Fc' }, true),
  single('query + is a space', { query: [{ key: 'q', value: 'a b' }] }, { target: '/?q=a+b' }, true),
  single('query entries are OR', { query: [{ key: 'version', value: 'v2' }, { value: 'debug' }] }, { target: '/?x=debug' }, true),
  single('query any pair may match', { query: [{ key: 'a', value: '2' }] }, { target: '/?a=1&a=2' }, true),
  single('query absent', { query: [{ value: '*' }] }, { target: '/' }, false),
  single('query does not look at the path', { query: [{ value: 'x' }] }, { target: '/x' }, false),
];

const COOKIE: Case[] = [
  single('cookie value', { cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'tier=gold'] }, true),
  single('cookie among others', { cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'a=1; tier=gold; b=2'] }, true),
  single('cookie value is case-sensitive', { cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'tier=Gold'] }, false),
  single('cookie name is case-sensitive', { cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'Tier=gold'] }, false),
  single('cookie wildcard', { cookie: { tier: ['g*'] } }, { headers: ['Cookie', 'tier=gold'] }, true),
  single('cookie ?', { cookie: { tier: ['gol?'] } }, { headers: ['Cookie', 'tier=gold'] }, true),
  single('cookie absent', { cookie: { tier: ['*'] } }, { headers: ['Cookie', 'other=gold'] }, false),
  single('cookie absent without Cookie header', { cookie: { tier: ['*'] } }, {}, false),
  single('cookie across Cookie headers', { cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'a=1', 'cookie', 'tier=gold'] }, true),
  single('cookie first occurrence wins', { cookie: { tier: ['gold'] } }, { headers: ['Cookie', 'tier=silver; tier=gold'] }, false),
  single('cookie values are OR', { cookie: { tier: ['gold', 'platinum'] } }, { headers: ['Cookie', 'tier=platinum'] }, true),
  single('cookie names are AND', { cookie: { tier: ['gold'], beta: ['1'] } }, { headers: ['Cookie', 'tier=gold'] }, false),
];

const SOURCE_IP: Case[] = [
  single('IPv4 CIDR', { sourceIp: ['10.0.0.0/8'] }, { sourceIp: '10.1.2.3' }, true),
  single('IPv4 outside CIDR', { sourceIp: ['10.0.0.0/8'] }, { sourceIp: '11.1.2.3' }, false),
  single('IPv4 bare address', { sourceIp: ['192.0.2.7'] }, { sourceIp: '192.0.2.7' }, true),
  single('IPv4 /32 other address', { sourceIp: ['192.0.2.7/32'] }, { sourceIp: '192.0.2.8' }, false),
  single('IPv4 /0', { sourceIp: ['0.0.0.0/0'] }, { sourceIp: '203.0.113.9' }, true),
  single('IPv6 CIDR', { sourceIp: ['2001:db8::/32'] }, { sourceIp: '2001:db8:1::5' }, true),
  single('IPv6 outside CIDR', { sourceIp: ['2001:db8::/32'] }, { sourceIp: '2001:db9::5' }, false),
  single('IPv6 client vs IPv4 CIDR', { sourceIp: ['10.0.0.0/8'] }, { sourceIp: '2001:db8::1' }, false),
  single('IPv4-mapped client matches IPv4 CIDR', { sourceIp: ['10.0.0.0/8'] }, { sourceIp: '::ffff:10.9.8.7' }, true),
  single('IPv4-mapped client outside IPv4 CIDR', { sourceIp: ['10.0.0.0/8'] }, { sourceIp: '::ffff:11.9.8.7' }, false),
  single('IPv4 client matches mapped-form CIDR', { sourceIp: ['::ffff:10.0.0.0/104'] }, { sourceIp: '10.2.3.4' }, true),
  single('CIDRs are OR', { sourceIp: ['10.0.0.0/8', '2001:db8::/32'] }, { sourceIp: '2001:db8::1' }, true),
  single('unparseable source address', { sourceIp: ['0.0.0.0/0'] }, { sourceIp: 'garbage' }, false),
  single('X-Forwarded-For is not the source', { sourceIp: ['10.0.0.0/8'] }, { sourceIp: '192.0.2.1', headers: ['X-Forwarded-For', '10.0.0.1'] }, false),
];

const COMBINED: Case[] = [
  single('keys are AND: all hold', { host: ['api.example.com'], path: ['/v1/*'], method: ['GET'] }, { host: 'api.example.com', target: '/v1/x' }, true),
  single('keys are AND: one fails', { host: ['api.example.com'], path: ['/v1/*'], method: ['POST'] }, { host: 'api.example.com', target: '/v1/x' }, false),
  single('empty match matches everything', {}, { host: 'whatever.test', target: '/x', method: 'DELETE' }, true),
  single('empty lists are absent', { host: [], path: [] }, { target: '/x' }, true),
  { name: 'rule without match', rules: [{ priority: 9 }], request: { target: '/z' }, expect: 9 },
];

const PRIORITY: Case[] = [
  {
    name: 'lowest priority wins',
    rules: [{ priority: 20, match: { path: ['/a/*'] } }, { priority: 10, match: { path: ['/a/*'] } }],
    request: { target: '/a/x' },
    expect: 10,
  },
  {
    name: 'first matching rule wins, later ones are not considered',
    rules: [
      { priority: 1, match: { path: ['/b/*'] } },
      { priority: 2, match: { path: ['/a/*'] } },
      { priority: 3, match: {} },
    ],
    request: { target: '/a/x' },
    expect: 2,
  },
  {
    name: 'an unindexed rule beats a more specific exact-host rule with a higher number',
    rules: [
      { priority: 50, match: { host: ['api.example.com'] } },
      { priority: 5, match: { host: ['*.example.com'] } },
    ],
    request: { host: 'api.example.com' },
    expect: 5,
  },
  {
    name: 'a path-prefix rule beats an exact-host rule with a higher number',
    rules: [
      { priority: 30, match: { host: ['api.example.com'], path: ['/api/v1/users'] } },
      { priority: 7, match: { path: ['/api/*'] } },
    ],
    request: { host: 'api.example.com', target: '/api/v1/users' },
    expect: 7,
  },
  {
    name: 'an exact-host rule beats path rules with higher numbers',
    rules: [
      { priority: 30, match: { path: ['/api/v1/users'] } },
      { priority: 20, match: { path: ['/api/*'] } },
      { priority: 3, match: { host: ['api.example.com'] } },
      { priority: 40, match: { header: { 'X-A': ['*'] } } },
    ],
    request: { host: 'api.example.com', target: '/api/v1/users' },
    expect: 3,
  },
  {
    name: 'a short prefix beats a longer prefix with a higher number',
    rules: [
      { priority: 20, match: { path: ['/api/v1/*'] } },
      { priority: 10, match: { path: ['/a*'] } },
    ],
    request: { target: '/api/v1/x' },
    expect: 10,
  },
  {
    name: 'an exact path beats a prefix only by priority',
    rules: [
      { priority: 2, match: { path: ['/api/*'] } },
      { priority: 1, match: { path: ['/api/health'] } },
    ],
    request: { target: '/api/health' },
    expect: 1,
  },
  {
    name: 'the prefix rule still applies to an exact path bucket',
    rules: [
      { priority: 1, match: { path: ['/api/*'] } },
      { priority: 2, match: { path: ['/api/health'] } },
    ],
    request: { target: '/api/health' },
    expect: 1,
  },
  {
    name: 'a more specific rule that fails falls through to a later one',
    rules: [
      { priority: 1, match: { host: ['api.example.com'], method: ['POST'] } },
      { priority: 2, match: { path: ['/api/*'], method: ['PUT'] } },
      { priority: 3, match: { header: { 'X-A': ['1'] } } },
      { priority: 4, match: { path: ['/api/*'] } },
    ],
    request: { host: 'api.example.com', target: '/api/x' },
    expect: 4,
  },
  {
    name: 'default action when nothing matches',
    rules: [
      { priority: 1, match: { host: ['a.example.com'] } },
      { priority: 2, match: { path: ['/x'] } },
      { priority: 3, match: { method: ['PATCH'] } },
    ],
    request: { host: 'b.example.com', target: '/y' },
    expect: 0,
  },
  { name: 'no rules: default action', rules: [], request: {}, expect: 0 },
];

export const MATCHER_CASES: Readonly<Record<string, readonly Case[]>> = {
  host: HOST,
  path: PATH,
  method: METHOD,
  header: HEADER,
  query: QUERY,
  cookie: COOKIE,
  sourceIp: SOURCE_IP,
  'combined conditions': COMBINED,
  'priority and default': PRIORITY,
};

/** Registers the suite under `describe(name)`. */
export function matcherConformance(name: string, factory: MatcherFactory): void {
  describe(name, () => {
    for (const [group, cases] of Object.entries(MATCHER_CASES)) {
      describe(group, () => {
        for (const c of cases) {
          it(c.name, () => {
            const rules = c.rules.map((r) => ({ priority: r.priority, match: r.match, action: `rule ${r.priority}` }));
            const matcher = factory(rules, 'default');
            const view = requestView(c.request);
            const result = matcher.match(view);
            assert.equal(result.priority, c.expect);
            assert.equal(result.action, c.expect === 0 ? 'default' : `rule ${c.expect}`);
            // explain must agree with match, from a fresh view (laziness must not matter).
            const trace = matcher.explain(requestView(c.request));
            assert.equal(trace.winner.priority, c.expect);
            assert.equal(trace.isDefault, c.expect === 0);
            for (const rule of trace.rules) {
              assert.equal(rule.matched, rule.conditions.every((x) => x.ok));
              assert.equal(rule.winner, rule.priority === c.expect);
              for (const cond of rule.conditions) assert.ok(cond.reason.length > 0);
            }
          });
        }
      });
    }

    it('is stable: the same view matched twice gives the same result object', () => {
      const matcher = factory([{ priority: 1, match: { path: ['/a'] }, action: 'a' }], 'd');
      const view = requestView({ target: '/a' });
      assert.equal(matcher.match(view), matcher.match(view));
      assert.equal(matcher.match(requestView({ target: '/b' })), matcher.match(requestView({ target: '/c' })));
    });
  });
}
