/**
 * native/src/id-map.h (the engine's id → connection table) against std::unordered_map, through
 * the addon's idMapCheck hook: after every insert or erase, every id seen so far must be found
 * exactly when the reference has it. The ids are drawn to collide (the same home slot in the
 * 1,024-slot table), to wrap around its end, and to make it grow.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RUNS, SKIP, nativeHooks } from './native-hooks.js';

interface Hooks {
  idMapCheck(ops: number[]): string;
}

const check = (ops: number[]): string => nativeHooks<Hooks>().idMapCheck(ops);

const id = fc.oneof(
  fc.integer({ min: 1, max: 40 }), // a dense run
  // Homes in the last and first few slots: probe runs that wrap around the end, shared homes.
  fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: -6, max: 6 })).map(([k, d]) => 1024 + k * 1024 + d),
  fc.integer({ min: 1, max: 0xffffffff }),
);
/** Inserts and erases over a small pool of ids, so that erases often hit present ones. */
const ops = fc
  .tuple(fc.uniqueArray(id, { minLength: 2, maxLength: 12 }), fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 1, maxLength: 80 }))
  .map(([pool, picks]) => picks.map(([i, erase]) => (erase ? -1 : 1) * pool[i % pool.length]!));

describe('native id map', { skip: SKIP }, () => {
  it('agrees with std::unordered_map after any sequence of inserts and erases', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        assert.equal(check(sequence), '');
      }),
      { numRuns: Math.min(RUNS, 2000) },
    );
  });

  it('grows past its first table and keeps every id through erases in and out of order', () => {
    const ops: number[] = [];
    for (let i = 1; i <= 1500; i++) ops.push(i);
    for (let i = 1; i <= 1500; i += 2) ops.push(-i);
    for (let i = 1500; i >= 2; i -= 4) ops.push(-i);
    for (let i = 1; i <= 300; i++) ops.push(i * 1024);
    assert.equal(check(ops), '');
  });

  it('keeps an entry at its home after the wrap when a hole opens before the end', () => {
    // Slots 1022, 1023, 0 hold ids whose homes are 1022, 1023, 0; erasing the first must move nothing.
    assert.equal(check([1024 + 1022, 1024 + 1023, 2048, -(1024 + 1022)]), '');
  });
});
