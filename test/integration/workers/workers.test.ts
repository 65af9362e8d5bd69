/**
 * `settings.workers: 2` as a user runs it: the real CLI starts a primary and two workers
 * (node:cluster), and every worker behaviour is checked from outside: traffic served by both
 * workers on one port, metrics summed over them, health checked once and shared, sticky
 * cookies valid in every worker, passive ejections reported to the primary, an all-or-nothing
 * reload when one worker refuses (test-only fault injection, NODE_ENV=test), a killed worker
 * replaced while the listener stays open, and a clean SIGTERM. The tests run in order on one
 * instance (starting three processes per test would cost more than the tests).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpTarget, request, waitFor, within, type HttpTarget, type Reply } from '../harness/index.js';
import { spawnSwitchyard, connectionRefused, type SwitchyardProcess } from '../harness/process.js';

interface WorkerInfo {
  id: number;
  pid: number | null;
  state: string;
  generation: number;
  restarts: number;
  requests: number;
}
interface WorkersReport {
  mode: string;
  pid: number;
  generation: number;
  workers: WorkerInfo[];
}
interface StatusTarget {
  id: string;
  state: string;
  reason: string;
  inFlight: number;
}
interface Status {
  generation: number;
  targetGroups: { name: string; targets: StatusTarget[] }[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sum of every sample of `name` in a Prometheus text whose labels contain all of `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('workers: 2', () => {
  let dir: string;
  let a: HttpTarget;
  let b: HttpTarget;
  let c: HttpTarget;
  let sy: SwitchyardProcess;
  let port = 0;
  let adminPort = 0;
  let faults = '';
  let extraPort = 0;
  const probes = { a: 0, b: 0 };
  let bFailsChecks = false;
  let sent = 0;

  const admin = async <T>(path: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: T }> => {
    const r = await request(adminPort, { path, ...(init.method !== undefined ? { method: init.method } : {}), ...(init.body !== undefined ? { body: init.body } : {}) });
    return { status: r.status, body: r.json<T>() };
  };
  const workers = async (): Promise<WorkersReport> => (await admin<WorkersReport>('/api/v1/workers')).body;
  const status = async (): Promise<Status> => (await admin<Status>('/api/v1/status')).body;
  const targetState = async (group: string, t: HttpTarget): Promise<StatusTarget | undefined> =>
    (await status()).targetGroups.find((g) => g.name === group)?.targets.find((x) => x.id === `127.0.0.1:${t.port}`);
  /** One request on its own connection (the cluster hands connections to workers in turn). */
  const get = async (path: string, headers: Record<string, string> = {}): Promise<Reply> => {
    sent++;
    return request(port, { path, headers });
  };

  const config = (extra: string): string => `settings: { workers: 2, shutdownTimeoutSeconds: 5 }
admin: { host: 127.0.0.1, port: 0 }
accessLog: { path: "off" }
listeners:
  - name: web
    protocol: HTTP
    host: 127.0.0.1
    port: 0
    rules:
${extra}      - priority: 10
        match: { path: ["/sticky/*"] }
        forward: { targetGroup: sticky }
      - priority: 20
        match: { path: ["/flaky/*"] }
        forward: { targetGroup: flaky }
    defaultAction: { forward: { targetGroup: app } }
targetGroups:
  - name: app
    healthCheck: { path: /health, intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 1 }
    targets: [ { host: 127.0.0.1, port: ${a.port} }, { host: 127.0.0.1, port: ${b.port} } ]
  - name: sticky
    stickiness: { enabled: true, type: lb_cookie }
    healthCheck: { enabled: false }
    targets: [ { host: 127.0.0.1, port: ${a.port} }, { host: 127.0.0.1, port: ${b.port} } ]
  - name: flaky
    healthCheck: { path: /health, intervalSeconds: 60, timeoutSeconds: 1, healthyThreshold: 1 }
    targets: [ { host: 127.0.0.1, port: ${a.port} }, { host: 127.0.0.1, port: ${c.port} } ]
`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-workers-'));
    const healthAware = (name: 'a' | 'b', fails: () => boolean) => (req: { url?: string | undefined }, res: import('node:http').ServerResponse) => {
      if (req.url === '/health') {
        probes[name]++;
        res.writeHead(fails() ? 500 : 200, { 'content-length': '0' });
        res.end();
        return;
      }
      const slow = req.url === '/slow';
      setTimeout(
        () => {
          res.writeHead(200, { 'x-target': name, 'content-type': 'text/plain', 'content-length': '1' });
          res.end(name);
        },
        slow ? 800 : 0,
      );
    };
    a = await startHttpTarget('a', { handler: healthAware('a', () => false) });
    b = await startHttpTarget('b', { handler: healthAware('b', () => bFailsChecks) });
    c = await startHttpTarget('c');
    faults = join(dir, 'faults.json');
    await writeFile(faults, '{}');
    const file = join(dir, 'switchyard.yaml');
    await writeFile(file, config(''));
    sy = spawnSwitchyard(['--config', file], { NODE_ENV: 'test', SWITCHYARD_TEST_FAULTS: faults });
    port = Number((await sy.line(/listening http 127\.0\.0\.1:(\d+)/, 20_000))[1]);
    adminPort = Number((await sy.line(/admin http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    await sy.line(/workers 2 \(pids \d+, \d+\)/);
    await waitFor(async () => (await targetState('app', a))?.state === 'healthy' && (await targetState('app', b))?.state === 'healthy', 5000, 'targets healthy');
  });

  after(async () => {
    const report = adminPort !== 0 && sy.proc.exitCode === null ? await workers().catch(() => null) : null;
    sy?.kill();
    // Orphaned workers notice the primary is gone and stop by themselves; make sure.
    for (const w of report?.workers ?? []) if (w.pid !== null && alive(w.pid)) process.kill(w.pid, 'SIGKILL');
    await Promise.all([a?.close(), b?.close(), c?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('one port, served by both workers; /metrics sums the requests of both', async () => {
    const before = await workers();
    assert.equal(before.mode, 'primary');
    assert.equal(before.workers.length, 2);
    assert.ok(before.workers.every((w) => w.state === 'serving' && w.pid !== null && w.pid !== before.pid), JSON.stringify(before));
    for (let i = 0; i < 20; i++) assert.equal((await get('/x')).status, 200);
    const after = await workers();
    const served = after.workers.map((w, i) => w.requests - before.workers[i]!.requests);
    assert.ok(served.every((n) => n > 0), `both workers served requests: ${served}`);
    assert.equal(served[0]! + served[1]!, 20);
    const text = (await request(adminPort, { path: '/metrics' })).text;
    assert.equal(metricSum(text, 'switchyard_requests_total'), sent, text);
    assert.equal(metricSum(text, 'switchyard_new_connections_total', { listener: 'web' }), sent);
    assert.equal(metricSum(text, 'switchyard_healthy_targets', { target_group: 'app' }), 2, 'health gauges come from the primary only');
    const stats = (await admin<{ listeners: { name: string; requests: number }[] }>('/api/v1/stats')).body;
    assert.equal(stats.listeners.find((l) => l.name === 'web')!.requests, sent, 'the dashboard sums the workers too');
  });

  it('SIGHUP reloads every worker', async () => {
    const gen = (await workers()).generation;
    sy.proc.kill('SIGHUP');
    const w = await waitFor(async () => {
      const r = await workers();
      return r.generation === gen + 1 && r.workers.every((x) => x.generation === gen + 1) ? r : null;
    }, 5000, 'every worker on the next generation');
    assert.ok(w.workers.every((x) => x.state === 'serving' && x.restarts === 0), 'a reload restarts no worker');
    assert.equal((await get('/x')).status, 200);
  });

  it('health checks run once (not once per worker), and every worker routes by the verdict', async () => {
    const t0 = Date.now();
    const p0 = probes.a;
    await waitFor(() => Date.now() - t0 >= 3000, 5000, '3 s of probing');
    const perSecond = (probes.a - p0) / ((Date.now() - t0) / 1000);
    assert.ok(perSecond > 0.5 && perSecond < 1.5, `one probe per interval (1 s), not one per worker: ${perSecond.toFixed(2)}/s`);

    bFailsChecks = true;
    await waitFor(async () => (await targetState('app', b))?.state === 'unhealthy', 5000, 'b unhealthy');
    const before = await workers();
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) seen.add(String((await get('/x')).headers['x-target']));
    const after = await workers();
    assert.deepEqual([...seen], ['a'], 'no worker sends traffic to the unhealthy target');
    assert.ok(after.workers.every((w, i) => w.requests > before.workers[i]!.requests), 'both workers served during the check');

    bFailsChecks = false;
    await waitFor(async () => (await targetState('app', b))?.state === 'healthy', 5000, 'b healthy again');
    const back = new Set<string>();
    for (let i = 0; i < 8; i++) back.add(String((await get('/x')).headers['x-target']));
    assert.deepEqual([...back].sort(), ['a', 'b']);
  });

  it('a sticky cookie signed by one worker is honoured by the other', async () => {
    const first = await get('/sticky/1');
    const setCookie = first.headers['set-cookie']?.find((s) => s.startsWith('SWITCHYARD='));
    assert.ok(setCookie !== undefined, `a stickiness cookie: ${JSON.stringify(first.headers)}`);
    const cookie = setCookie.split(';')[0]!;
    const pinned = String(first.headers['x-target']);
    const before = await workers();
    for (let i = 0; i < 12; i++) assert.equal(String((await get('/sticky/1', { cookie })).headers['x-target']), pinned);
    const after = await workers();
    assert.ok(after.workers.every((w, i) => w.requests > before.workers[i]!.requests), 'both workers verified the cookie');
  });

  it('a target refusing connections in one worker is taken out for all (reported to the primary)', async () => {
    await waitFor(async () => (await targetState('flaky', c))?.state === 'healthy', 5000, 'c healthy');
    await c.close();
    // Round robin over a and c: a refused connection is retried on a, so every request succeeds.
    for (let i = 0; i < 6; i++) assert.equal((await get('/flaky/x')).status, 200);
    const t = await waitFor(async () => {
      const s = await targetState('flaky', c);
      return s?.state === 'unhealthy' ? s : null;
    }, 3000, 'c unhealthy in the primary');
    assert.match(t.reason, /passive/, 'taken out by the data plane, long before its next check (60 s)');
  });

  it('a reload one worker refuses is applied by none; then a good one by all', async () => {
    extraPort = await freePort();
    const v2 = config(`      - priority: 5
        match: { path: ["/v2"] }
        fixedResponse: { statusCode: 200, contentType: text/plain, body: "v2" }
`).replace(
      'targetGroups:',
      `  - name: extra
    protocol: HTTP
    host: 127.0.0.1
    port: ${extraPort}
    defaultAction: { fixedResponse: { statusCode: 200, contentType: text/plain, body: "extra" } }
targetGroups:`,
    );
    const gen = (await workers()).generation;
    await writeFile(faults, JSON.stringify({ failPrepareInWorker: 2 }));
    const refused = await admin<{ errors: { message: string }[] }>('/api/v1/config', { method: 'PUT', body: v2 });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.ok(refused.body.errors.some((e) => /worker 2: injected fault/.test(e.message)), JSON.stringify(refused.body));
    const w = await workers();
    assert.equal(w.generation, gen);
    assert.ok(w.workers.every((x) => x.generation === gen && x.state === 'serving'), JSON.stringify(w));
    // Worker 1 had bound the new listener and compiled /v2 before worker 2 refused: both rolled back.
    assert.equal(await connectionRefused(extraPort), true, 'the new listener is not open');
    for (let i = 0; i < 8; i++) assert.equal((await get('/v2')).headers['x-target'] !== undefined, true, 'the old rules answer /v2');
    const metrics = (await request(adminPort, { path: '/metrics' })).text;
    assert.equal(metricSum(metrics, 'switchyard_reloads_total', { result: 'rejected' }), 1);

    await writeFile(faults, '{}');
    const applied = await admin<{ generation: number }>('/api/v1/config', { method: 'PUT', body: v2 });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const w2 = await workers();
    assert.ok(w2.workers.every((x) => x.generation === applied.body.generation), JSON.stringify(w2));
    for (let i = 0; i < 8; i++) assert.equal((await get('/v2')).text, 'v2');
    assert.equal((await request(extraPort)).text, 'extra');
  });

  it('a killed worker is replaced; the listener stays open and requests keep succeeding', async () => {
    const before = await workers();
    const victim = before.workers[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(async () => (await workers()).workers[0]!.pid !== victim.pid, 5000, 'the primary noticed');
    assert.equal(await connectionRefused(port), false, 'the listener stayed open');
    for (let i = 0; i < 10; i++) assert.equal((await get('/x')).status, 200);
    const replaced = await waitFor(async () => {
      const w = (await workers()).workers[0]!;
      return w.state === 'serving' && w.pid !== null && w.pid !== victim.pid ? w : null;
    }, 10_000, 'a replacement serving');
    assert.equal(replaced.restarts, 1);
    assert.equal(replaced.generation, before.generation, 'the replacement runs the current generation');
    // The replacement got the config applied by the admin API (not the file's) and the health state.
    const counts = (await workers()).workers.map((w) => w.requests);
    for (let i = 0; i < 10; i++) assert.equal((await get('/v2')).text, 'v2');
    const after = (await workers()).workers;
    assert.ok(after[0]!.requests > counts[0]!, 'the replacement serves');
    const text = (await request(adminPort, { path: '/metrics' })).text;
    assert.ok(metricSum(text, 'switchyard_requests_total') >= sent - 1, 'the dead worker’s counts are kept');
  });

  it('SIGTERM: every worker finishes its in-flight request, then all exit and the primary exits 0', async () => {
    const pids = (await workers()).workers.map((w) => w.pid!);
    let done = false;
    const slow = request(port, { path: '/slow', timeoutMs: 10_000 }).finally(() => (done = true));
    await waitFor(async () => (await status()).targetGroups.find((g) => g.name === 'app')!.targets.some((t) => t.inFlight === 1), 3000, 'request in flight (summed over workers)');
    sy.proc.kill('SIGTERM');
    await waitFor(() => connectionRefused(port), 3000, 'new connections refused');
    assert.equal(done, false);
    const r = await slow;
    assert.equal(r.status, 200);
    const exit = await within(sy.exited, 8000, 'primary exit');
    assert.deepEqual(exit, { code: 0, signal: null }, sy.stderr());
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} exited`);
  });
});
