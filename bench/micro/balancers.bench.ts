/**
 * Micro-benchmark: nanoseconds per `pick()` for every registered balancer, with 2 and 100
 * targets, equal and mixed weights, and with a one-id exclusion set (the retry path).
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
  for (let i = 0; i < WARMUP; i++) sink += balancer.pick(CTX, exclude)?.id.length ?? 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) sink += balancer.pick(CTX, exclude)?.id.length ?? 0;
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
