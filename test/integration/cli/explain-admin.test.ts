/**
 * `switchyard explain --admin URL` against a running in-process Switchyard (admin on port 0):
 * live target states and reasons from GET /api/v1/status decide the candidates, targets
 * registered through the admin API are included, a group with no healthy target is shown
 * failing open, the bearer token is sent, and an unreachable admin API is reported without
 * failing the explanation.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/config/types.js';
import { runExplain, type ExplainReport, type ExplainedGroup } from '../../../src/cli/explain.js';
import {
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  request,
  refusedPort,
  waitFor,
  type HttpTarget,
  type Running,
} from '../harness/index.js';

const TOKEN = 'sekret';
const CHECK = { enabled: true, path: '/', intervalSeconds: 0.2, timeoutSeconds: 0.2, healthyThreshold: 1, unhealthyThreshold: 1 } as const;

describe('explain --admin', () => {
  let a: HttpTarget, b: HttpTarget;
  let dead: number;
  let lb: Running;
  let dir: string;
  let file: string;

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    dead = await refusedPort();
    const config: Config = {
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      listeners: [listener('web', { forward: { targetGroup: 'app' } }, [{ priority: 10, match: { path: ['/down/*'] }, forward: { targetGroup: 'down' } }])],
      targetGroups: [group('app', [a.port, dead], { healthCheck: CHECK }), group('down', [dead], { healthCheck: CHECK })],
    };
    lb = await startSwitchyard(config, { admin: true });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-explain-admin-'));
    file = join(dir, 'switchyard.json');
    await writeFile(file, JSON.stringify(config));
    // A target only the running instance knows about.
    const r = await request(lb.adminPort!, {
      method: 'POST',
      path: '/api/v1/target-groups/app/targets',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: b.port }),
    });
    assert.ok(r.status >= 200 && r.status < 300, r.text);
    const app = lb.sy.groups.get('app')!;
    await waitFor(
      () => [...app.targets.values()].map((t) => t.state).sort().join() === 'healthy,healthy,unhealthy',
      5000,
      'app: a and b healthy, the dead target unhealthy',
    );
    const down = lb.sy.groups.get('down')!;
    await waitFor(
      () => [...down.targets.values()].every((t) => t.state === 'unhealthy'),
      5000,
      'down: its only target unhealthy',
    );
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function explainJson(...args: string[]): Promise<ExplainReport> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runExplain([file, ...args, '--json'], (s) => out.push(s), (s) => err.push(s), {});
    assert.equal(code, 0, err.join('\n'));
    return JSON.parse(out.join('\n')) as ExplainReport;
  }

  function onlyGroup(r: ExplainReport): ExplainedGroup {
    assert.ok(r.action?.kind === 'forward');
    assert.equal(r.action.targetGroups.length, 1);
    return r.action.targetGroups[0]!;
  }

  const admin = (): string => `http://127.0.0.1:${lb.adminPort!}`;

  it('shows live states and reasons; only healthy targets are candidates', async () => {
    const r = await explainJson('GET http://app.example.com/x', '--admin', admin(), '--admin-token', TOKEN);
    assert.deepEqual(r.admin, { url: `${admin()}/api/v1/status`, ok: true, error: null });
    const g = onlyGroup(r);
    assert.equal(g.health, 'live');
    assert.equal(g.failOpen, false);
    const byId = new Map(g.targets.map((t) => [t.id, t]));
    assert.deepEqual(
      [...byId.keys()].sort(),
      [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, `127.0.0.1:${dead}`].sort(),
    );
    const ta = byId.get(`127.0.0.1:${a.port}`)!;
    const tb = byId.get(`127.0.0.1:${b.port}`)!;
    const td = byId.get(`127.0.0.1:${dead}`)!;
    assert.deepEqual([ta.state, ta.candidate, ta.share], ['healthy', true, 0.5]);
    assert.deepEqual([tb.state, tb.candidate, tb.share], ['healthy', true, 0.5]);
    assert.deepEqual([td.state, td.candidate, td.share], ['unhealthy', false, 0]);
    assert.match(td.reason ?? '', /ECONNREFUSED/);
  });

  it('prints the states in the human output', async () => {
    const out: string[] = [];
    const code = await runExplain([file, 'GET http://app.example.com/x', '--admin', admin(), '--admin-token', TOKEN], (s) => out.push(s), () => {}, {});
    assert.equal(code, 0);
    const text = out.join('\n');
    assert.match(text, /^admin {5}http:\/\/127\.0\.0\.1:\d+\/api\/v1\/status: live health$/m);
    assert.match(text, /^ {2}health {6}live$/m);
    assert.match(text, /^ {2}targets {5}2 of 3 are candidates:$/m);
    assert.match(text, new RegExp(`^ {4}✓ 127\\.0\\.0\\.1:${a.port} +weight {3}1 +50\\.0% {2}healthy`, 'm'));
    assert.match(text, new RegExp(`^ {4}✗ 127\\.0\\.0\\.1:${dead} +weight {3}1 +– {2}unhealthy \\(.*ECONNREFUSED.*\\)$`, 'm'));
  });

  it('a group with no healthy target is shown failing open', async () => {
    const r = await explainJson('GET http://app.example.com/down/1', '--admin', admin(), '--admin-token', TOKEN);
    assert.deepEqual(r.winner, { priority: 10, isDefault: false });
    const g = onlyGroup(r);
    assert.equal(g.name, 'down');
    assert.equal(g.failOpen, true);
    assert.deepEqual(g.targets.map((t) => [t.state, t.candidate, t.share]), [['unhealthy', true, 1]]);
  });

  it('without the token the admin API answers 401: health is unknown, explain still works', async () => {
    const r = await explainJson('GET http://app.example.com/x', '--admin', admin());
    assert.deepEqual(r.admin, { url: `${admin()}/api/v1/status`, ok: false, error: 'HTTP 401 (pass --admin-token)' });
    const g = onlyGroup(r);
    assert.equal(g.health, 'unknown');
    assert.deepEqual(g.targets.map((t) => t.state), [null, null]);
  });

  it('an unreachable admin API is reported, not fatal', async () => {
    const port = await refusedPort();
    const r = await explainJson('GET http://app.example.com/x', '--admin', `http://127.0.0.1:${port}/`);
    assert.equal(r.admin?.ok, false);
    assert.match(r.admin?.error ?? '', /ECONNREFUSED/);
    assert.equal(r.admin?.url, `http://127.0.0.1:${port}/api/v1/status`);
  });
});
