/**
 * Tests for src/targets/stickiness/group-stickiness.ts `drawNonEmpty`: the weighted draw that
 * leaves out groups with no registered target (used when a sticky group was emptied).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawNonEmpty } from '../../../../src/targets/stickiness/group-stickiness.js';

describe('drawNonEmpty', () => {
  const g = (name: string, registeredCount: number) => ({ name, registeredCount });

  it('draws by weight among the groups with targets only', () => {
    // Weights 1, 2, 1 (cumulative 1, 3, 4); the middle group is empty: 1:1 between the others.
    const forward = { groups: [g('a', 1), g('b', 0), g('c', 3)], cumulativeWeights: [1, 3, 4] };
    assert.equal(drawNonEmpty(forward, 0)?.name, 'a');
    assert.equal(drawNonEmpty(forward, 0.49)?.name, 'a');
    assert.equal(drawNonEmpty(forward, 0.5)?.name, 'c');
    assert.equal(drawNonEmpty(forward, 0.999999)?.name, 'c');
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const name = drawNonEmpty(forward, i / 1000)!.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { a: 500, c: 500 });
  });

  it('is null when every group is empty', () => {
    assert.equal(drawNonEmpty({ groups: [g('a', 0), g('b', 0)], cumulativeWeights: [1, 2] }, 0.3), null);
  });
});
