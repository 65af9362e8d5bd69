/**
 * Micro-benchmark: nanoseconds per `match()` with 1 rule and with 2000 rules (1000 exact-host
 * rules + 1000 path-prefix rules, plus a few unindexed ones), for a hit in each index dimension
 * and a miss. With the index the 2000-rule rows should stay close to the 1-rule row.
 * Not a test. Run: `npx tsc -p . && node dist/bench/micro/matcher.bench.js [iterations]`
 * (default 1,000,000 matches per row).
 *
 * Owns: timing only (process.hrtime.bigint around a tight loop, after a warm-up). The views
 * are built once outside the loop, so this measures matching, not view construction (the lazy
 * host is computed on the first call and then cached, as it would be within one request).
 */
import type { MatchConfig } from '../../src/config/types.js';
import { createMatcher, type Matcher } from '../../src/router/matcher.js';
import { RequestView } from '../../src/router/request-view.js';

const ITERATIONS = Number(process.argv[2] ?? 1_000_000);
const WARMUP = Math.min(100_000, ITERATIONS);

function view(host: string, path: string, method = 'GET'): RequestView {
  return new RequestView(method, host, path, '', ['Host', host, 'User-Agent', 'bench'], '10.1.2.3');
}

function rules(count: number): { priority: number; match: MatchConfig; action: number }[] {
  const out: { priority: number; match: MatchConfig; action: number }[] = [];
  const half = count >> 1;
  for (let i = 0; i < half; i++) out.push({ priority: 1 + i, match: { host: [`h${i}.example.com`] }, action: i });
  for (let i = half; i < count; i++) out.push({ priority: 1 + i, match: { path: [`/p${i}/*`], method: ['GET'] }, action: i });
  return out;
}

let sink = 0;

function bench(label: string, matcher: Matcher<number>, v: RequestView): void {
  for (let i = 0; i < WARMUP; i++) sink += matcher.match(v).priority;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) sink += matcher.match(v).priority;
  const ns = Number(process.hrtime.bigint() - start) / ITERATIONS;
  console.log(`${label.padEnd(44)} ${ns.toFixed(1).padStart(8)} ns/op`);
}

const one = createMatcher([{ priority: 1, match: { path: ['/api/*'] }, action: 1 }], 0);
const many = createMatcher(
  [
    ...rules(2000),
    { priority: 40000, match: { header: { 'X-Canary': ['1'] } }, action: -1 },
    { priority: 40001, match: { host: ['*.internal'] }, action: -2 },
  ],
  0,
);

console.log(`match(), ${ITERATIONS} iterations per row`);
bench('1 rule, hit (/api/x)', one, view('example.com', '/api/x'));
bench('1 rule, miss', one, view('example.com', '/other'));
bench('2000 rules, exact-host hit (h500)', many, view('h500.example.com', '/x'));
bench('2000 rules, path-prefix hit (/p1500/*)', many, view('example.com', '/p1500/a/b'));
bench('2000 rules, miss (default action)', many, view('nobody.example.com', '/nothing'));
if (sink === 42) console.log('');
