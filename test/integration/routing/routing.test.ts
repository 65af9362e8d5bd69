/**
 * Routing end to end (SPEC §3): each condition kind picks its target group, rules run in
 * priority order (not document order), the default action, fixed responses and redirects.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  request,
  rawOnce,
  header,
  type HttpTarget,
  type Running,
  type Echo,
} from '../harness/index.js';
import type { RuleConfig } from '../../../src/config/types.js';

const GROUPS = ['tg-host', 'tg-path', 'tg-method', 'tg-header', 'tg-query', 'tg-cookie', 'tg-src', 'tg-prio-a', 'tg-prio-b', 'tg-default'];

describe('routing', () => {
  const targets = new Map<string, HttpTarget>();
  let lb: Running;
  let port: number;

  before(async () => {
    for (const name of GROUPS) targets.set(name, await startHttpTarget(name));
    const fwd = (g: string): Pick<RuleConfig, 'forward'> => ({ forward: { targetGroup: g } });
    const rules: RuleConfig[] = [
      // Document order is deliberately not priority order.
      { priority: 100, match: { path: ['/prio/*'] }, ...fwd('tg-prio-a') },
      { priority: 80, match: { path: ['/prio/exact'] }, ...fwd('tg-prio-b') },
      { priority: 10, match: { host: ['api.example.com', '*.api.example.com'] }, ...fwd('tg-host') },
      { priority: 20, match: { path: ['/path/*'] }, ...fwd('tg-path') },
      { priority: 30, match: { method: ['DELETE'] }, ...fwd('tg-method') },
      { priority: 40, match: { header: { 'X-Env': ['canary', 'beta*'] } }, ...fwd('tg-header') },
      { priority: 50, match: { query: [{ key: 'version', value: 'v2' }] }, ...fwd('tg-query') },
      { priority: 60, match: { cookie: { tier: ['gold'] } }, ...fwd('tg-cookie') },
      { priority: 70, match: { path: ['/src'], sourceIp: ['10.0.0.0/8'] }, fixedResponse: { statusCode: 418, body: 'wrong source' } },
      { priority: 75, match: { path: ['/src'], sourceIp: ['127.0.0.0/8', '::1/128'] }, ...fwd('tg-src') },
      { priority: 90, match: { path: ['/maintenance'] }, fixedResponse: { statusCode: 503, contentType: 'text/html', body: '<p>back soon</p>' } },
      {
        priority: 95,
        match: { path: ['/old/*'] },
        redirect: { protocol: 'HTTPS', port: '8443', host: 'new.#{host}', path: '/new/#{path}', query: 'from=#{protocol}-#{port}&#{query}', statusCode: 301 },
      },
      { priority: 96, match: { path: ['/same/*'] }, redirect: { path: '/moved/#{path}', statusCode: 307 } },
      { priority: 97, match: { path: ['/nowhere'] }, fixedResponse: { statusCode: 404, contentType: 'text/plain', body: 'gone' } },
    ];
    lb = await startSwitchyard({
      listeners: [listener('web', { forward: { targetGroup: 'tg-default' } }, rules)],
      targetGroups: GROUPS.map((name) => group(name, [targets.get(name)!.port])),
    });
    port = lb.port();
  });

  after(async () => {
    await lb?.close();
    for (const t of targets.values()) await t.close();
  });

  async function routedTo(o: Parameters<typeof request>[1]): Promise<string> {
    const r = await request(port, o);
    assert.equal(r.status, 200, `unexpected status ${r.status}: ${r.text}`);
    const echo = r.json<Echo>();
    assert.equal(r.headers['x-target'], echo.name);
    return echo.name;
  }

  it('host condition (exact and wildcard, case-insensitive, port stripped)', async () => {
    assert.equal(await routedTo({ headers: { host: 'api.example.com' } }), 'tg-host');
    assert.equal(await routedTo({ headers: { host: 'API.Example.COM:8080' } }), 'tg-host');
    assert.equal(await routedTo({ headers: { host: 'eu.api.example.com' } }), 'tg-host');
    assert.equal(await routedTo({ headers: { host: 'example.com' } }), 'tg-default');
  });

  it('path condition', async () => {
    assert.equal(await routedTo({ path: '/path/a/b?x=1' }), 'tg-path');
    assert.equal(await routedTo({ path: '/Path/a' }), 'tg-default', 'path matching is case-sensitive');
  });

  it('method condition', async () => {
    assert.equal(await routedTo({ method: 'DELETE', path: '/m' }), 'tg-method');
    assert.equal(await routedTo({ method: 'GET', path: '/m' }), 'tg-default');
  });

  it('header condition (name and value case-insensitive, wildcard)', async () => {
    assert.equal(await routedTo({ headers: { 'x-env': 'CANARY' } }), 'tg-header');
    assert.equal(await routedTo({ headers: { 'X-Env': 'beta-7' } }), 'tg-header');
    assert.equal(await routedTo({ headers: { 'X-Env': 'prod' } }), 'tg-default');
  });

  it('query condition', async () => {
    assert.equal(await routedTo({ path: '/q?a=1&version=v2' }), 'tg-query');
    assert.equal(await routedTo({ path: '/q?version=v3' }), 'tg-default');
    assert.equal(await routedTo({ path: '/q?other=v2' }), 'tg-default');
  });

  it('cookie condition', async () => {
    assert.equal(await routedTo({ headers: { cookie: 'a=1; tier=gold; b=2' } }), 'tg-cookie');
    assert.equal(await routedTo({ headers: { cookie: 'tier=silver' } }), 'tg-default');
  });

  it('sourceIp condition uses the socket address', async () => {
    // X-Forwarded-For must not influence the match.
    assert.equal(await routedTo({ path: '/src', headers: { 'x-forwarded-for': '10.1.2.3' } }), 'tg-src');
  });

  it('rules are evaluated by ascending priority, not document order', async () => {
    assert.equal(await routedTo({ path: '/prio/exact' }), 'tg-prio-b');
    assert.equal(await routedTo({ path: '/prio/other' }), 'tg-prio-a');
    // Priority 10 (host) beats priority 20 (path).
    assert.equal(await routedTo({ path: '/path/x', headers: { host: 'api.example.com' } }), 'tg-host');
  });

  it('default action when no rule matches', async () => {
    assert.equal(await routedTo({ path: '/nothing/here' }), 'tg-default');
    assert.equal(targets.get('tg-default')!.requests.at(-1)!.url, '/nothing/here');
  });

  it('fixedResponse: status, body, content type and Server: switchyard', async () => {
    const r = await request(port, { path: '/maintenance' });
    assert.equal(r.status, 503);
    assert.equal(r.text, '<p>back soon</p>');
    assert.equal(r.headers['content-type'], 'text/html');
    assert.equal(r.headers['server'], 'switchyard');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength('<p>back soon</p>')));
    const g = await request(port, { path: '/nowhere' });
    assert.equal(g.status, 404);
    assert.equal(g.text, 'gone');
    assert.equal(g.headers['content-type'], 'text/plain');
  });

  it('fixedResponse to HEAD has the head only', async () => {
    const { response } = await rawOnce(port, 'HEAD /maintenance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { head: true, waitClose: true });
    assert.equal(response.status, 503);
    assert.equal(header(response, 'server'), 'switchyard');
    assert.equal(response.consumed, response.head.length);
  });

  it('redirect renders #{protocol} #{host} #{port} #{path} #{query} and the status', async () => {
    const r = await request(port, { path: '/old/a/b?x=1&y=2', headers: { host: 'Example.com:1234' } });
    assert.equal(r.status, 301);
    assert.equal(r.headers['location'], `https://new.example.com:8443/new/old/a/b?from=http-${port}&x=1&y=2`);
    assert.equal(r.headers['server'], 'switchyard');
  });

  it('redirect fields default to the request\'s own values', async () => {
    const r = await request(port, { path: '/same/thing?k=v', headers: { host: 'shop.test' } });
    assert.equal(r.status, 307);
    assert.equal(r.headers['location'], `http://shop.test:${port}/moved/same/thing?k=v`);
    assert.equal(r.headers['server'], 'switchyard');
  });
});
