/**
 * Active health checks over real sockets: HTTP, HTTPS (self-signed, not verified) and TCP
 * probes, thresholds, traffic following health, fail-open, passive ejection cleared by a passing
 * check, reasons in /api/v1/status, and state kept across a reload.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Switchyard } from '../../../src/control/switchyard.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { Config, TargetGroupConfig } from '../../../src/config/types.js';
import type { Target } from '../../../src/targets/target.js';
import { HttpProbe } from '../../../src/targets/health/http-probe.js';
import { TcpProbe } from '../../../src/targets/health/tcp-probe.js';
import { waitFor } from '../harness/wait.js';

interface FakeTarget {
  readonly name: string;
  readonly port: number;
  /** Status /health answers with; flip it from the test. */
  health: number;
  healthHits: number;
  readonly server: http.Server | https.Server;
}

function startTarget(name: string, tls?: { key: Buffer; cert: Buffer }): Promise<FakeTarget> {
  const t = { name, port: 0, health: 200, healthHits: 0 } as { -readonly [K in keyof FakeTarget]: FakeTarget[K] };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.url === '/health') {
      t.healthHits++;
      res.writeHead(t.health, { 'content-type': 'text/plain' });
      res.end(`health ${t.health}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-target': name });
    res.end(name);
  };
  t.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  return new Promise((resolve) => {
    t.server.listen(0, '127.0.0.1', () => {
      t.port = (t.server.address() as net.AddressInfo).port;
      resolve(t);
    });
  });
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const FAST = { intervalSeconds: 0.2, timeoutSeconds: 0.2, healthyThreshold: 2, unhealthyThreshold: 2 } as const;

describe('active health checks', () => {
  let a: FakeTarget;
  let b: FakeTarget;
  let c: FakeTarget;
  let secure: FakeTarget;
  let deadPort: number;
  let sy: Switchyard;
  let config: Config;
  let certDir: string;

  const target = (group: string, port: number): Target => {
    const t = sy.groups.get(group)!.targets.get(`127.0.0.1:${port}`);
    assert.ok(t, `target 127.0.0.1:${port} in ${group}`);
    return t;
  };
  const port = (listener: string): number => sy.listeners.get(listener)!.port;
  const tally = async (listener: string, n: number): Promise<Map<string, number>> => {
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await get(port(listener));
      assert.equal(r.status, 200);
      seen.set(r.body, (seen.get(r.body) ?? 0) + 1);
    }
    return seen;
  };

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'switchyard-health-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
    const tls = { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) };
    [a, b, c, secure] = await Promise.all([startTarget('a'), startTarget('b'), startTarget('c'), startTarget('secure', tls)]);
    c.health = 503;
    deadPort = await closedPort();
    const group = (name: string, ports: number[], healthCheck: NonNullable<TargetGroupConfig['healthCheck']>): TargetGroupConfig => ({
      name,
      targets: ports.map((p) => ({ host: '127.0.0.1', port: p })),
      healthCheck,
    });
    config = {
      listeners: [
        { name: 'web', protocol: 'HTTP', host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'web' } } },
        { name: 'down', protocol: 'HTTP', host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'down' } } },
      ],
      targetGroups: [
        group('web', [a.port, b.port], { protocol: 'HTTP', path: '/health', ...FAST }),
        group('down', [c.port], { protocol: 'HTTP', path: '/health', ...FAST }),
        group('tcp', [deadPort, b.port], { protocol: 'TCP', ...FAST }),
        group('tls', [secure.port], { protocol: 'HTTPS', path: '/health', ...FAST, healthyThreshold: 1 }),
        group('unchecked', [a.port], { enabled: false }),
      ],
    } as Config;
    sy = await Switchyard.start({ config, adminPort: 0, accessLogPath: 'off', logger: silentLogger() });
  });

  after(async () => {
    await sy?.close();
    await Promise.all([a, b, c, secure].map((t) => t && new Promise<void>((r) => t.server.close(() => r()))));
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('a target starts initial and becomes healthy after healthyThreshold passes', async () => {
    const ta = target('web', a.port);
    // Two passes are needed and the first comes after a random delay: right after start it is initial.
    assert.equal(ta.state, 'initial');
    assert.equal(ta.reason, 'awaiting first health check');
    await waitFor(() => ta.state === 'healthy' && target('web', b.port).state === 'healthy', 5000, 'web targets healthy');
    assert.equal(ta.activeHealthy, true);
    assert.equal(ta.reason, 'health check passed');
    assert.ok(ta.healthySinceMs > 0);
    assert.ok(a.healthHits >= 2);
    assert.equal(sy.groups.get('web')!.failOpen, false);
  });

  it('a group with checks disabled uses its targets at once and never probes them', () => {
    const t = target('unchecked', a.port);
    assert.equal(t.state, 'healthy');
    assert.equal(t.reason, 'health checks disabled');
    assert.equal(sy.groups.get('unchecked')!.healthChecker, null);
  });

  it('turns unhealthy when /health answers 500, and traffic stops going to it', async () => {
    const ta = target('web', a.port);
    const tb = target('web', b.port);
    await waitFor(() => ta.state === 'healthy' && tb.state === 'healthy', 5000, 'both healthy');
    a.health = 500;
    await waitFor(() => ta.state === 'unhealthy', 5000, 'a unhealthy');
    assert.equal(ta.activeHealthy, false);
    assert.equal(ta.reason, 'health check: status 500 not in 200-399');
    assert.equal(tb.state, 'healthy');
    const seen = await tally('web', 10);
    assert.deepEqual([...seen], [['b', 10]]);
  });

  it('comes back when /health answers 200 again, and shares traffic again', async () => {
    const ta = target('web', a.port);
    a.health = 500;
    await waitFor(() => ta.state === 'unhealthy', 5000, 'a unhealthy');
    const before = ta.healthySinceMs;
    a.health = 200;
    await waitFor(() => ta.state === 'healthy', 5000, 'a healthy again');
    assert.equal(ta.reason, 'health check passed');
    assert.ok(ta.healthySinceMs > before, 'healthySinceMs moves when it becomes healthy');
    const seen = await tally('web', 10);
    assert.equal(seen.get('a'), 5);
    assert.equal(seen.get('b'), 5);
  });

  it('TCP probe against a closed port: unhealthy with a connect reason; an open port is healthy', async () => {
    const dead = target('tcp', deadPort);
    const live = target('tcp', b.port);
    await waitFor(() => dead.state === 'unhealthy' && live.state === 'healthy', 5000, 'tcp verdicts');
    assert.equal(dead.reason, 'health check: connect ECONNREFUSED');
    assert.equal(live.reason, 'health check passed');
    assert.equal(sy.groups.get('tcp')!.failOpen, false);
  });

  it('HTTPS probe passes against a self-signed certificate (not verified)', async () => {
    const t = target('tls', secure.port);
    await waitFor(() => t.state === 'healthy', 5000, 'tls target healthy');
    secure.health = 404;
    await waitFor(() => t.state === 'unhealthy', 5000, 'tls target unhealthy');
    assert.equal(t.reason, 'health check: status 404 not in 200-399');
    secure.health = 200;
  });

  it('fails open when every target is unhealthy: requests still reach them', async () => {
    const tc = target('down', c.port);
    await waitFor(() => tc.state === 'unhealthy', 5000, 'c unhealthy');
    assert.equal(tc.reason, 'health check: status 503 not in 200-399');
    assert.equal(sy.groups.get('down')!.failOpen, true);
    const r = await get(port('down'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'c');
  });

  it('a passing check clears a passive ejection', async () => {
    const g = sy.groups.get('web')!;
    const tb = target('web', b.port);
    await waitFor(() => tb.state === 'healthy', 5000, 'b healthy');
    g.ejectPassively(tb, 'connect ECONNREFUSED (passive)');
    assert.equal(tb.state, 'unhealthy');
    assert.equal(tb.passiveEjected, true);
    await waitFor(() => tb.state === 'healthy', 5000, 'b back after a passing check');
    assert.equal(tb.passiveEjected, false);
    assert.equal(tb.reason, 'health check passed');
  });

  it('states and reasons are visible in /api/v1/status', async () => {
    const tc = target('down', c.port);
    const dead = target('tcp', deadPort);
    await waitFor(() => tc.state === 'unhealthy' && dead.state === 'unhealthy', 5000, 'unhealthy targets');
    const r = await get(sy.adminPort!, '/api/v1/status');
    assert.equal(r.status, 200);
    type Status = { targetGroups: { name: string; targets: { id: string; state: string; reason: string }[] }[] };
    const status = JSON.parse(r.body) as Status;
    const find = (g: string, id: string) => status.targetGroups.find((x) => x.name === g)?.targets.find((t) => t.id === id);
    assert.deepEqual(find('down', `127.0.0.1:${c.port}`), { ...find('down', `127.0.0.1:${c.port}`), state: 'unhealthy', reason: 'health check: status 503 not in 200-399' });
    assert.equal(find('tcp', `127.0.0.1:${deadPort}`)?.reason, 'health check: connect ECONNREFUSED');
    assert.equal(find('tcp', `127.0.0.1:${b.port}`)?.state, 'healthy');
  });

  it('a reload keeps health state and applies a new interval and thresholds', async () => {
    const ta = target('web', a.port);
    a.health = 200;
    await waitFor(() => ta.state === 'healthy', 5000, 'a healthy');
    const next = structuredClone(config) as { targetGroups: TargetGroupConfig[] } & Config;
    next.targetGroups[0] = { ...next.targetGroups[0]!, healthCheck: { protocol: 'HTTP', path: '/health', ...FAST, intervalSeconds: 0.3, unhealthyThreshold: 1 } };
    const result = await sy.apply(next);
    assert.equal(result.ok, true);
    assert.equal(target('web', a.port), ta, 'same Target object');
    assert.equal(ta.state, 'healthy', 'no reset to initial on reload');
    a.health = 500;
    await waitFor(() => ta.state === 'unhealthy', 5000, 'a unhealthy after one failure');
    a.health = 200;
    await waitFor(() => ta.state === 'healthy', 5000, 'a healthy');
  });

  it('turning checks off makes targets healthy; turning them on again starts from initial', async () => {
    const tc = target('down', c.port);
    await waitFor(() => tc.state === 'unhealthy', 5000, 'c unhealthy');
    const off = structuredClone(config) as { targetGroups: TargetGroupConfig[] } & Config;
    off.targetGroups[1] = { ...off.targetGroups[1]!, healthCheck: { enabled: false } };
    assert.equal((await sy.apply(off)).ok, true);
    assert.equal(tc.state, 'healthy');
    assert.equal(tc.reason, 'health checks disabled');
    assert.equal(sy.groups.get('down')!.healthChecker, null);
    const hits = c.healthHits;
    assert.equal((await sy.apply(config)).ok, true);
    assert.equal(tc.state, 'initial');
    await waitFor(() => tc.state === 'unhealthy', 5000, 'c unhealthy again');
    assert.ok(c.healthHits > hits);
  });

  it('a deregistered target is no longer probed', async () => {
    const g = sy.groups.get('down')!;
    const tc = target('down', c.port);
    await waitFor(() => g.healthChecker?.size === 1, 5000, 'c checked');
    g.deregister(tc.id);
    g.healthChecker!.sync();
    assert.equal(g.healthChecker!.size, 0);
    const hits = c.healthHits;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(c.healthHits <= hits + 1, 'at most a probe already in flight');
    g.register('127.0.0.1', c.port, 1);
    assert.equal(g.healthChecker!.size, 1);
  });
});

describe('probes', () => {
  it('HTTP probe: a target that never answers fails by timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const p = (silent.address() as net.AddressInfo).port;
    try {
      const r = await new HttpProbe({ tls: false, path: '/health', matcher: '200', timeoutMs: 200 }).check('127.0.0.1', p, new AbortController().signal);
      assert.deepEqual(r, { ok: false, reason: 'health check: timeout after 0.2s' });
    } finally {
      silent.close();
    }
  });

  it('HTTP probe: sends Host host:port and the configured path; a matched status passes', async () => {
    let seen: { host?: string | undefined; url?: string | undefined } = {};
    const s = http.createServer((req, res) => {
      seen = { host: req.headers.host, url: req.url };
      res.writeHead(404);
      res.end('x'.repeat(100_000));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = (s.address() as net.AddressInfo).port;
    try {
      const r = await new HttpProbe({ tls: false, path: '/ready?deep=1', matcher: '200-399,404', timeoutMs: 1000 }).check('127.0.0.1', p, new AbortController().signal);
      assert.deepEqual(r, { ok: true, reason: 'health check passed' });
      assert.deepEqual(seen, { host: `127.0.0.1:${p}`, url: '/ready?deep=1' });
    } finally {
      s.close();
    }
  });

  it('HTTP probe: connection refused', async () => {
    const p = await closedPort();
    const r = await new HttpProbe({ tls: false, path: '/', matcher: '200', timeoutMs: 1000 }).check('127.0.0.1', p, new AbortController().signal);
    assert.deepEqual(r, { ok: false, reason: 'health check: connect ECONNREFUSED' });
  });

  it('TCP probe: abort resolves at once', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await new TcpProbe({ timeoutMs: 1000 }).check('127.0.0.1', 1, ac.signal);
    assert.deepEqual(r, { ok: false, reason: 'health check: aborted' });
  });
});
