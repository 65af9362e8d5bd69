import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Metrics,
  RESPONSE_TIME_BUCKETS,
  codeClassIndex,
  combineHooks,
  histogramQuantile,
} from '../../../src/observability/metrics.js';
import type { ClientRequest } from '../../../src/listener/client-request.js';
import type { TargetGroupRuntime } from '../../../src/targets/target-group.js';
import { ProxyErrors } from '../../../src/proxy/errors.js';

function req(o: Partial<Pick<ClientRequest, 'status' | 'error' | 'rulePriority' | 'targetGroup' | 'responseHeadMs'>> & { listener?: string }): ClientRequest {
  return {
    status: o.status ?? 200,
    error: o.error ?? '',
    rulePriority: o.rulePriority ?? 0,
    targetGroup: o.targetGroup ?? '',
    responseHeadMs: o.responseHeadMs ?? 0,
    listener: { name: o.listener ?? 'web' },
  } as unknown as ClientRequest;
}

const group = (name: string): TargetGroupRuntime => ({ name }) as unknown as TargetGroupRuntime;

/** `name{labels} value` lines of the exposition, as a map from the series text to its value. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('Metrics', () => {
  it('codeClassIndex maps statuses to 1xx–5xx, and anything else to none', () => {
    assert.deepEqual([101, 200, 299, 301, 404, 463, 502, 599].map(codeClassIndex), [0, 1, 1, 2, 3, 3, 4, 4]);
    assert.equal(codeClassIndex(0), 5);
    assert.equal(codeClassIndex(600), 5);
  });

  it('counts requests by listener, rule, target group, class and source (lb vs target)', async () => {
    const m = new Metrics(() => []);
    // A target's 200 and 500 through rule 10.
    m.onRequestDone('web', req({ status: 200, rulePriority: 10, targetGroup: 'api', responseHeadMs: 5 }));
    m.onRequestDone('web', req({ status: 200, rulePriority: 10, targetGroup: 'api', responseHeadMs: 5 }));
    m.onRequestDone('web', req({ status: 500, rulePriority: 10, targetGroup: 'api', responseHeadMs: 5 }));
    // Switchyard's 502 for the same route; a fixed response of the default action.
    m.onRequestDone('web', req({ status: 502, rulePriority: 10, targetGroup: 'api', error: 'SY_ERR_TARGET_CONNECT_REFUSED' }));
    m.onRequestDone('web', req({ status: 404, rulePriority: 0 }));
    // Refused before routing (no rule, no group), and a parse error with no request at all.
    m.onRequestDone('web', req({ status: 400, error: 'SY_ERR_CLIENT_BAD_PATH' }));
    m.onLocalError('web', ProxyErrors.BAD_REQUEST);
    // A target response cut mid-body keeps the target's status and source.
    m.onRequestDone('admin', req({ status: 200, rulePriority: 3, targetGroup: 'api', responseHeadMs: 9, error: 'SY_ERR_TARGET_RESET', listener: 'admin' }));
    // The client left before any response.
    m.onRequestDone('web', req({ status: 0, rulePriority: 10, targetGroup: 'api', error: 'SY_ERR_CLIENT_CLOSED' }));

    const s = series(await m.render());
    const c = (l: string, rule: string, g: string, cls: string, src: string): number | undefined =>
      s.get(`switchyard_requests_total{listener="${l}",rule="${rule}",target_group="${g}",code_class="${cls}",source="${src}"}`);
    assert.equal(c('web', '10', 'api', '2xx', 'target'), 2);
    assert.equal(c('web', '10', 'api', '5xx', 'target'), 1);
    assert.equal(c('web', '10', 'api', '5xx', 'lb'), 1);
    assert.equal(c('web', 'default', '', '4xx', 'lb'), 1);
    assert.equal(c('web', '', '', '4xx', 'lb'), 2);
    assert.equal(c('admin', '3', 'api', '2xx', 'target'), 1);
    assert.equal(c('web', '10', 'api', 'none', 'lb'), 1);
    const total = [...s].filter(([k]) => k.startsWith('switchyard_requests_total')).reduce((n, [, v]) => n + v, 0);
    assert.equal(total, 9);
  });

  it('a second scrape reports the same totals, and increments after it add up', async () => {
    const m = new Metrics(() => []);
    const r = req({ status: 200, rulePriority: 1, targetGroup: 'g', responseHeadMs: 1 });
    m.onRequestDone('web', r);
    const key = 'switchyard_requests_total{listener="web",rule="1",target_group="g",code_class="2xx",source="target"}';
    assert.equal(series(await m.render()).get(key), 1);
    assert.equal(series(await m.render()).get(key), 1);
    for (let i = 0; i < 5; i++) m.onRequestDone('web', r);
    assert.equal(series(await m.render()).get(key), 6);
  });

  it('the response-time histogram has cumulative buckets, +Inf = count, and a sum', async () => {
    const m = new Metrics(() => []);
    const r = req({ rulePriority: 1, targetGroup: 'g' });
    for (const s of [0.0001, 0.003, 0.003, 0.2, 100]) m.onTargetResponse(r, group('g'), s);
    const s = series(await m.render());
    const b = (le: string): number | undefined => s.get(`switchyard_target_response_seconds_bucket{listener="web",target_group="g",le="${le}"}`);
    assert.equal(b('0.0005'), 1);
    assert.equal(b('0.0025'), 1);
    assert.equal(b('0.005'), 3);
    assert.equal(b('0.25'), 4);
    assert.equal(b('60'), 4);
    assert.equal(b('+Inf'), 5);
    assert.equal(s.get('switchyard_target_response_seconds_count{listener="web",target_group="g"}'), 5);
    assert.ok(Math.abs(s.get('switchyard_target_response_seconds_sum{listener="web",target_group="g"}')! - 100.2061) < 1e-9);
  });

  it('connections: active goes up and down, new only up', async () => {
    const m = new Metrics(() => []);
    m.onConnection('web', 1);
    m.onConnection('web', 1);
    m.onConnection('web', -1);
    m.onConnection('web', 1);
    const s = series(await m.render());
    assert.equal(s.get('switchyard_active_connections{listener="web"}'), 2);
    assert.equal(s.get('switchyard_new_connections_total{listener="web"}'), 3);
  });

  it('healthy and unhealthy targets are read from the groups at scrape time; a removed group disappears', async () => {
    const t = (state: string): { state: string } => ({ state });
    let groups = [
      { name: 'a', targets: new Map([['1', t('healthy')], ['2', t('unhealthy')], ['3', t('initial')], ['4', t('healthy')]]) },
      { name: 'b', targets: new Map([['1', t('draining')]]) },
    ];
    const m = new Metrics(() => groups as unknown as TargetGroupRuntime[]);
    let s = series(await m.render());
    assert.equal(s.get('switchyard_healthy_targets{target_group="a"}'), 2);
    assert.equal(s.get('switchyard_unhealthy_targets{target_group="a"}'), 1);
    assert.equal(s.get('switchyard_healthy_targets{target_group="b"}'), 0);
    groups = [groups[0]!];
    s = series(await m.render());
    assert.equal(s.get('switchyard_healthy_targets{target_group="b"}'), undefined);
  });

  it('reloads by result, both present from the start', async () => {
    const m = new Metrics(() => []);
    let s = series(await m.render());
    assert.equal(s.get('switchyard_reloads_total{result="ok"}'), 0);
    assert.equal(s.get('switchyard_reloads_total{result="rejected"}'), 0);
    m.countReload(true);
    m.countReload(true);
    m.countReload(false);
    s = series(await m.render());
    assert.equal(s.get('switchyard_reloads_total{result="ok"}'), 2);
    assert.equal(s.get('switchyard_reloads_total{result="rejected"}'), 1);
  });

  it('snapshot() totals per listener for the dashboard', () => {
    const m = new Metrics(() => []);
    m.onRequestDone('web', req({ status: 200, rulePriority: 1, targetGroup: 'g', responseHeadMs: 1 }));
    m.onRequestDone('web', req({ status: 503, rulePriority: 1, targetGroup: 'g', error: 'SY_ERR_GROUP_NO_TARGETS' }));
    m.onRequestDone('web', req({ status: 500, rulePriority: 1, targetGroup: 'g', responseHeadMs: 1 }));
    m.onRequestDone('web', req({ status: 302, rulePriority: 2 }));
    m.onTargetResponse(req({}), group('g'), 0.01);
    m.onConnection('web', 1);
    const [w] = m.snapshot();
    assert.equal(w!.name, 'web');
    assert.equal(w!.requests, 4);
    assert.deepEqual(w!.byClass, [0, 1, 1, 0, 2, 0]);
    assert.equal(w!.lbErrors, 1, 'a redirect is generated but not an error; a target 500 is not the LB');
    assert.equal(w!.activeConnections, 1);
    assert.equal(w!.latencyCount, 1);
  });

  it('combineHooks calls both', () => {
    const calls: string[] = [];
    const h = combineHooks({ onConnection: () => calls.push('a') }, { onConnection: () => calls.push('b') });
    h.onConnection!('web', 1);
    assert.deepEqual(calls, ['a', 'b']);
  });
});

describe('histogramQuantile', () => {
  const bounds = [1, 2, 4];
  it('interpolates inside the bucket like Prometheus', () => {
    // 10 in (0,1], 10 in (1,2], 0 in (2,4], 0 above.
    assert.equal(histogramQuantile(0.5, bounds, [10, 10, 0, 0]), 1);
    assert.equal(histogramQuantile(0.25, bounds, [10, 10, 0, 0]), 0.5);
    assert.equal(histogramQuantile(0.75, bounds, [10, 10, 0, 0]), 1.5);
    assert.equal(histogramQuantile(1, bounds, [10, 10, 0, 0]), 2);
  });
  it('null without observations; the highest bound for the +Inf bucket', () => {
    assert.equal(histogramQuantile(0.5, bounds, [0, 0, 0, 0]), null);
    assert.equal(histogramQuantile(0.99, bounds, [1, 0, 0, 99]), 4);
  });
  it('works on the real buckets', () => {
    const counts = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
    counts[RESPONSE_TIME_BUCKETS.indexOf(0.01)] = 100;
    const p = histogramQuantile(0.5, RESPONSE_TIME_BUCKETS, counts)!;
    assert.ok(p > 0.005 && p <= 0.01, String(p));
  });
});
