/**
 * Tests for src/util/deadline.ts: a deadline moved without timers still fires once, on time,
 * for the latest `set`; `clear` and `stop` cancel it; a deadline shorter than the pending check
 * (settings changed) is not late.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Deadline } from '../../../src/util/deadline.js';

/** A deadline whose expiries are recorded (performance.now() at each call) in `fired`. */
function probe(periodMs: number): { d: Deadline; fired: number[] } {
  const fired: number[] = [];
  const d = new Deadline(periodMs, () => fired.push(performance.now()));
  return { d, fired };
}

async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await delay(5);
  }
}

describe('Deadline', () => {
  it('fires once, no earlier than the last set, when set again and again before it expires', async () => {
    const { d, fired } = probe(80);
    const start = performance.now();
    let last = start;
    // Moved forward every 10 ms for 300 ms: it must not fire in that time (only a stall of
    // the event loop longer than 200 ms could let it).
    while (performance.now() - start < 300) {
      d.set(200);
      last = performance.now();
      await delay(10);
    }
    assert.equal(fired.length, 0, 'fired while it kept being moved');
    await until(() => fired.length > 0, 2000);
    assert.ok(fired[0]! - last >= 199, `fired ${(fired[0]! - last).toFixed(1)} ms after the last set, expected >= 200`);
    await delay(100);
    assert.equal(fired.length, 1, 'fired more than once');
    assert.equal(d.armed, false);
    d.stop();
  });

  it('clear cancels, and a later set arms it again', async () => {
    const { d, fired } = probe(20);
    d.set(30);
    d.clear();
    await delay(80);
    assert.equal(fired.length, 0);
    d.set(30);
    await until(() => fired.length === 1, 1000);
    d.stop();
  });

  it('a deadline shorter than the pending check is not late', async () => {
    const { d, fired } = probe(10_000);
    d.set(10_000);
    const t = performance.now();
    d.set(40);
    await until(() => fired.length === 1, 2000);
    const took = fired[0]! - t;
    assert.ok(took >= 39 && took < 1000, `fired after ${took.toFixed(1)} ms, expected ~40`);
    d.stop();
  });

  it('stop cancels for good', async () => {
    const { d, fired } = probe(20);
    d.set(30);
    d.stop();
    await delay(80);
    assert.equal(fired.length, 0);
  });
});
