/**
 * Tests for src/targets/balancers/power-of-two.ts beyond the shared conformance suite: the two
 * draws are distinct and weighted, the less loaded (per unit of weight) wins, a tie goes to
 * the first draw, and under sustained load the backlog stays far more even than one random
 * choice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PickContext } from '../../../../src/targets/balancers/balancer.js';
import { PowerOfTwoBalancer } from '../../../../src/targets/balancers/power-of-two.js';
import { RandomBalancer } from '../../../../src/targets/balancers/random.js';
import { seededRandom } from '../../../../src/util/random.js';

interface T {
  readonly id: string;
  weight: number;
  inFlight: number;
}
const CTX: PickContext = { hashKey: '' };
const t = (id: string, weight = 1, inFlight = 0): T => ({ id, weight, inFlight });
const scripted = (values: readonly number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('PowerOfTwoBalancer', () => {
  it('equal weights: the second draw skips the first, then the less loaded wins', () => {
    // Draws 0.5 → index 2 of 4 ("c"), then 0.5 of the other 3 → index 1, i.e. "b".
    const usable = [t('a'), t('b', 1, 4), t('c', 1, 5), t('d')];
    const b = new PowerOfTwoBalancer<T>({ random: scripted([0.5, 0.5]) });
    b.refresh(usable);
    assert.equal(b.pick(CTX, null)?.id, 'b');
    // Draws 0 → "a", then 0 of the others → "b": a has fewer in flight.
    const c = new PowerOfTwoBalancer<T>({ random: scripted([0, 0]) });
    c.refresh(usable);
    assert.equal(c.pick(CTX, null)?.id, 'a');
  });

  it('a tie goes to the first draw', () => {
    const b = new PowerOfTwoBalancer<T>({ random: scripted([0.9, 0]) });
    b.refresh([t('a'), t('b'), t('c')]);
    assert.equal(b.pick(CTX, null)?.id, 'c');
  });

  it('weighted draws: the second draw is over the weight of the others', () => {
    // Weights 1, 3: first draw 0.3 × 4 = 1.2 → "b"; the second draw can only be "a".
    const a = t('a', 1, 0);
    const heavy = t('b', 3, 2); // 2/3 per unit of weight > 0: a wins.
    const b = new PowerOfTwoBalancer<T>({ random: scripted([0.3, 0.99]) });
    b.refresh([a, heavy]);
    assert.equal(b.pick(CTX, null), a);
    // Compared per unit of weight: 2 in flight on weight 3 beats 1 in flight on weight 1.
    a.inFlight = 1;
    assert.equal(b.pick(CTX, null), heavy);
  });

  it('with nothing in flight, shares follow the weights exactly like weighted_random', () => {
    const usable = [t('a', 1), t('b', 3), t('c', 6)];
    const b = new PowerOfTwoBalancer<T>({ random: seededRandom(9) });
    b.refresh(usable);
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const id = b.pick(CTX, null)!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const x of usable) {
      const expected = 3_000 * x.weight;
      assert.ok(Math.abs(counts.get(x.id)! - expected) < expected * 0.05, `${x.id}: ${counts.get(x.id)}`);
    }
  });

  it('the retry path draws two among the rest and compares them', () => {
    const usable = [t('a', 1, 9), t('b', 1, 1), t('c', 1, 0), t('d', 1, 5)];
    const b = new PowerOfTwoBalancer<T>({ random: seededRandom(2) });
    b.refresh(usable);
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const x = b.pick(CTX, new Set(['c']))!;
      assert.notEqual(x.id, 'c');
      // a is the busiest of the three left: it can never win against another candidate.
      assert.notEqual(x.id, 'a');
      seen.add(x.id);
    }
    assert.deepEqual([...seen].sort(), ['b', 'd']);
    assert.equal(b.pick(CTX, new Set(['a', 'b', 'd']))?.id, 'c');
  });

  it('under sustained load keeps backlogs far more even than one random choice', () => {
    // 20 targets; each step one request starts, and one random in-flight request finishes
    // when more than 200 are open. Compare the largest backlog at the end.
    const simulate = (make: (seed: number) => { refresh(u: T[]): void; pick(c: PickContext, e: null): T | undefined }): number => {
      const usable = Array.from({ length: 20 }, (_, i) => t(`t${i}`));
      const b = make(5);
      b.refresh(usable);
      const open: T[] = [];
      const rnd = seededRandom(77);
      let worst = 0;
      for (let step = 0; step < 20_000; step++) {
        const x = b.pick(CTX, null)!;
        x.inFlight++;
        open.push(x);
        if (open.length > 200) {
          const k = Math.floor(rnd() * open.length);
          const done = open[k]!;
          open[k] = open[open.length - 1]!;
          open.pop();
          done.inFlight--;
        }
        if (step > 1_000) for (const u of usable) worst = Math.max(worst, u.inFlight);
      }
      return worst;
    };
    const p2c = simulate((seed) => new PowerOfTwoBalancer<T>({ random: seededRandom(seed) }));
    const random = simulate((seed) => new RandomBalancer<T>({ random: seededRandom(seed) }));
    // 200 open over 20 targets is 10 each: P2C stays close to it (14 with these seeds and
    // others tried), one random choice does not (22–25).
    assert.ok(p2c <= 16, `power_of_two worst backlog ${p2c}`);
    assert.ok(random >= p2c + 5, `random worst backlog ${random} vs power_of_two ${p2c}`);
  });
});
