import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextRequestId } from '../../../src/util/request-id.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generated request ids', () => {
  it('are UUIDs of the version 4 form, all different, across the counter carrying into its upper bits', () => {
    // 140,000 ids cross at least two carries of the 16-bit lower counter, wherever it started.
    const seen = new Set<string>();
    let carries = 0;
    let prev = nextRequestId();
    for (let i = 0; i < 140_000; i++) {
      const id = nextRequestId();
      assert.match(id, V4);
      if (id.slice(24, 32) !== prev.slice(24, 32)) carries++;
      assert.equal(id.slice(0, 24), prev.slice(0, 24), 'the random part stays');
      // Consecutive ids are consecutive numbers.
      assert.equal(parseInt(id.slice(24), 16), parseInt(prev.slice(24), 16) + 1);
      seen.add(id);
      prev = id;
    }
    assert.equal(seen.size, 140_000);
    assert.ok(carries >= 2, `${carries} carries`);
  });
});
