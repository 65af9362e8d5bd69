import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatsSampler, type StatsSource } from '../../../src/admin/dashboard/stats.js';
import { Metrics } from '../../../src/observability/metrics.js';
import type { ClientRequest } from '../../../src/listener/client-request.js';
import type { TargetGroupRuntime } from '../../../src/targets/target-group.js';

const ok = { status: 200, error: '', rulePriority: 1, targetGroup: 'g', responseHeadMs: 1, listener: { name: 'web' } } as unknown as ClientRequest;
const lbError = { status: 502, error: 'SY_ERR_TARGET_RESET', rulePriority: 1, targetGroup: 'g', responseHeadMs: 0, listener: { name: 'web' } } as unknown as ClientRequest;
const g = { name: 'g' } as unknown as TargetGroupRuntime;

function source(metrics: Metrics): StatsSource {
  const targets = new Map([
    ['127.0.0.1:1', { id: '127.0.0.1:1', state: 'healthy', reason: 'ok', configuredWeight: 2, weight: 0.5, inFlight: 3 }],
    ['127.0.0.1:2', { id: '127.0.0.1:2', state: 'unhealthy', reason: 'health check: timeout', configuredWeight: 1, weight: 1, inFlight: 0 }],
  ]);
  return {
    metrics,
    generation: 7,
    listeners: new Map([['web', { name: 'web', port: 8080, listener: { protocol: 'HTTP', host: '127.0.0.1' } }]]),
    groups: new Map([['g', { name: 'g', spec: { algorithm: 'round_robin' }, failOpen: false, targets }]]),
  } as unknown as StatsSource;
}

describe('StatsSampler', () => {
  it('rates and percentiles cover the window; totals cover everything', () => {
    const m = new Metrics(() => []);
    let now = 0;
    const s = new StatsSampler(source(m), { windowMs: 5000, now: () => now });
    // Before the window: 100 requests, slow.
    for (let i = 0; i < 100; i++) {
      m.onRequestDone('web', ok);
      m.onTargetResponse(ok, g, 0.9);
    }
    s.sample();
    // One sample per second; 50 fast requests and 10 lb errors per second.
    for (let sec = 1; sec <= 10; sec++) {
      now = sec * 1000;
      for (let i = 0; i < 50; i++) {
        m.onRequestDone('web', ok);
        m.onTargetResponse(ok, g, 0.002);
      }
      for (let i = 0; i < 10; i++) m.onRequestDone('web', lbError);
      s.sample();
    }
    now = 10_000;
    const r = s.report();
    assert.equal(r.generation, 7);
    assert.equal(r.windowSeconds, 5);
    const w = r.listeners[0]!;
    assert.equal(w.requestsPerSecond, 60);
    assert.equal(w.statusClassesPerSecond['2xx'], 50);
    assert.equal(w.statusClassesPerSecond['5xx'], 10);
    assert.equal(w.requests, 100 + 10 * 60);
    assert.equal(w.statusClasses['5xx'], 100);
    assert.equal(w.lbErrors, 100);
    // Only the fast responses are in the window.
    assert.equal(w.latencySeconds.count, 250);
    assert.ok(w.latencySeconds.p99! <= 0.0025, JSON.stringify(w.latencySeconds));
    assert.deepEqual(r.targetGroups[0], {
      name: 'g',
      algorithm: 'round_robin',
      failOpen: false,
      healthy: 1,
      unhealthy: 1,
      targets: [
        { id: '127.0.0.1:1', state: 'healthy', reason: 'ok', weight: 2, effectiveWeight: 0.5, inFlight: 3 },
        { id: '127.0.0.1:2', state: 'unhealthy', reason: 'health check: timeout', weight: 1, effectiveWeight: 1, inFlight: 0 },
      ],
    });
  });

  it('with no traffic: zero rates and null percentiles', () => {
    const m = new Metrics(() => []);
    let now = 0;
    const s = new StatsSampler(source(m), { now: () => now });
    s.sample();
    now = 1000;
    const w = s.report().listeners[0]!;
    assert.equal(w.requestsPerSecond, 0);
    assert.deepEqual(w.latencySeconds, { p50: null, p90: null, p99: null, count: 0 });
  });
});
