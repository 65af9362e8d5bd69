/**
 * The replacement delay of a worker that keeps dying young: immediate for a one-off crash,
 * then doubling from 0.5 s, capped at 30 s.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replacementDelayMs } from '../../../src/control/cluster-primary.js';

describe('replacementDelayMs', () => {
  it('replaces at once, then backs off exponentially up to 30 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(replacementDelayMs), [0, 0, 500, 1000, 2000, 4000]);
    assert.equal(replacementDelayMs(7), 16_000);
    assert.equal(replacementDelayMs(8), 30_000);
    assert.equal(replacementDelayMs(20), 30_000);
  });
});
