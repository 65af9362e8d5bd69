import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PickContext } from '../../../../src/targets/balancers/balancer.js';
import { RoundRobinBalancer } from '../../../../src/targets/balancers/round-robin.js';
import { seededRandom } from '../../../../src/util/random.js';

interface T {
  readonly id: string;
  weight: number;
  inFlight: number;
}
const CTX: PickContext = { hashKey: '' };
const zero = { random: () => 0 };
const t = (id: string, weight = 1): T => ({ id, weight, inFlight: 0 });
const targets = (weights: readonly number[]): T[] =>
  weights.map((w, i) => t(String.fromCharCode(97 + i), w));

function sequence(b: RoundRobinBalancer<T>, n: number, exclude: ReadonlySet<string> | null = null): string {
  let out = '';
  for (let i = 0; i < n; i++) out += b.pick(CTX, exclude)?.id ?? '-';
  return out;
}

/** nginx's smooth weighted round robin, written as plainly as possible, from zero state. */
function reference(weights: readonly number[], n: number): string {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  let out = '';
  for (let k = 0; k < n; k++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    out += String.fromCharCode(97 + best);
  }
  return out;
}

const count = (s: string, ch: string): number => s.split(ch).length - 1;

describe('RoundRobinBalancer', () => {
  it('weights 5,1,1 give nginx’s interleaved sequence a a b a c a a, cycle after cycle', () => {
    const b = new RoundRobinBalancer<T>(zero);
    b.refresh(targets([5, 1, 1]));
    assert.equal(sequence(b, 21), 'aabacaa'.repeat(3));
  });

  it('the live loop gives the same sequence as the precomputed schedule', () => {
    const b = new RoundRobinBalancer<T>(zero, { maxScheduleLength: 0 });
    b.refresh(targets([5, 1, 1]));
    assert.equal(sequence(b, 21), 'aabacaa'.repeat(3));
  });

  it('schedule and live loop both match the reference for random weight sets', () => {
    const rnd = seededRandom(5);
    for (let round = 0; round < 200; round++) {
      const n = 2 + Math.floor(rnd() * 6);
      const weights: number[] = [];
      for (let i = 0; i < n; i++) weights.push(1 + Math.floor(rnd() * 12) * (rnd() < 0.5 ? 1 : 3));
      const cycle = weights.reduce((a, b) => a + b, 0);
      const expected = reference(weights, cycle * 3);
      const scheduled = new RoundRobinBalancer<T>(zero);
      scheduled.refresh(targets(weights));
      const live = new RoundRobinBalancer<T>(zero, { maxScheduleLength: 0 });
      live.refresh(targets(weights));
      const label = `weights ${weights.join(',')}`;
      assert.equal(sequence(scheduled, cycle * 3), expected, label);
      assert.equal(sequence(live, cycle * 3), expected, label);
      // Exact shares over every cycle.
      const first = expected.slice(0, cycle);
      for (let i = 0; i < n; i++) assert.equal(count(first, String.fromCharCode(97 + i)), weights[i], label);
    }
  });

  it('weights with a common divisor give the same sequence as the reduced weights', () => {
    const b = new RoundRobinBalancer<T>(zero);
    b.refresh(targets([50, 10, 10]));
    assert.equal(sequence(b, 14), 'aabacaa'.repeat(2));
  });

  it('a cycle longer than the schedule limit uses the live loop, still exact per cycle', () => {
    const weights = [3000, 1500, 7]; // GCD 1, cycle 4507 > 4096.
    const b = new RoundRobinBalancer<T>(zero);
    b.refresh(targets(weights));
    const s = sequence(b, 4507 * 2);
    assert.equal(s, reference(weights, 4507 * 2));
    assert.equal(count(s.slice(0, 4507), 'c'), 7);
  });

  it('fractional weights use the live loop and keep their ratio', () => {
    const b = new RoundRobinBalancer<T>(zero);
    b.refresh(targets([0.5, 1.5]));
    const s = sequence(b, 200);
    assert.equal(count(s, 'a'), 50);
    assert.equal(count(s, 'b'), 150);
  });

  it('equal weights are a plain cursor: a b c a b c', () => {
    const b = new RoundRobinBalancer<T>(zero);
    b.refresh(targets([2, 2, 2]));
    assert.equal(sequence(b, 9), 'abcabcabc');
  });

  it('starts at a random point after refresh (cursor and schedule)', () => {
    const half = { random: () => 0.5 };
    const plain = new RoundRobinBalancer<T>(half);
    plain.refresh(targets([1, 1, 1, 1]));
    assert.equal(sequence(plain, 6), 'cdabcd');
    const weighted = new RoundRobinBalancer<T>(half);
    weighted.refresh(targets([5, 1, 1])); // Cycle 7: starts at position 3 of a a b a c a a.
    assert.equal(sequence(weighted, 7), 'acaaaab');
  });

  it('exclusion skips the excluded target and keeps the others in order', () => {
    const plain = new RoundRobinBalancer<T>(zero);
    plain.refresh(targets([1, 1, 1, 1]));
    assert.equal(sequence(plain, 9, new Set(['b'])), 'acdacdacd');
    const weighted = new RoundRobinBalancer<T>(zero);
    weighted.refresh(targets([5, 1, 1]));
    assert.equal(sequence(weighted, 6, new Set(['a'])), 'bcbcbc');
    const live = new RoundRobinBalancer<T>(zero, { maxScheduleLength: 0 });
    live.refresh(targets([5, 1, 1]));
    assert.equal(sequence(live, 6, new Set(['a'])), 'bcbcbc');
  });

  it('after a retry the rotation continues, and each cycle still honours the weights', () => {
    // Schedule: position 1 (a) is passed over during the retry, so the cycle resumes at 3.
    // Live loop: a gains no weight while excluded (nginx's `tried`), so it is not penalised.
    for (const [maxScheduleLength, after] of [
      [4096, 'acaa' + 'aabacaa'],
      [0, 'acaabaa' + 'acaabaa'],
    ] as const) {
      const b = new RoundRobinBalancer<T>(zero, { maxScheduleLength });
      b.refresh(targets([5, 1, 1]));
      const first = b.pick(CTX, null)!;
      assert.equal(first.id, 'a');
      assert.equal(b.pick(CTX, new Set([first.id]))?.id, 'b');
      assert.equal(sequence(b, after.length), after, `maxScheduleLength ${maxScheduleLength}`);
    }
  });

  it('frequent refreshes (slow-start ticks) do not bias the shares', () => {
    for (const maxScheduleLength of [4096, 0]) {
      const b = new RoundRobinBalancer<T>({ random: seededRandom(11) }, { maxScheduleLength });
      const usable = targets([1, 2, 7]);
      const counts = new Map<string, number>();
      for (let i = 0; i < 20_000; i++) {
        b.refresh(usable); // Worst case: a refresh before every pick.
        const id = b.pick(CTX, null)!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const label = `maxScheduleLength ${maxScheduleLength}: ${JSON.stringify([...counts])}`;
      assert.ok(Math.abs(counts.get('a')! - 2000) < 200, label);
      assert.ok(Math.abs(counts.get('b')! - 4000) < 300, label);
      assert.ok(Math.abs(counts.get('c')! - 14000) < 500, label);
    }
  });

  it('the live loop carries its state across a weight-only refresh', () => {
    const b = new RoundRobinBalancer<T>(zero, { maxScheduleLength: 0 });
    const usable = targets([5, 1, 1]);
    b.refresh(usable);
    const head = sequence(b, 3);
    b.refresh(usable);
    assert.equal(head + sequence(b, 4), 'aabacaa');
  });
});
