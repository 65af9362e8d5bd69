import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PickContext } from '../../../../src/targets/balancers/balancer.js';
import { WeightedRandomBalancer } from '../../../../src/targets/balancers/weighted-random.js';
import { seededRandom } from '../../../../src/util/random.js';

interface T {
  readonly id: string;
  weight: number;
  inFlight: number;
}
const CTX: PickContext = { hashKey: '' };
const ALMOST_ONE = 1 - 2 ** -53;
const t = (id: string, weight = 1): T => ({ id, weight, inFlight: 0 });

function pickWith(weights: readonly number[], r: number, exclude: ReadonlySet<string> | null = null): string {
  const b = new WeightedRandomBalancer<T>({ random: () => r });
  b.refresh(weights.map((w, i) => t(String.fromCharCode(97 + i), w)));
  return b.pick(CTX, exclude)?.id ?? '-';
}

describe('WeightedRandomBalancer', () => {
  it('maps draws to weight intervals, boundaries included', () => {
    // Weights 1,1,2 over [0, 4): a = [0,1), b = [1,2), c = [2,4).
    assert.equal(pickWith([1, 1, 2], 0), 'a');
    assert.equal(pickWith([1, 1, 2], 0.2499), 'a');
    assert.equal(pickWith([1, 1, 2], 0.25), 'b');
    assert.equal(pickWith([1, 1, 2], 0.4999), 'b');
    assert.equal(pickWith([1, 1, 2], 0.5), 'c');
    assert.equal(pickWith([1, 1, 2], ALMOST_ONE), 'c');
  });

  it('a weight-0 target is unreachable at every boundary', () => {
    for (const r of [0, 0.4999, 0.5, 0.5001, ALMOST_ONE]) assert.notEqual(pickWith([1, 0, 1], r), 'b');
  });

  it('the binary search finds every one of 100 targets at the middle of its interval', () => {
    const weights = Array.from({ length: 100 }, (_, i) => 1 + (i % 7));
    const total = weights.reduce((a, b) => a + b, 0);
    let before = 0;
    for (let i = 0; i < weights.length; i++) {
      const mid = (before + weights[i]! / 2) / total;
      assert.equal(pickWith(weights, mid), String.fromCharCode(97 + i));
      before += weights[i]!;
    }
  });

  it('with exclusion, the redraw is proportional to the remaining weights', () => {
    const b = new WeightedRandomBalancer<T>({ random: seededRandom(6) });
    b.refresh([t('a', 1), t('b', 2), t('c', 3), t('d', 4)]);
    const counts = new Map<string, number>();
    const picks = 60_000;
    for (let i = 0; i < picks; i++) {
      const id = b.pick(CTX, new Set(['d']))!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.equal(counts.get('d'), undefined);
    for (const [id, w] of [['a', 1], ['b', 2], ['c', 3]] as const) {
      const e = (picks * w) / 6;
      assert.ok(Math.abs(counts.get(id)! - e) <= e * 0.05, `${id}: ${counts.get(id)} vs ${e}`);
    }
  });

  it('fractional weights are honoured', () => {
    assert.equal(pickWith([0.5, 1.5], 0.2), 'a');
    assert.equal(pickWith([0.5, 1.5], 0.3), 'b');
  });
});
