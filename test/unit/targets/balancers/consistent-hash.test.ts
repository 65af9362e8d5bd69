/**
 * Tests for src/targets/balancers/consistent-hash.ts beyond the shared conformance suite: the
 * Maglev table against the paper's worked example (golden), key movement when one of N targets
 * joins or leaves (≈ 1/N, measured), weights across keys, the empty key, and table reuse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConsistentHashBalancer,
  populateMaglevTable,
} from '../../../../src/targets/balancers/consistent-hash.js';
import { seededRandom } from '../../../../src/util/random.js';

interface T {
  readonly id: string;
  weight: number;
  inFlight: number;
}
const t = (id: string, weight = 1): T => ({ id, weight, inFlight: 0 });
const targets = (n: number, prefix = '10.0.0.'): T[] => Array.from({ length: n }, (_, i) => t(`${prefix}${i + 1}:8080`));

/** 20,000 random-looking keys from a seeded source (the same every run). */
function keys(count = 20_000, seed = 11): string[] {
  const rnd = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`${Math.floor(rnd() * 2 ** 32).toString(36)}-${i}`);
  return out;
}

function mapping(b: ConsistentHashBalancer<T>, ks: readonly string[]): string[] {
  return ks.map((hashKey) => b.pick({ hashKey }, null)!.id);
}

describe('populateMaglevTable', () => {
  // Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer" (NSDI 2016),
  // Table 1 and §3.4: M = 7; B0 offset 3 skip 4, B1 offset 0 skip 2, B2 offset 3 skip 1.
  const B0 = { offset: 3, skip: 4, weight: 1 };
  const B1 = { offset: 0, skip: 2, weight: 1 };
  const B2 = { offset: 3, skip: 1, weight: 1 };

  it("reproduces the paper's lookup table", () => {
    assert.deepEqual([...populateMaglevTable([B0, B1, B2], 7)], [1, 0, 1, 0, 2, 2, 0]);
  });

  it("reproduces the paper's table after B1 is removed", () => {
    // Indexes into [B0, B2]: B0 B0 B0 B0 B2 B2 B2.
    assert.deepEqual([...populateMaglevTable([B0, B2], 7)], [0, 0, 0, 0, 1, 1, 1]);
  });

  it('gives each entry slots in proportion to its weight', () => {
    const entries = [
      { offset: 5, skip: 3, weight: 1 },
      { offset: 17, skip: 29, weight: 3 },
      { offset: 40, skip: 11, weight: 6 },
    ];
    const table = populateMaglevTable(entries, 10_007);
    const counts = [0, 0, 0];
    for (const i of table) counts[i]!++;
    assert.deepEqual(
      counts.map((c) => Math.round((c / 10_007) * 100)),
      [10, 30, 60],
    );
  });
});

