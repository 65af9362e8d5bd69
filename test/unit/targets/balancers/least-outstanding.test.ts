import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Balancer, PickContext } from '../../../../src/targets/balancers/balancer.js';
import { LeastOutstandingBalancer } from '../../../../src/targets/balancers/least-outstanding.js';
import { seededRandom } from '../../../../src/util/random.js';

interface T {
  readonly id: string;
  weight: number;
  inFlight: number;
}
const CTX: PickContext = { hashKey: '' };
const zero = { random: () => 0 };
const t = (id: string, weight = 1, inFlight = 0): T => ({ id, weight, inFlight });

/** The target group's side of a request. */
function start(b: Balancer<T>, exclude: ReadonlySet<string> | null = null): T {
  const picked = b.pick(CTX, exclude);
  assert.ok(picked !== undefined);
  picked.inFlight++;
  b.onRequestStart?.(picked);
  return picked;
}
function end(b: Balancer<T>, target: T): void {
  target.inFlight--;
  b.onRequestEnd?.(target);
}

describe('LeastOutstandingBalancer', () => {
  it('follows the in-flight counts the caller maintains', () => {
    const [a, b2, c] = [t('a'), t('b'), t('c')];
    const lb = new LeastOutstandingBalancer<T>(zero);
    lb.refresh([a, b2, c]);
    const opened = [start(lb), start(lb), start(lb)];
    assert.deepEqual(opened.map((x) => x.id).sort(), ['a', 'b', 'c']);
    end(lb, b2);
    assert.equal(start(lb), b2);
    end(lb, a);
    end(lb, c);
    const next = start(lb);
    assert.ok(next === a || next === c);
  });

  it('ties between equal weights rotate: a b c a b c', () => {
    const lb = new LeastOutstandingBalancer<T>(zero);
    lb.refresh([t('a'), t('b'), t('c')]);
    let s = '';
    for (let i = 0; i < 9; i++) s += lb.pick(CTX, null)!.id;
    assert.equal(s, 'abcabcabc');
  });

  it('ties between different weights follow smooth WRR: 5,1,1 → a a b a c a a', () => {
    const lb = new LeastOutstandingBalancer<T>(zero);
    lb.refresh([t('a', 5), t('b', 1), t('c', 1)]);
    let s = '';
    for (let i = 0; i < 14; i++) s += lb.pick(CTX, null)!.id;
    assert.equal(s, 'aabacaa'.repeat(2));
  });

  it('compares inFlight / weight', () => {
    const a = t('a', 1, 1);
    const b2 = t('b', 3, 2);
    const lb = new LeastOutstandingBalancer<T>(zero);
    lb.refresh([a, b2]);
    assert.equal(lb.pick(CTX, null), b2); // 2/3 < 1/1.
    b2.inFlight = 4;
    assert.equal(lb.pick(CTX, null), a); // 1/1 < 4/3.
  });

  it('exclusion gives the least loaded of the rest', () => {
    const lb = new LeastOutstandingBalancer<T>(zero);
    const usable = [t('a', 1, 0), t('b', 1, 5), t('c', 1, 2)];
    lb.refresh(usable);
    assert.equal(lb.pick(CTX, new Set(['a']))?.id, 'c');
    assert.equal(lb.pick(CTX, new Set(['a', 'c']))?.id, 'b');
    assert.equal(lb.pick(CTX, new Set(['a', 'b', 'c'])), undefined);
  });

  it('under sustained concurrency, picks follow the weights', () => {
    const usable = [t('a', 1), t('b', 2), t('c', 3)];
    const lb = new LeastOutstandingBalancer<T>({ random: seededRandom(3) });
    lb.refresh(usable);
    const rnd = seededRandom(4);
    const open: T[] = [];
    const picks = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const x = start(lb);
      open.push(x);
      picks.set(x.id, (picks.get(x.id) ?? 0) + 1);
      if (open.length >= 24) {
        // A random open request finishes (swap-remove).
        const k = Math.floor(rnd() * open.length);
        const done = open[k]!;
        open[k] = open[open.length - 1]!;
        open.pop();
        end(lb, done);
      }
    }
    const expected = { a: 5000, b: 10000, c: 15000 };
    for (const [id, e] of Object.entries(expected)) {
      assert.ok(Math.abs(picks.get(id)! - e) <= e * 0.05, `${id}: ${picks.get(id)} vs ${e}`);
    }
  });

  it('a slow target gets a small share', () => {
    // Requests to "slow" take 10× as long; least-outstanding should send it about 1/10 the rate.
    const usable = [t('a'), t('b'), t('slow')];
    const lb = new LeastOutstandingBalancer<T>({ random: seededRandom(9) });
    lb.refresh(usable);
    const pending: { target: T; doneAt: number }[] = [];
    const picks = new Map<string, number>();
    for (let tick = 0; tick < 20_000; tick++) {
      for (let i = pending.length - 1; i >= 0; i--) {
        if (pending[i]!.doneAt <= tick) {
          end(lb, pending[i]!.target);
          pending.splice(i, 1);
        }
      }
      for (let r = 0; r < 3; r++) {
        const x = start(lb);
        picks.set(x.id, (picks.get(x.id) ?? 0) + 1);
        pending.push({ target: x, doneAt: tick + (x.id === 'slow' ? 30 : 3) });
      }
    }
    const share = picks.get('slow')! / 60_000;
    assert.ok(share < 0.1, `slow share ${share}`);
    assert.ok(share > 0.02, `slow share ${share}`);
  });

  it('a weight-only refresh keeps the tie-breaking rotation going', () => {
    const lb = new LeastOutstandingBalancer<T>(zero);
    const usable = [t('a', 5), t('b', 1), t('c', 1)];
    lb.refresh(usable);
    let s = '';
    for (let i = 0; i < 3; i++) s += lb.pick(CTX, null)!.id;
    lb.refresh(usable);
    for (let i = 0; i < 4; i++) s += lb.pick(CTX, null)!.id;
    assert.equal(s, 'aabacaa');
  });
});
