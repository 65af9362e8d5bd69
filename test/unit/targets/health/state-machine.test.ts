import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HealthStateMachine } from '../../../../src/targets/health/state-machine.js';

const T = { healthyThreshold: 3, unhealthyThreshold: 2 };

function run(m: HealthStateMachine, outcomes: readonly boolean[]): (string | null)[] {
  const out: (string | null)[] = [];
  for (const ok of outcomes) out.push(m.record(ok));
  return out;
}

describe('HealthStateMachine', () => {
  it('starts initial and becomes healthy after healthyThreshold consecutive passes', () => {
    const m = new HealthStateMachine(T);
    assert.equal(m.verdict, 'initial');
    assert.deepEqual(run(m, [true, true]), [null, null]);
    assert.equal(m.verdict, 'initial');
    assert.equal(m.record(true), 'became-healthy');
    assert.equal(m.verdict, 'healthy');
  });

  it('a new target becomes unhealthy after unhealthyThreshold consecutive failures', () => {
    const m = new HealthStateMachine(T);
    assert.deepEqual(run(m, [false, false]), [null, 'became-unhealthy']);
    assert.equal(m.verdict, 'unhealthy');
  });

  it('needs consecutive results: an interleaved outcome resets the other counter', () => {
    const m = new HealthStateMachine(T);
    assert.deepEqual(run(m, [true, true, false, true, true]), [null, null, null, null, null]);
    assert.equal(m.verdict, 'initial');
    assert.equal(m.record(true), 'became-healthy');
    assert.deepEqual(run(m, [false, true, false, true]), [null, null, null, null]);
    assert.equal(m.verdict, 'healthy');
  });

  it('reports each flip exactly once', () => {
    const m = new HealthStateMachine({ healthyThreshold: 1, unhealthyThreshold: 1 });
    assert.deepEqual(run(m, [true, true, false, false, true]), ['became-healthy', null, 'became-unhealthy', null, 'became-healthy']);
  });

  it('healthy → unhealthy → healthy with the configured thresholds', () => {
    const m = new HealthStateMachine(T, 'healthy');
    assert.deepEqual(run(m, [false, false]), [null, 'became-unhealthy']);
    assert.deepEqual(run(m, [true, true, true]), [null, null, 'became-healthy']);
  });

  it('counters saturate at the threshold and are exposed', () => {
    const m = new HealthStateMachine(T);
    run(m, [false, false, false, false, false]);
    assert.equal(m.failures, 2);
    assert.equal(m.successes, 0);
    m.record(true);
    assert.equal(m.successes, 1);
    assert.equal(m.failures, 0);
  });

  it('setThresholds applies from the next record and keeps the counters', () => {
    const m = new HealthStateMachine(T);
    run(m, [true, true]);
    m.setThresholds({ healthyThreshold: 2, unhealthyThreshold: 5 });
    assert.equal(m.record(true), 'became-healthy');
    assert.deepEqual(run(m, [false, false, false, false]), [null, null, null, null]);
    assert.equal(m.record(false), 'became-unhealthy');
  });

  it('resumes from a known verdict', () => {
    const m = new HealthStateMachine(T, 'unhealthy');
    assert.equal(m.record(false), null);
    assert.equal(m.verdict, 'unhealthy');
  });
});
