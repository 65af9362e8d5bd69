import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SLOW_START_MIN_FRACTION as MIN,
  SlowStart,
  slowStartFraction,
  type SlowStartTarget,
} from '../../../../src/targets/balancers/slow-start.js';
import { RoundRobinBalancer } from '../../../../src/targets/balancers/round-robin.js';
import { seededRandom } from '../../../../src/util/random.js';

function target(id: string, configuredWeight: number, healthySinceMs: number): SlowStartTarget & { inFlight: number } {
  return { id, configuredWeight, weight: configuredWeight, healthySinceMs, inFlight: 0 };
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

describe('slowStartFraction', () => {
  it('ramps linearly from the minimum fraction to 1 over the period', () => {
    assert.equal(slowStartFraction(0, 10_000), MIN);
    assert.ok(close(slowStartFraction(5_000, 10_000), MIN + (1 - MIN) * 0.5));
    assert.ok(close(slowStartFraction(2_500, 10_000), MIN + (1 - MIN) * 0.25));
    assert.equal(slowStartFraction(10_000, 10_000), 1);
    assert.equal(slowStartFraction(99_000, 10_000), 1);
    // Strictly increasing, with equal steps.
    let last = 0;
    for (let ms = 0; ms <= 10_000; ms += 1000) {
      const f = slowStartFraction(ms, 10_000);
      assert.ok(f > last, `${ms}`);
      if (ms > 0 && ms < 10_000) assert.ok(close(f - last, (1 - MIN) / 10), `step at ${ms}`);
      last = f;
    }
  });

  it('is 1 when slow start is off, and the minimum for a clock that went backwards', () => {
    assert.equal(slowStartFraction(0, 0), 1);
    assert.equal(slowStartFraction(-5, 1000), MIN);
    assert.equal(slowStartFraction(Number.NaN, 1000), MIN);
  });
});

describe('SlowStart', () => {
  it('a target that becomes healthy beside a settled one ramps from the minimum to its full weight', () => {
    const s = new SlowStart(10);
    const a = target('a', 2, 1);
    assert.equal(s.apply([a], 1000), false, 'alone: nothing ramps');
    assert.equal(a.weight, 2);
    const b = target('b', 4, 50_000);
    assert.equal(s.apply([a, b], 50_000), true);
    assert.ok(close(b.weight, 4 * MIN));
    assert.equal(a.weight, 2);
    s.apply([a, b], 55_000);
    assert.ok(close(b.weight, 4 * (MIN + (1 - MIN) * 0.5)));
    assert.equal(s.apply([a, b], 60_000), false, 'the ramp ends after the period');
    assert.equal(b.weight, 4);
  });

  it('a group coming up from nothing does not ramp (no settled healthy target)', () => {
    const s = new SlowStart(10);
    const a = target('a', 1, 100);
    const b = target('b', 1, 100);
    assert.equal(s.apply([a, b], 100), false);
    assert.equal(a.weight, 1);
    assert.equal(b.weight, 1);
  });

  it('exempt targets (present when the group started) do not ramp on their first healthy verdict, but do after recovering', () => {
    const s = new SlowStart(10);
    s.exempt('a');
    s.exempt('b');
    const a = target('a', 1, 0);
    assert.equal(s.apply([a], 0), false);
    const b = target('b', 1, 2000);
    assert.equal(s.apply([a, b], 2000), false, 'b is exempt the first time');
    assert.equal(b.weight, 1);
    // b fails and recovers: a new healthy period, which ramps.
    s.apply([a], 3000);
    const b2 = { ...b, healthySinceMs: 9000 };
    assert.equal(s.apply([a, b2], 9000), true);
    assert.ok(close(b2.weight, MIN));
  });

  it('a target that stops being healthy leaves its ramp; coming back starts a new one', () => {
    const s = new SlowStart(10);
    const a = target('a', 1, 1);
    s.apply([a], 1);
    const b = target('b', 1, 1000);
    s.apply([a, b], 1000);
    s.apply([a, b], 6000);
    assert.ok(b.weight > 0.5);
    assert.equal(s.apply([a], 7000), false, 'b unhealthy: no ramp left');
    const back = { ...b, healthySinceMs: 8000 };
    s.apply([a, back], 8000);
    assert.ok(close(back.weight, MIN), 'a new healthy period starts from the minimum');
  });

  it('targets already healthy when slow start is turned on by a reload do not ramp', () => {
    const s = new SlowStart(0);
    const a = target('a', 1, 1);
    const b = target('b', 1, 500);
    s.apply([a], 1);
    assert.equal(s.apply([a, b], 500), false, 'off: no ramp');
    s.setDuration(30);
    assert.equal(s.apply([a, b], 600), false);
    assert.equal(b.weight, 1);
  });

  it('forget() drops a target, so its return is judged afresh', () => {
    const s = new SlowStart(10);
    const a = target('a', 1, 1);
    s.apply([a], 1);
    const b = target('b', 1, 100);
    s.apply([a, b], 100);
    s.forget('b');
    const again = target('b', 1, 100);
    assert.equal(s.apply([a, again], 200), true, 'judged again; still inside its period');
  });

  it('through a balancer: the ramping target gets a share that grows with its weight', () => {
    const s = new SlowStart(10);
    const a = target('a', 1, 1);
    s.apply([a], 1);
    const b = target('b', 1, 10_000);
    const share = (now: number): number => {
      s.apply([a, b], now);
      const rr = new RoundRobinBalancer<typeof a>({ random: seededRandom(1) });
      rr.refresh([a, b]);
      let nb = 0;
      for (let i = 0; i < 1000; i++) if (rr.pick({ hashKey: '' }, null) === b) nb++;
      return nb / 1000;
    };
    const early = share(10_000);
    const mid = share(15_000);
    const done = share(20_000);
    assert.ok(Math.abs(early - MIN / (1 + MIN)) < 0.02, `early share ${early}`);
    assert.ok(mid > early + 0.2 && mid < 0.5, `mid share ${mid}`);
    assert.ok(Math.abs(done - 0.5) < 0.01, `final share ${done}`);
  });
});
