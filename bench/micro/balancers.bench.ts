/**
 * Micro-benchmark: nanoseconds per `pick()` for every registered balancer, with 2 and 100
 * targets, equal and mixed weights, and with a one-id exclusion set (the retry path).
 * `consistent_hash` gets a different key on every pick (1,024 keys like `user-123456`, hashed
 * each time), the others the empty key; a last section times `refresh()` (table builds).
 * Not a test. Run: `npx tsc -p . && node dist/bench/micro/balancers.bench.js [iterations]`
 * (default 2,000,000 picks per row; takes about a minute).
 *
 * Owns: timing only (process.hrtime.bigint around a tight loop, after a warm-up). Results vary
 * by machine; compare algorithms and commits on the same machine.
 */
import type { BalancerTarget, PickContext } from '../../src/targets/balancers/balancer.js';
import { balancerNames, createBalancer } from '../../src/targets/balancers/registry.js';
import { seededRandom } from '../../src/util/random.js';

interface Target extends BalancerTarget {
  inFlight: number;
}

const ITERATIONS = Number(process.argv[2] ?? 2_000_000);
const WARMUP = Math.min(200_000, ITERATIONS);
const CTX: PickContext = { hashKey: '' };
const KEY_COUNT = 1024;
/** Per-pick contexts: distinct user keys for consistent_hash, the empty key for the rest. */
const KEYED: readonly PickContext[] = Array.from({ length: KEY_COUNT }, (_, i) => ({ hashKey: `user-${100_000 + i * 7919}` }));
const UNKEYED: readonly PickContext[] = Array.from({ length: KEY_COUNT }, () => CTX);

function makeTargets(count: number, mixed: boolean): Target[] {
  const out: Target[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ id: `10.0.${i >> 8}.${i & 255}:8080`, weight: mixed ? 1 + ((i * 7) % 10) : 1, inFlight: 0 });
  }
  return out;
}

let sink = 0;

function measure(name: (typeof balancerNames)[number], count: number, mixed: boolean, excludeOne: boolean): number {
  const targets = makeTargets(count, mixed);
  const balancer = createBalancer<Target>(name, { random: seededRandom(1) });
  balancer.refresh(targets);
  const exclude = excludeOne ? new Set([targets[0]!.id]) : null;
  const contexts = name === 'consistent_hash' ? KEYED : UNKEYED;
  const mask = KEY_COUNT - 1;
  for (let i = 0; i < WARMUP; i++) sink += balancer.pick(contexts[i & mask]!, exclude)?.id.length ?? 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) sink += balancer.pick(contexts[i & mask]!, exclude)?.id.length ?? 0;
  const elapsed = process.hrtime.bigint() - start;
  return Number(elapsed) / ITERATIONS;
}

const rows: string[][] = [['algorithm', 'targets', 'weights', 'exclude', 'ns/pick']];
// Round 0 is discarded: it lets the shared `pick` call site see every class first, so no row
// is flattered by running while the call site was still monomorphic.
for (let round = 0; round < 2; round++) {
  for (const name of balancerNames) {
    for (const count of [2, 100]) {
      for (const mixed of [false, true]) {
        for (const excludeOne of [false, true]) {
          const ns = measure(name, count, mixed, excludeOne);
          if (round === 0) continue;
          rows.push([name, String(count), mixed ? 'mixed' : 'equal', excludeOne ? '1 id' : 'none', ns.toFixed(1)]);
        }
      }
    }
  }
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
console.log(`(${ITERATIONS} picks per row after ${WARMUP} warm-up; node ${process.version}; sink ${sink % 10})`);

// refresh() cost: what a membership, weight or health change costs (never per request).
// Targets alternate between two weights so every refresh really rebuilds.
console.log('');
const refreshRows: string[][] = [['algorithm', 'targets', 'µs/refresh']];
for (const name of balancerNames) {
  for (const count of [10, 100]) {
    const a = makeTargets(count, false);
    const b = makeTargets(count, true);
    const balancer = createBalancer<Target>(name, { random: seededRandom(1) });
    const rounds = 40;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) balancer.refresh(i % 2 === 0 ? a : b);
    const elapsed = process.hrtime.bigint() - start;
    refreshRows.push([name, String(count), (Number(elapsed) / rounds / 1000).toFixed(1)]);
  }
}
const refreshWidths = refreshRows[0]!.map((_, c) => Math.max(...refreshRows.map((r) => r[c]!.length)));
for (const row of refreshRows) console.log(row.map((cell, c) => cell.padEnd(refreshWidths[c]!)).join('  '));
