/**
 * The admin API (SPEC §6): health, status shape, bearer token, target registration and
 * deregistration, config replacement (all or nothing) and reload from the config file.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Switchyard } from '../../../src/control/switchyard.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { Config } from '../../../src/config/types.js';
import {
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  request,
  waitFor,
  type HttpTarget,
  type Running,
  type Echo,
  type Reply,
} from '../harness/index.js';

const TOKEN = 'test-admin-token-123';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Status {
  listeners: { name: string; protocol: string; host: string; port: number }[];
  targetGroups: {
    name: string;
    algorithm: string;
    targets: { id: string; host: string; port: number; weight: number; state: string; reason: string; inFlight: number }[];
  }[];
}

describe('admin API', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;
  let config: Config;

  const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Reply> =>
    request(lb.adminPort!, {
      method,
      path,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    config = {
      admin: { token: TOKEN },
      listeners: [listener('web', { forward: { targetGroup: 'g' } })],
      targetGroups: [group('g', [a.port], { algorithm: 'round_robin', deregistrationDelaySeconds: 1 })],
    };
    lb = await startSwitchyard(config, { admin: true });
  });

  after(async () => {
    await lb?.close();
    await a?.close();
    await b?.close();
  });

  it('/healthz answers 200 without a token', async () => {
    const r = await request(lb.adminPort!, { path: '/healthz' });
    assert.equal(r.status, 200);
    assert.equal(r.json<{ status: string }>().status, 'ok');
  });

  it('every other endpoint needs the bearer token', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/status'],
      ['GET', '/api/v1/config'],
      ['POST', '/api/v1/reload'],
      ['POST', '/api/v1/target-groups/g/targets'],
    ] as const) {
      const none = await request(lb.adminPort!, { method, path });
      assert.equal(none.status, 401, `${method} ${path} without token`);
      assert.match(String(none.headers['www-authenticate']), /Bearer/);
      const wrong = await request(lb.adminPort!, { method, path, headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      const basic = await request(lb.adminPort!, { method, path, headers: { authorization: `Basic ${TOKEN}` } });
      assert.equal(basic.status, 401);
    }
    assert.equal((await admin('GET', '/api/v1/status')).status, 200);
  });

  it('/api/v1/status has the documented shape', async () => {
    const s = (await admin('GET', '/api/v1/status')).json<Status>();
    assert.deepEqual(s.listeners, [{ name: 'web', protocol: 'HTTP', host: '127.0.0.1', port: lb.port() }]);
    assert.equal(s.targetGroups.length, 1);
    const g = s.targetGroups[0]!;
    assert.equal(g.name, 'g');
    assert.equal(g.algorithm, 'round_robin');
    assert.equal(g.targets.length, 1);
    const t = g.targets[0]!;
    assert.equal(t.id, `127.0.0.1:${a.port}`);
    assert.equal(t.host, '127.0.0.1');
    assert.equal(t.port, a.port);
    assert.equal(t.weight, 1);
    assert.equal(t.state, 'healthy');
    assert.equal(typeof t.reason, 'string');
    assert.equal(t.inFlight, 0);
  });

  it('registers and deregisters targets', async () => {
    const reg = await admin('POST', '/api/v1/target-groups/g/targets', { host: '127.0.0.1', port: b.port });
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.json<{ id: string }>().id, `127.0.0.1:${b.port}`);
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add((await request(lb.port(), { path: `/r/${i}` })).json<Echo>().name);
    assert.deepEqual([...names].sort(), ['a', 'b']);

    assert.equal((await admin('POST', '/api/v1/target-groups/g/targets', { host: '127.0.0.1', port: 70000 })).status, 400);
    assert.equal((await admin('POST', '/api/v1/target-groups/g/targets', '{not json')).status, 400);
    assert.equal((await admin('POST', '/api/v1/target-groups/nope/targets', { host: '127.0.0.1', port: b.port })).status, 404);

    const del = await admin('DELETE', `/api/v1/target-groups/g/targets/127.0.0.1:${a.port}`);
    assert.equal(del.status, 202, del.text);
    const aBefore = a.requests.length;
    for (let i = 0; i < 6; i++) assert.equal((await request(lb.port(), { path: `/d/${i}` })).json<Echo>().name, 'b');
    assert.equal(a.requests.length, aBefore, 'a deregistered target takes no new requests');
    await waitFor(async () => {
      const s = (await admin('GET', '/api/v1/status')).json<Status>();
      const t = s.targetGroups[0]!.targets.find((x) => x.port === a.port);
      return t === undefined || t.state === 'unused';
    }, 3000, 'deregistered target gone');
    assert.equal((await admin('DELETE', `/api/v1/target-groups/g/targets/127.0.0.1:1`)).status, 404);
    // Put a back for the tests below.
    assert.equal((await admin('POST', '/api/v1/target-groups/g/targets', { host: '127.0.0.1', port: a.port })).status, 201);
  });

  it('PUT /api/v1/config with an invalid config → 400 with errors; the old config keeps serving', async () => {
    const before = (await request(lb.port(), { path: '/x' })).status;
    assert.equal(before, 200);
    const bad = {
      ...config,
      listeners: [listener('web', { forward: { targetGroup: 'does-not-exist' } })],
      targetGroups: [{ ...config.targetGroups![0]!, algorithm: 'fastest' }],
    };
    const r = await admin('PUT', '/api/v1/config', bad);
    assert.equal(r.status, 400, r.text);
    const body = r.json<{ errors: { path: string; message: string }[] }>();
    assert.ok(Array.isArray(body.errors) && body.errors.length >= 2, r.text);
    const gen = (await admin('GET', '/healthz')).json<{ generation: number }>().generation;
    const after = await request(lb.port(), { path: '/x' });
    assert.equal(after.status, 200);
    assert.ok(['a', 'b'].includes(after.json<Echo>().name));
    assert.equal((await admin('PUT', '/api/v1/config', 'listeners: [')).status, 400);
    assert.equal((await admin('GET', '/healthz')).json<{ generation: number }>().generation, gen);
  });

  it('PUT /api/v1/config with a valid config applies it', async () => {
    const next: Config = {
      ...config,
      listeners: [listener('web', { forward: { targetGroup: 'g' } }, [{ priority: 1, match: { path: ['/new'] }, fixedResponse: { statusCode: 202, body: 'new config' } }])],
    };
    const r = await admin('PUT', '/api/v1/config', next);
    assert.equal(r.status, 200, r.text);
    const n = await request(lb.port(), { path: '/new' });
    assert.equal(n.status, 202);
    assert.equal(n.text, 'new config');
    const cfg = (await admin('GET', '/api/v1/config')).json<{ listeners: { rules: unknown[] }[] }>();
    assert.equal(cfg.listeners[0]!.rules.length, 1);
  });

  it('POST /api/v1/reload without a config file → 409', async () => {
    assert.equal((await admin('POST', '/api/v1/reload')).status, 409);
  });
});

describe('admin reload from the config file', () => {
  let dir: string;
  let file: string;
  let target: HttpTarget;
  let sy: Switchyard;

  const yaml = (body: string, port: number): string => `
listeners:
  - name: web
    protocol: HTTP
    host: 127.0.0.1
    port: 0
    rules:
      - priority: 1
        match: { path: ["/which"] }
        fixedResponse: { statusCode: 200, body: "${body}" }
    defaultAction: { forward: { targetGroup: g } }
targetGroups:
  - name: g
    healthCheck: { enabled: false }
    targets: [{ host: 127.0.0.1, port: ${port} }]
`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-admin-'));
    file = join(dir, 'config.yaml');
    target = await startHttpTarget('t');
    await writeFile(file, yaml('first', target.port));
    sy = await Switchyard.start({ configFile: file, adminPort: 0, accessLogPath: 'off', logger: silentLogger() });
  });

  after(async () => {
    await sy?.close();
    await target?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('re-reads the file; an invalid file is rejected and the running config stays', async () => {
    const port = sy.listeners.get('web')!.port;
    assert.equal((await request(port, { path: '/which' })).text, 'first');
    await writeFile(file, yaml('second', target.port));
    const ok = await request(sy.adminPort!, { method: 'POST', path: '/api/v1/reload' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await request(port, { path: '/which' })).text, 'second');
    assert.equal(sy.listeners.get('web')!.port, port, 'an unchanged listener keeps its socket');

    await writeFile(file, yaml('third', target.port).replace('protocol: HTTP', 'protocol: GOPHER'));
    const bad = await request(sy.adminPort!, { method: 'POST', path: '/api/v1/reload' });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json<{ errors: unknown[] }>().errors.length > 0);
    assert.equal((await request(port, { path: '/which' })).text, 'second');
    assert.equal((await request(port, { path: '/other' })).json<Echo>().name, 't');
  });
});

describe('admin deregistration drains in-flight requests', () => {
  let held: HttpTarget;
  let other: HttpTarget;
  let lb: Running;
  const releases: (() => void)[] = [];

  before(async () => {
    held = await startHttpTarget('held', {
      handler: (_req, res) => {
        releases.push(() => {
          res.writeHead(200, { 'content-length': '4' });
          res.end('done');
        });
      },
    });
    other = await startHttpTarget('other');
    lb = await startSwitchyard(
      {
        listeners: [listener('web', { forward: { targetGroup: 'g' } })],
        targetGroups: [group('g', [held.port], { deregistrationDelaySeconds: 10 })],
      },
      { admin: true },
    );
  });

  after(async () => {
    await lb?.close();
    await held?.close();
    await other?.close();
  });

  it('an in-flight request finishes; the target is draining meanwhile and takes nothing new', async () => {
    const inflight = request(lb.port(), { path: '/long' });
    await waitFor(() => releases.length === 1, 3000, 'request at the target');
    assert.equal((await request(lb.adminPort!, { method: 'POST', path: '/api/v1/target-groups/g/targets', body: JSON.stringify({ host: '127.0.0.1', port: other.port }) })).status, 201);
    const del = await request(lb.adminPort!, { method: 'DELETE', path: `/api/v1/target-groups/g/targets/127.0.0.1:${held.port}` });
    assert.equal(del.status, 202);
    const status = (await request(lb.adminPort!, { path: '/api/v1/status' })).json<Status>();
    const t = status.targetGroups[0]!.targets.find((x) => x.port === held.port)!;
    assert.equal(t.state, 'draining');
    assert.equal(t.inFlight, 1);
    for (let i = 0; i < 4; i++) assert.equal((await request(lb.port(), { path: `/n/${i}` })).json<Echo>().name, 'other');
    assert.equal(releases.length, 1);
    releases[0]!();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.text, 'done');
    await waitFor(async () => {
      const s = (await request(lb.adminPort!, { path: '/api/v1/status' })).json<Status>();
      return !s.targetGroups[0]!.targets.some((x) => x.port === held.port && x.state !== 'unused');
    }, 3000, 'drained target removed');
  });
});
