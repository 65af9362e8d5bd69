/**
 * target-sync: the primary's target state (health flags, membership) copied into a worker's
 * target groups, which never run checks of their own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { withDefaults, type ResolvedTargetGroup } from '../../../src/config/defaults.js';
import { TargetGroupRuntime } from '../../../src/targets/target-group.js';
import { applyHealth, healthOf, reconcileGroup, snapshotGroups } from '../../../src/control/target-sync.js';

function spec(ports: number[]): ResolvedTargetGroup {
  return withDefaults({
    listeners: [{ name: 'web', protocol: 'HTTP', port: 1, defaultAction: { forward: { targetGroup: 'g' } } }],
    targetGroups: [{ name: 'g', targets: ports.map((port) => ({ host: '127.0.0.1', port })) }],
  }).targetGroups[0]!;
}

describe('target-sync', () => {
  it('a worker group (checks off) stays initial until the primary says otherwise, then follows it', () => {
    const primary = new TargetGroupRuntime(spec([9001, 9002]), { healthChecks: false });
    const worker = new TargetGroupRuntime(spec([9001, 9002]), { healthChecks: false });
    try {
      const p1 = primary.targets.get('127.0.0.1:9001')!;
      const now = performance.now() + 60_000; // a clock value well after this process started
      p1.activeHealthy = true;
      p1.healthySinceMs = now - 5000;
      p1.reason = 'health check passed';
      const w1 = worker.targets.get('127.0.0.1:9001')!;
      assert.equal(w1.state, 'initial');
      assert.equal(applyHealth(w1, healthOf(p1, now), now), true);
      assert.equal(w1.state, 'healthy');
      assert.equal(w1.reason, 'health check passed');
      assert.ok(Math.abs(now - w1.healthySinceMs - 5000) < 1, 'slow start measures from the primary’s moment, in this clock');
      const since = w1.healthySinceMs;
      assert.equal(applyHealth(w1, healthOf(p1, now + 100), now + 100), false, 'nothing changed');
      assert.equal(w1.healthySinceMs, since, 'one healthy period, one start');

      p1.passiveEjected = true;
      assert.equal(applyHealth(w1, healthOf(p1, now), now), true);
      assert.equal(w1.state, 'unhealthy');
    } finally {
      primary.close();
      worker.close();
    }
  });

  it('reconcile: admin registrations are added, targets the primary drains or dropped are drained, weights follow', () => {
    const primary = new TargetGroupRuntime(spec([9001, 9002]), { healthChecks: false });
    const worker = new TargetGroupRuntime(spec([9001, 9002, 9003]), { healthChecks: false });
    try {
      primary.register('127.0.0.1', 9004, 3);
      primary.targets.get('127.0.0.1:9002')!.inFlight = 1;
      primary.deregister('127.0.0.1:9002');
      primary.targets.get('127.0.0.1:9001')!.configuredWeight = 5;
      // The worker has a request in flight to 9003, which the primary no longer lists.
      worker.targets.get('127.0.0.1:9003')!.inFlight = 1;
      const [snap] = snapshotGroups([primary], performance.now());
      reconcileGroup(worker, snap!, performance.now());
      // 9002 had nothing in flight in this worker: drained and gone at once.
      assert.deepEqual([...worker.targets.keys()].sort(), ['127.0.0.1:9001', '127.0.0.1:9003', '127.0.0.1:9004']);
      assert.equal(worker.targets.get('127.0.0.1:9004')!.configuredWeight, 3);
      assert.equal(worker.targets.get('127.0.0.1:9001')!.configuredWeight, 5);
      assert.equal(worker.targets.get('127.0.0.1:9003')!.state, 'draining', 'its own in-flight request finishes');
      const usable = worker.usableTargets.map((t) => t.id).sort();
      assert.deepEqual(usable, ['127.0.0.1:9001', '127.0.0.1:9004'], 'fail open over the registered, non-draining targets');
    } finally {
      primary.close();
      worker.close();
    }
  });
});
