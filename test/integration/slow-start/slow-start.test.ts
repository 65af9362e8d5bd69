/**
 * Slow start over real sockets (SPEC §4): a target registered into a serving group and passing
 * its health check gets a small share of the traffic at first, growing over slowStartSeconds;
 * without slow start it gets its full share at once.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SLOW_START_MIN_FRACTION } from '../../../src/targets/balancers/slow-start.js';
import { startHttpTarget, startSwitchyard, listener, request, waitFor, type HttpTarget, type Running, type Echo } from '../harness/index.js';

const FAST_CHECKS = { enabled: true, path: '/health', intervalSeconds: 0.1, timeoutSeconds: 0.1, healthyThreshold: 1, unhealthyThreshold: 1 };

describe('slow start', () => {
  let a: HttpTarget, b: HttpTarget, c: HttpTarget, d: HttpTarget;
  let lb: Running;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    c = await startHttpTarget('c');
    d = await startHttpTarget('d');
    lb = await startSwitchyard(
      {
        admin: {},
        listeners: [
          listener('ramp', { forward: { targetGroup: 'ramp' } }),
          listener('flat', { forward: { targetGroup: 'flat' } }),
        ],
        targetGroups: [
          { name: 'ramp', slowStartSeconds: 10, targets: [{ host: '127.0.0.1', port: a.port }], healthCheck: FAST_CHECKS },
          { name: 'flat', slowStartSeconds: 0, targets: [{ host: '127.0.0.1', port: c.port }], healthCheck: FAST_CHECKS },
        ],
      },
      { admin: true },
    );
    for (const name of ['ramp', 'flat']) {
      const g = lb.sy.groups.get(name)!;
      await waitFor(() => [...g.targets.values()].every((t) => t.state === 'healthy'), 5000, `${name} healthy`);
    }
  });

  after(async () => {
    agent.destroy();
    await lb?.close();
    await Promise.all([a, b, c, d].map((t) => t?.close()));
  });

  /** Registers `port` through the admin API and waits until its health check passes. */
  async function registerAndWaitHealthy(groupName: string, port: number): Promise<void> {
    const r = await request(lb.adminPort!, { method: 'POST', path: `/api/v1/target-groups/${groupName}/targets`, body: JSON.stringify({ host: '127.0.0.1', port }) });
    assert.equal(r.status, 201, r.text);
    const t = lb.sy.groups.get(groupName)!.targets.get(`127.0.0.1:${port}`)!;
    assert.equal(t.state, 'initial', 'a registered target waits for its check');
    await waitFor(() => t.state === 'healthy', 5000, 'new target healthy');
  }

  async function shareOf(listenerName: string, name: string, n: number): Promise<number> {
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const r = await request(lb.port(listenerName), { path: `/s${i}`, agent });
      assert.equal(r.status, 200);
      if (r.json<Echo>().name === name) hits++;
    }
    return hits / n;
  }

  it('a newly healthy target starts with a small share and its weight ramps up', async () => {
    await registerAndWaitHealthy('ramp', b.port);
    const t = lb.sy.groups.get('ramp')!.targets.get(`127.0.0.1:${b.port}`)!;
    assert.ok(t.weight < 0.3, `effective weight right after becoming healthy: ${t.weight}`);
    const early = await shareOf('ramp', 'b', 200);
    // Weight ≈ 0.1–0.2 against 1: a share of about 9–17 %.
    assert.ok(early > 0, 'the ramping target gets some traffic');
    assert.ok(early < 0.25, `early share ${early}`);
    // The ramp advances on its own timer (10 s period: +0.09 of the weight per second).
    const w0 = t.weight;
    await waitFor(() => t.weight >= w0 + 0.1, 4000, 'the weight to grow');
    assert.ok(t.weight < 1);
    assert.equal(t.configuredWeight, 1);
    assert.ok(w0 >= SLOW_START_MIN_FRACTION);
  });

  it('without slow start, a newly healthy target gets its full share at once', async () => {
    await registerAndWaitHealthy('flat', d.port);
    const share = await shareOf('flat', 'd', 200);
    assert.ok(share > 0.4 && share < 0.6, `share ${share}`);
  });
});
