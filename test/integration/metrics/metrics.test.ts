/**
 * GET /metrics over real sockets (SPEC §6): request counts by listener, rule, target group,
 * status class and source (lb vs target), the target response-time histogram, connections,
 * healthy/unhealthy targets (one target failing its checks), reloads by result, and the token.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../../src/config/types.js';
import {
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  request,
  rawOnce,
  refusedPort,
  waitFor,
  RawClient,
  type Handler,
  type HttpTarget,
  type Running,
} from '../harness/index.js';

const TOKEN = 'metrics-token';
const CHECKS = { enabled: true, path: '/health', intervalSeconds: 0.2, timeoutSeconds: 0.2, healthyThreshold: 1, unhealthyThreshold: 1 };
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** Series of a Prometheus text exposition: `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const requests = (rule: string, targetGroup: string, codeClass: string, source: string): string =>
  `switchyard_requests_total{listener="web",rule="${rule}",target_group="${targetGroup}",code_class="${codeClass}",source="${source}"}`;

describe('GET /metrics', () => {
  let a: HttpTarget;
  let b: HttpTarget;
  let c: HttpTarget;
  /** What c's /health answers; c starts healthy and later starts failing. */
  let cHealth = 200;
  let lb: Running;
  let config: Config;

  const scrape = async (): Promise<Map<string, number>> => {
    const r = await request(lb.adminPort!, { path: '/metrics', headers: AUTH });
    assert.equal(r.status, 200, r.text);
    return parseExposition(r.text);
  };

  before(async () => {
    const handler = (name: string, healthStatus: () => number): Handler => (req, res) => {
      const status = req.url === '/health' ? healthStatus() : req.url === '/err' ? 500 : 200;
      res.writeHead(status, { 'content-type': 'text/plain', 'x-target': name });
      res.end(name);
    };
    a = await startHttpTarget('a', { handler: handler('a', () => 200) });
    b = await startHttpTarget('b', { handler: handler('b', () => 500) });
    c = await startHttpTarget('c', { handler: handler('c', () => cHealth) });
    const dead = await refusedPort();
    config = {
      admin: { token: TOKEN },
      listeners: [
        listener('web', { forward: { targetGroup: 'g' } }, [
          { priority: 10, match: { path: ['/dead/*'] }, forward: { targetGroup: 'dead' } },
          { priority: 20, match: { path: ['/fixed'] }, fixedResponse: { statusCode: 418, body: 'teapot' } },
        ]),
      ],
      targetGroups: [
        {
          name: 'g',
          targets: [
            { host: '127.0.0.1', port: a.port },
            { host: '127.0.0.1', port: b.port },
          ],
          healthCheck: CHECKS,
        },
        group('dead', [dead]),
        { name: 'h', targets: [{ host: '127.0.0.1', port: c.port }], healthCheck: CHECKS },
      ],
    };
    lb = await startSwitchyard(config, { admin: true });
    await waitFor(
      () => ['g', 'h'].every((name) => [...lb.sy.groups.get(name)!.targets.values()].every((t) => t.state !== 'initial')),
      5000,
      'first health verdicts',
    );
  });

  after(async () => {
    await lb?.close();
    await a?.close();
    await b?.close();
    await c?.close();
  });

  it('needs the token; answers Prometheus text', async () => {
    assert.equal((await request(lb.adminPort!, { path: '/metrics' })).status, 401);
    assert.equal((await request(lb.adminPort!, { path: '/metrics', headers: { authorization: 'Bearer wrong' } })).status, 401);
    const r = await request(lb.adminPort!, { path: '/metrics', headers: AUTH });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    for (const name of [
      'switchyard_requests_total',
      'switchyard_target_response_seconds',
      'switchyard_active_connections',
      'switchyard_new_connections_total',
      'switchyard_healthy_targets',
      'switchyard_unhealthy_targets',
      'switchyard_reloads_total',
    ]) {
      assert.match(r.text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
  });

  it('counts requests by rule, target group, class and source, and the response-time histogram', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(lb.port(), { path: '/ok' })).text, 'a');
    assert.equal((await request(lb.port(), { path: '/err' })).status, 500);
    assert.equal((await request(lb.port(), { path: '/fixed' })).status, 418);
    assert.equal((await request(lb.port(), { path: '/dead/x' })).status, 502);
    assert.equal((await request(lb.port(), { path: '/%2Fetc' })).status, 400);
    const { response } = await rawOnce(lb.port(), 'GARBAGE\r\n\r\n');
    assert.equal(response.status, 400);

    const s = await waitFor(async () => {
      const m = await scrape();
      return m.get(requests('', '', '4xx', 'lb')) === 2 ? m : null;
    }, 3000, 'the counts');
    assert.equal(s.get(requests('default', 'g', '2xx', 'target')), 3);
    assert.equal(s.get(requests('default', 'g', '5xx', 'target')), 1, "a target's own 500 is the target's");
    assert.equal(s.get(requests('default', 'g', '5xx', 'lb')), undefined);
    assert.equal(s.get(requests('20', '', '4xx', 'lb')), 1, 'a fixed response is generated by the load balancer');
    assert.equal(s.get(requests('10', 'dead', '5xx', 'lb')), 1, 'a refused target is a 502 of the load balancer');
    assert.equal(s.get(requests('', '', '4xx', 'lb')), 2, 'a refused path and a malformed request, before routing');
    let total = 0;
    for (const [k, v] of s) if (k.startsWith('switchyard_requests_total{')) total += v;
    assert.equal(total, 8);

    const h = (suffix: string, le?: string): number | undefined =>
      s.get(`switchyard_target_response_seconds${suffix}{listener="web",target_group="g"${le === undefined ? '' : `,le="${le}"`}}`);
    assert.equal(h('_count'), 4);
    assert.equal(h('_bucket', '+Inf'), 4);
    assert.ok(h('_sum')! > 0 && h('_sum')! < 4, String(h('_sum')));
    assert.ok(h('_bucket', '0.0005')! <= h('_bucket', '0.005')!, 'buckets are cumulative');
    assert.equal(s.get('switchyard_target_response_seconds_count{listener="web",target_group="dead"}'), undefined);
  });

  it('active and new connections by listener', async () => {
    const before = (await scrape()).get('switchyard_new_connections_total{listener="web"}') ?? 0;
    const c = await RawClient.connect(lb.port());
    try {
      c.write(`GET /ok HTTP/1.1\r\nHost: x\r\n\r\n`);
      await c.readResponse();
      const s = await scrape();
      assert.equal(s.get('switchyard_active_connections{listener="web"}'), 1, 'the held keep-alive connection');
      assert.equal(s.get('switchyard_new_connections_total{listener="web"}'), before + 1);
    } finally {
      c.destroy();
    }
    await waitFor(async () => (await scrape()).get('switchyard_active_connections{listener="web"}') === 0, 3000, 'connection closed');
  });

  it('healthy and unhealthy targets per group (b fails its checks; c starts failing)', async () => {
    const s = await scrape();
    assert.equal(s.get('switchyard_healthy_targets{target_group="g"}'), 1);
    assert.equal(s.get('switchyard_unhealthy_targets{target_group="g"}'), 1);
    assert.equal(s.get('switchyard_healthy_targets{target_group="dead"}'), 1, 'checks disabled: healthy');
    assert.equal(s.get('switchyard_healthy_targets{target_group="h"}'), 1);
    assert.equal(s.get('switchyard_unhealthy_targets{target_group="h"}'), 0);
    cHealth = 503;
    await waitFor(async () => {
      const m = await scrape();
      return m.get('switchyard_unhealthy_targets{target_group="h"}') === 1 && m.get('switchyard_healthy_targets{target_group="h"}') === 0;
    }, 3000, 'c counted unhealthy');
  });

  it('reloads by result', async () => {
    const before = await scrape();
    const ok = await request(lb.adminPort!, { method: 'PUT', path: '/api/v1/config', headers: AUTH, body: JSON.stringify(config) });
    assert.equal(ok.status, 200, ok.text);
    const bad = await request(lb.adminPort!, { method: 'PUT', path: '/api/v1/config', headers: AUTH, body: JSON.stringify({ listeners: 'no' }) });
    assert.equal(bad.status, 400);
    const syntax = await request(lb.adminPort!, { method: 'PUT', path: '/api/v1/config', headers: AUTH, body: 'listeners: [' });
    assert.equal(syntax.status, 400);
    const s = await scrape();
    assert.equal(s.get('switchyard_reloads_total{result="ok"}'), before.get('switchyard_reloads_total{result="ok"}')! + 1);
    assert.equal(s.get('switchyard_reloads_total{result="rejected"}'), before.get('switchyard_reloads_total{result="rejected"}')! + 2);
  });
});
