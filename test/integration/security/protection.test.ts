/**
 * Protections per listener and per rule (SPEC §2 `protection`, §5 403/429;
 * docs/decisions/0010): the token-bucket rate limit (429 with Retry-After, by address or by
 * header), IP allow/deny lists (403), WAF rules (block or count, on path, query, headers and
 * the body prefix) and the built-in signatures — every hit counted in metrics — and a request
 * whose body the WAF inspected still reaches the target intact.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { startHttpTarget, startSwitchyard, listener, group, request, RawClient, header, type HttpTarget, type Running, type Echo } from '../harness/index.js';
import type { Config } from '../../../src/config/types.js';

const fwd = { forward: { targetGroup: 'g' } };

describe('protection', () => {
  let target: HttpTarget;
  let lb: Running;

  function config(): Config {
    return {
      listeners: [
        { ...listener('rl', fwd), protection: { rateLimit: { requestsPerSecond: 1, burst: 3 } } },
        { ...listener('rlh', fwd), protection: { rateLimit: { requestsPerSecond: 1, burst: 1, key: 'header:X-Api-Key' } } },
        { ...listener('deny', fwd), protection: { ipDeny: ['127.0.0.0/8'] } },
        { ...listener('allow', fwd), protection: { ipAllow: ['10.0.0.0/8', '::ffff:192.168.0.0/112'] } },
        listener('rules', fwd, [
          { priority: 10, match: { path: ['/private/*'] }, protection: { ipAllow: ['10.0.0.0/8'] }, ...fwd },
          { priority: 20, match: { path: ['/limited/*'] }, protection: { rateLimit: { requestsPerSecond: 0.5, burst: 1 } }, ...fwd },
          { priority: 30, match: { path: ['/open/*'] }, protection: { ipAllow: ['127.0.0.1'] }, ...fwd },
        ]),
        {
          ...listener('waf', fwd),
          protection: {
            waf: {
              builtin: true,
              inspectBodyBytes: 1024,
              rules: [
                { name: 'no-wp', path: ['^/wp-(admin|login)'] },
                { name: 'scanner-ua', header: { 'User-Agent': ['sqlmap', 'nikto'] } },
                { name: 'count-debug', query: ['debug=1'], action: 'count' },
                { name: 'no-drop', match: { method: ['POST'] }, body: ['drop\\s+table'] },
              ],
            },
          },
        },
        { ...listener('wafcount', fwd), protection: { waf: { builtin: true, mode: 'count' } } },
        listener('plain', fwd),
      ],
      targetGroups: [group('g', [target.port])],
    };
  }

  before(async () => {
    target = await startHttpTarget('t');
    lb = await startSwitchyard(config());
  });

  after(async () => {
    await lb?.close();
    await target?.close();
  });

  async function metrics(): Promise<string> {
    return lb.sy.metrics.render();
  }

  it('rate limit by address: the burst passes, then 429 with Retry-After on a kept connection', async () => {
    const c = await RawClient.connect(lb.port('rl'));
    try {
      for (let i = 0; i < 3; i++) {
        c.write(`GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
        assert.equal((await c.readResponse()).status, 200);
      }
      c.write('GET /r3 HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 429);
      assert.equal(header(r, 'retry-after'), '1');
      assert.equal(header(r, 'server'), 'switchyard');
      assert.equal(header(r, 'connection'), undefined, 'the connection stays open');
      c.write('GET /r4 HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 429);
    } finally {
      c.destroy();
    }
    // The bucket refills at 1/s.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await request(lb.port('rl'))).status, 200);
    assert.match(await metrics(), /switchyard_protection_hits_total\{listener="rl",rule="",protection="rate_limit",name="rate_limit",action="block"\} [2-9]/);
  });

  it('rate limit by header: each key has its own bucket', async () => {
    const p = lb.port('rlh');
    assert.equal((await request(p, { headers: { 'x-api-key': 'k1' } })).status, 200);
    assert.equal((await request(p, { headers: { 'x-api-key': 'k1' } })).status, 429);
    assert.equal((await request(p, { headers: { 'x-api-key': 'k2' } })).status, 200);
    assert.equal((await request(p)).status, 200, 'no header: the client address bucket');
    assert.equal((await request(p)).status, 429);
  });

  it('ipDeny and ipAllow on a listener → 403, nothing reaches the target', async () => {
    const before = target.requests.length;
    const d = await request(lb.port('deny'));
    assert.equal(d.status, 403);
    assert.equal(d.headers['server'], 'switchyard');
    assert.equal((await request(lb.port('allow'))).status, 403);
    assert.equal(target.requests.length, before);
    assert.match(await metrics(), /switchyard_protection_hits_total\{listener="deny",rule="",protection="ip_filter",name="deny",action="block"\} 1/);
    assert.match(await metrics(), /switchyard_protection_hits_total\{listener="allow",rule="",protection="ip_filter",name="allow",action="block"\} 1/);
  });

  it('protection per rule applies only to requests that rule matched', async () => {
    const p = lb.port('rules');
    assert.equal((await request(p, { path: '/private/x' })).status, 403);
    assert.equal((await request(p, { path: '/open/x' })).status, 200);
    assert.equal((await request(p, { path: '/limited/a' })).status, 200);
    assert.equal((await request(p, { path: '/limited/b' })).status, 429);
    assert.equal((await request(p, { path: '/elsewhere' })).status, 200);
    const text = await metrics();
    assert.match(text, /switchyard_protection_hits_total\{listener="rules",rule="10",protection="ip_filter",name="allow",action="block"\} 1/);
    assert.match(text, /switchyard_protection_hits_total\{listener="rules",rule="20",protection="rate_limit",name="rate_limit",action="block"\} 1/);
  });

  it('WAF rules: block on path and header patterns, count without blocking', async () => {
    const p = lb.port('waf');
    assert.equal((await request(p, { path: '/wp-login.php' })).status, 403);
    assert.equal((await request(p, { path: '/%77p-admin/' })).status, 403, 'decoded before matching');
    assert.equal((await request(p, { path: '/', headers: { 'user-agent': 'sqlmap/1.7' } })).status, 403);
    assert.equal((await request(p, { path: '/x?debug=1' })).status, 200, 'count only');
    assert.equal((await request(p, { path: '/shop?q=shoes' })).status, 200);
    const text = await metrics();
    assert.match(text, /switchyard_protection_hits_total\{listener="waf",rule="",protection="waf",name="no-wp",action="block"\} 2/);
    assert.match(text, /switchyard_protection_hits_total\{listener="waf",rule="",protection="waf",name="scanner-ua",action="block"\} 1/);
    assert.match(text, /switchyard_protection_hits_total\{listener="waf",rule="",protection="waf",name="count-debug",action="count"\} 1/);
  });

  it('WAF built-in signatures block SQL injection, XSS and traversal; off by default', async () => {
    const p = lb.port('waf');
    for (const path of ["/items?id=1%20UNION%20SELECT%20password%20FROM%20users", '/s?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/dl?f=..%2F..%2Fetc%2Fpasswd']) {
      assert.equal((await request(p, { path })).status, 403, path);
    }
    for (const path of ['/items?id=1%20UNION%20SELECT%20password%20FROM%20users', '/dl?f=..%2F..%2Fetc%2Fpasswd']) {
      assert.equal((await request(lb.port('plain'), { path })).status, 200, `${path} without a WAF`);
      assert.equal((await request(lb.port('wafcount'), { path })).status, 200, `${path} with builtin in count mode`);
    }
    const text = await metrics();
    assert.match(text, /name="builtin-sqli",action="block"\} [1-9]/);
    assert.match(text, /name="builtin-xss",action="block"\} [1-9]/);
    assert.match(text, /name="builtin-traversal",action="block"\} [1-9]/);
    assert.match(text, /listener="wafcount",rule="",protection="waf",name="builtin-sqli",action="count"\} 1/);
  });

  it('WAF body rules see the body prefix; a blocked body never reaches the target', async () => {
    const p = lb.port('waf');
    const before = target.requests.length;
    const r = await request(p, { method: 'POST', path: '/api', body: 'name=x&q=1;DROP  TABLE users', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 403);
    const x = await request(p, { method: 'POST', path: '/api', body: 'comment=%3Cscript%3Ealert(1)%3C/script%3E' });
    assert.equal(x.status, 403, 'built-in signatures look at the body too');
    assert.equal(target.requests.length, before);
  });

  it('an inspected body reaches the target complete and in order (Content-Length and chunked, beyond the prefix)', async () => {
    const p = lb.port('waf');
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
    const sha = createHash('sha256').update(body).digest('hex');
    const r = await request(p, { method: 'POST', path: '/upload', body });
    assert.equal(r.status, 200);
    assert.equal(r.json<Echo>().sha256, sha);
    // Chunked, trickled in small pieces.
    const chunked = await new Promise<Echo>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: p, method: 'PUT', path: '/upload', agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString()) as Echo));
      });
      req.on('error', reject);
      let off = 0;
      const step = (): void => {
        if (off >= body.length) return void req.end();
        const n = off < 4096 ? 300 : 64 * 1024;
        req.write(body.subarray(off, off + n));
        off += n;
        setImmediate(step);
      };
      step();
    });
    assert.equal(chunked.sha256, sha);
    assert.equal(chunked.bodyLength, body.length);
  });

  it('Expect: 100-continue with body inspection: Switchyard sends the 100 itself, the body arrives intact', async () => {
    const body = Buffer.from('name=widget&price=10');
    const echo = await new Promise<Echo>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: lb.port('waf'), method: 'POST', path: '/continue', agent: false, headers: { expect: '100-continue', 'content-length': body.length } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString()) as Echo));
        },
      );
      req.on('error', reject);
      req.on('continue', () => req.end(body)); // node:http waits for the 100 before sending
      setTimeout(() => reject(new Error('no 100 Continue')), 3000).unref();
    });
    assert.equal(echo.bodyLength, body.length);
    assert.equal(echo.headers['expect'], undefined, 'the Expect was answered by Switchyard');
  });

  it('a reload with unchanged rate-limit settings keeps the buckets', async () => {
    const p = lb.port('rlh');
    assert.equal((await request(p, { headers: { 'x-api-key': 'reload' } })).status, 200);
    assert.equal((await request(p, { headers: { 'x-api-key': 'reload' } })).status, 429);
    const res = await lb.sy.apply(config());
    assert.equal(res.ok, true);
    assert.equal((await request(p, { headers: { 'x-api-key': 'reload' } })).status, 429, 'still limited after the reload');
  });
});
