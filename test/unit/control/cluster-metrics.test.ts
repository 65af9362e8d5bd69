/**
 * ClusterMetrics: the primary's /metrics and dashboard totals are the sum of its workers',
 * plus its own reloads and health gauges; an exited worker's counters stay in the sum (so
 * counters never go down) and its gauges leave it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../../../src/observability/metrics.js';
import { ProxyErrors } from '../../../src/proxy/errors.js';
import { ClusterMetrics, listenerTotalsOf } from '../../../src/control/cluster-metrics.js';
import type { CollectedMessage } from '../../../src/control/messages.js';

async function collected(m: Metrics): Promise<CollectedMessage> {
  return { type: 'collected', id: 1, metrics: await m.registry.getMetricsAsJSON(), listeners: m.snapshot().map(listenerTotalsOf), inFlight: [], connections: [] };
}

function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? NaN : Number(found.slice(line.length + 1));
}

describe('ClusterMetrics', () => {
  it('sums the workers’ counters and gauges, keeps the primary’s own metrics, and keeps a retired worker’s counters', async () => {
    const primary = new Metrics(() => []);
    const w1 = new Metrics(() => []);
    const w2 = new Metrics(() => []);
    const cm = new ClusterMetrics();
    primary.remote = cm;
    primary.countReload(true);
    w1.countReload(false); // a worker's own reload counter is not the primary's
    for (let i = 0; i < 3; i++) w1.onLocalError('web', ProxyErrors.BAD_REQUEST);
    w2.onLocalError('web', ProxyErrors.BAD_REQUEST);
    w1.onConnection('web', 1);
    w2.onConnection('web', 1);
    w2.onConnection('web', 1);
    cm.update(1, await collected(w1));
    cm.update(2, await collected(w2));

    const requests = 'switchyard_requests_total{listener="web",rule="",target_group="",code_class="4xx",source="lb"}';
    let text = await primary.render();
    assert.equal(sample(text, requests), 4, text);
    assert.equal(sample(text, 'switchyard_active_connections{listener="web"}'), 3);
    assert.equal(sample(text, 'switchyard_new_connections_total{listener="web"}'), 3);
    assert.equal(sample(text, 'switchyard_reloads_total{result="ok"}'), 1);
    assert.equal(sample(text, 'switchyard_reloads_total{result="rejected"}'), 0, 'workers’ reload counters are dropped');
    assert.equal(primary.snapshot().find((l) => l.name === 'web')!.requests, 4, 'the dashboard sees the sum');
    assert.equal(cm.requestsOf(1), 3);

    cm.retire(1);
    w2.onLocalError('web', ProxyErrors.BAD_REQUEST);
    cm.update(2, await collected(w2));
    text = await primary.render();
    assert.equal(sample(text, requests), 5, 'worker 1’s three requests are kept');
    assert.equal(sample(text, 'switchyard_active_connections{listener="web"}'), 2, 'worker 1’s open connections are not');
    assert.equal(sample(text, 'switchyard_new_connections_total{listener="web"}'), 3);
    const snap = primary.snapshot().find((l) => l.name === 'web')!;
    assert.equal(snap.requests, 5);
    assert.equal(snap.activeConnections, 2);
  });
});