describe('ConsistentHashBalancer', () => {
  it('uses a 65,537-slot table, larger for many targets', () => {
    const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) });
    assert.equal(b.tableSize, 0);
    b.refresh(targets(3));
    assert.equal(b.tableSize, 65_537);
    b.refresh(targets(1_000));
    assert.equal(b.tableSize, 131_071);
  });

  for (const n of [5, 10]) {
    it(`removing 1 of ${n} targets moves ≈ 1/${n} of the keys, and only the removed target's`, () => {
      const ks = keys();
      const all = targets(n);
      const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) });
      b.refresh(all);
      const before = mapping(b, ks);
      const removed = all[3]!.id;
      b.refresh(all.filter((x) => x.id !== removed));
      const after = mapping(b, ks);
      let moved = 0;
      let movedElsewhere = 0;
      for (let i = 0; i < ks.length; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        if (before[i] !== removed) movedElsewhere++;
      }
      const share = moved / ks.length;
      // Binomial noise is ±0.2 percentage points (1σ); the bounds are ≥ 8σ away.
      assert.ok(share > 0.8 / n && share < 1.25 / n, `moved ${share.toFixed(4)}, ideal ${(1 / n).toFixed(4)}`);
      // Maglev's extra disruption: keys of other targets that moved anyway. Small, not zero.
      assert.ok(movedElsewhere / ks.length < 0.01, `moved elsewhere ${movedElsewhere}`);
    });

    it(`adding 1 target to ${n} moves ≈ 1/${n + 1} of the keys, nearly all to the new one`, () => {
      const ks = keys();
      const all = targets(n);
      const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) });
      b.refresh(all);
      const before = mapping(b, ks);
      const added = t('10.0.1.1:8080');
      b.refresh([...all, added]);
      const after = mapping(b, ks);
      let moved = 0;
      let notToNew = 0;
      for (let i = 0; i < ks.length; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        if (after[i] !== added.id) notToNew++;
      }
      const share = moved / ks.length;
      const ideal = 1 / (n + 1);
      assert.ok(share > 0.8 * ideal && share < 1.25 * ideal, `moved ${share.toFixed(4)}, ideal ${ideal.toFixed(4)}`);
      assert.ok(notToNew / ks.length < 0.01, `moved between old targets: ${notToNew}`);
    });
  }

  it('honours weights across keys within ±3%', () => {
    const ks = keys(50_000);
    const usable = [t('a', 1), t('b', 2), t('c', 3), t('d', 4)];
    const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) });
    b.refresh(usable);
    const counts = new Map<string, number>();
    for (const id of mapping(b, ks)) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const x of usable) {
      const expected = (ks.length * x.weight) / 10;
      assert.ok(Math.abs(counts.get(x.id)! - expected) < expected * 0.03, `${x.id}: ${counts.get(x.id)} vs ${expected}`);
    }
  });

  it('a weight change moves only about the share that changed', () => {
    const ks = keys();
    const usable = targets(4);
    const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) });
    b.refresh(usable);
    const before = mapping(b, ks);
    usable[0]!.weight = 2; // 1/4 → 2/5 of the keys: about 15% must move to it.
    b.refresh(usable);
    const after = mapping(b, ks);
    let moved = 0;
    for (let i = 0; i < ks.length; i++) if (before[i] !== after[i]) moved++;
    assert.ok(moved / ks.length > 0.12 && moved / ks.length < 0.2, `moved ${moved / ks.length}`);
  });

  it('an empty key goes to a random slot, so keyless requests spread', () => {
    const b = new ConsistentHashBalancer<T>({ random: seededRandom(4) });
    const usable = targets(4);
    b.refresh(usable);
    const counts = new Map<string, number>();
    for (let i = 0; i < 8_000; i++) {
      const id = b.pick({ hashKey: '' }, null)!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const x of usable) assert.ok(Math.abs(counts.get(x.id)! - 2_000) < 250, `${x.id}: ${counts.get(x.id)}`);
    const never = b.pick({ hashKey: '' }, new Set(usable.map((x) => x.id)));
    assert.equal(never, undefined);
  });

  it('reuses the table for the same set, but returns the new objects', () => {
    const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) });
    b.refresh([t('a'), t('b')]);
    const fresh = [t('a'), t('b')];
    b.refresh(fresh);
    for (let i = 0; i < 50; i++) assert.ok(fresh.includes(b.pick({ hashKey: `k${i}` }, null)!));
  });

  it('with a tiny fixed table every target still owns a slot', () => {
    const b = new ConsistentHashBalancer<T>({ random: seededRandom(1) }, { tableSize: 7 });
    const usable = [t('a', 1), t('b', 100), t('c', 1)];
    b.refresh(usable);
    assert.equal(b.tableSize, 7);
    // Excluding two of three always leaves the third, whatever the key.
    for (let i = 0; i < 100; i++) {
      assert.equal(b.pick({ hashKey: `k${i}` }, new Set(['b', 'c']))?.id, 'a');
      assert.equal(b.pick({ hashKey: `k${i}` }, new Set(['a', 'b']))?.id, 'c');
    }
  });
});
