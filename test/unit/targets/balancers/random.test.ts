import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PickContext } from '../../../../src/targets/balancers/balancer.js';
import { RandomBalancer } from '../../../../src/targets/balancers/random.js';
import { seededRandom } from '../../../../src/util/random.js';

interface T {
  readonly id: string;
  weight: number;
  inFlight: number;
}
const CTX: PickContext = { hashKey: '' };
const t = (id: string, weight = 1): T => ({ id, weight, inFlight: 0 });
const scripted = (values: readonly number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('RandomBalancer', () => {
  it('maps the random draw straight to an index', () => {
    const b = new RandomBalancer<T>({ random: scripted([0, 0.34, 0.67, 0.99]) });
    b.refresh([t('a'), t('b'), t('c')]);
    let s = '';
    for (let i = 0; i < 4; i++) s += b.pick(CTX, null)!.id;
    assert.equal(s, 'abcc');
  });

  it('ignores weights (weighted_random is the weighted one)', () => {
    const b = new RandomBalancer<T>({ random: seededRandom(8) });
    b.refresh([t('a', 1), t('b', 99)]);
    let a = 0;
    for (let i = 0; i < 30_000; i++) if (b.pick(CTX, null)!.id === 'a') a++;
    assert.ok(Math.abs(a - 15_000) < 750, `a: ${a}`);
  });

  it('with exclusion, the redraw is uniform over the rest', () => {
    // First draw hits the excluded "b"; the redraw (0.5 of the 3 left) lands on the 2nd of them.
    const b = new RandomBalancer<T>({ random: scripted([0.3, 0.5]) });
    b.refresh([t('a'), t('b'), t('c'), t('d')]);
    assert.equal(b.pick(CTX, new Set(['b']))?.id, 'c');
    const seeded = new RandomBalancer<T>({ random: seededRandom(2) });
    seeded.refresh([t('a'), t('b'), t('c'), t('d')]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const id = seeded.pick(CTX, new Set(['b']))!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.equal(counts.get('b'), undefined);
    for (const id of ['a', 'c', 'd']) assert.ok(Math.abs(counts.get(id)! - 10_000) < 500, id);
  });
});
