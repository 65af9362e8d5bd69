/**
 * Tests for src/cli/explain.ts (`switchyard explain`) on test/fixtures/configs/valid/explain.yaml:
 * the reasons each rule failed, the winner, the default action, the group draw, the hash key,
 * listener choice, `--json`, exit codes, that no health probe is started, and one real spawn
 * of the built CLI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { runExplain, type ExplainReport } from '../../../src/cli/explain.js';
import { HealthChecker } from '../../../src/targets/health/checker.js';
import { CLI_MAIN } from '../../integration/harness/process.js';

// This file runs from dist/test/unit/cli/; fixtures are not compiled, so read the sources.
const FIXTURE = fileURLToPath(new URL('../../../../test/fixtures/configs/valid/explain.yaml', import.meta.url));
const MAIN = CLI_MAIN;

const dir = mkdtempSync(join(tmpdir(), 'switchyard-explain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[]; text: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExplain(argv, (s) => out.push(s), (s) => err.push(s), {});
  return { code, out, err, text: out.join('\n') };
}

async function report(...args: string[]): Promise<ExplainReport> {
  const r = await run([FIXTURE, ...args, '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  return JSON.parse(r.text) as ExplainReport;
}

describe('switchyard explain', () => {
  it('says why earlier rules failed and which rule wins', async () => {
    const r = await run([FIXTURE, 'GET http://api.example.com:8080/img/a.jpg?x=1']);
    assert.equal(r.code, 0);
    assert.deepEqual(r.err, []);
    const text = r.text;
    assert.match(text, /^listener {2}web · HTTP 0\.0\.0\.0:8080 \(the URL's port\)$/m);
    assert.match(text, /^ {2}✗ rule 10$/m);
    assert.match(text, /^ {6}✓ host {4}host api\.example\.com matches api\.example\.com$/m);
    assert.match(text, /^ {6}✗ path {4}path is case-sensitive: \/Img\/\* does not match \/img\/a\.jpg$/m);
    assert.match(text, /^ {2}✓ rule 20 {2}← matches$/m);
    assert.match(text, /^ {2}\(3 later rules not evaluated\)$/m);
    assert.match(text, /^action {4}forward \(rule 20\)$/m);
    assert.match(text, /^ {2}path to target {2}\/a\.jpg$/m);
    assert.match(text, /^ {2}group draw {6}images {2}weight {2}90 {2}90\.0%$/m);
    assert.match(text, /^ {18}spare {3}weight {3}0 {2}0\.0% {2}\(never drawn\)$/m);
    assert.match(text, /^ {2}stickiness {6}not configured$/m);
    assert.match(text, /^target group images · round_robin: each candidate in turn, interleaved by weight$/m);
    assert.match(text, /^ {4}✓ 127\.0\.0\.1:9002 {2}weight {3}3 {3}75\.0%$/m);
    assert.match(text, /health {6}unknown \(no --admin\)/);
  });

  it('reports the default action when no rule matches', async () => {
    const r = await run([FIXTURE, 'POST http://api.example.com:8080/nothing']);
    assert.equal(r.code, 0);
    assert.match(r.text, /^ {6}✗ method {4}method POST is not GET$/m);
    assert.match(r.text, /^ {6}✗ header {4}header x-user-id is absent$/m);
    assert.match(r.text, /^ {6}✗ cookie {4}cookie tier is absent$/m);
    assert.match(r.text, /^ {2}no rule matched: the default action runs$/m);
    assert.match(r.text, /^action {4}fixedResponse \(default action\): 404 text\/plain "no route"$/m);
    const j = await report('POST http://api.example.com:8080/nothing');
    assert.deepEqual(j.winner, { priority: 0, isDefault: true });
    assert.deepEqual(j.action, { kind: 'fixedResponse', statusCode: 404, contentType: 'text/plain', body: 'no route' });
    assert.deepEqual(j.rules.map((x) => [x.priority, x.matched]), [[10, false], [20, false], [30, false], [40, false], [50, false]]);
  });

  it('--json prints the whole trace', async () => {
    const j = await report('GET http://api.example.com:8080/img/a.jpg?x=1', '-H', 'X-User-Id: u-42');
    assert.deepEqual(Object.keys(j).sort(), ['action', 'admin', 'file', 'listener', 'notEvaluated', 'refused', 'request', 'rules', 'winner']);
    assert.deepEqual(j.listener, { name: 'web', protocol: 'HTTP', host: '0.0.0.0', port: 8080, selectedBy: 'port' });
    assert.deepEqual(j.request.headers, [['Host', 'api.example.com:8080'], ['X-User-Id', 'u-42']]);
    assert.equal(j.request.path, '/img/a.jpg');
    assert.equal(j.request.query, 'x=1');
    assert.deepEqual(j.rules[0], {
      priority: 10,
      conditions: [
        { kind: 'host', description: 'host is api.example.com', ok: true, reason: 'host api.example.com matches api.example.com' },
        { kind: 'path', description: 'path is /Img/*', ok: false, reason: 'path is case-sensitive: /Img/* does not match /img/a.jpg' },
      ],
      matched: false,
      winner: false,
    });
    assert.deepEqual(j.winner, { priority: 20, isDefault: false });
    assert.equal(j.notEvaluated, 3);
    assert.equal(j.refused, null);
    assert.equal(j.admin, null);
    assert.ok(j.action?.kind === 'forward');
    assert.equal(j.action.path, '/a.jpg');
    assert.deepEqual(j.action.groups, [
      { name: 'images', weight: 90, share: 0.9 },
      { name: 'users', weight: 10, share: 0.1 },
      { name: 'spare', weight: 0, share: 0 },
    ]);
    assert.deepEqual(j.action.targetGroups.map((g) => g.name), ['images', 'users']);
    const images = j.action.targetGroups[0]!;
    assert.equal(images.health, 'unknown');
    assert.deepEqual(images.targets, [
      { id: '127.0.0.1:9001', weight: 1, state: null, reason: null, inFlight: null, candidate: true, share: 0.25 },
      { id: '127.0.0.1:9002', weight: 3, state: null, reason: null, inFlight: null, candidate: true, share: 0.75 },
    ]);
    const users = j.action.targetGroups[1]!;
    assert.equal(users.hashOn, 'header X-User-Id');
    assert.equal(users.hashKey, 'u-42');
    assert.match(users.pick ?? '', /^127\.0\.0\.1:901[123]$/);
  });

  it('shows the hash key and the target it maps to, the same every time', async () => {
    const args = ['GET http://x.example.com:8080/profile', '-H', 'X-User-Id: u-7', '--source-ip', '10.1.2.3'];
    const j = await report(...args);
    assert.deepEqual(j.winner, { priority: 40, isDefault: false });
    assert.ok(j.action?.kind === 'forward');
    const g = j.action.targetGroups[0]!;
    assert.equal(g.algorithm, 'consistent_hash');
    assert.equal(g.hashKey, 'u-7');
    const again = await report(...args);
    assert.ok(again.action?.kind === 'forward');
    assert.equal(again.action.targetGroups[0]!.pick, g.pick);
    // Different users spread over the targets.
    const picks = new Set<string | null>();
    for (let u = 0; u < 30; u++) {
      const k = await report('GET http://x.example.com:8080/p', '-H', `X-User-Id: user-${u}`, '--source-ip', '10.0.0.9');
      assert.ok(k.action?.kind === 'forward');
      picks.add(k.action.targetGroups[0]!.pick);
    }
    assert.equal(picks.size, 3);
    const r = await run([FIXTURE, ...args]);
    assert.match(r.text, new RegExp(`^ {2}hash key {4}header X-User-Id = "u-7" → ${g.pick!.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.text, /← picked$/m);
  });

  it('uses the source address and cookies given', async () => {
    const noIp = await run([FIXTURE, 'GET http://x.example.com:8080/p', '-H', 'X-User-Id: u-7']);
    assert.match(noIp.text, /^ {6}✗ sourceIp {2}source IP 127\.0\.0\.1 is not in 10\.0\.0\.0\/8$/m);
    const gold = await report('GET http://x.example.com:8080/p', '--cookie', 'theme=dark', '--cookie', 'tier=gold');
    assert.deepEqual(gold.winner, { priority: 50, isDefault: false });
    assert.deepEqual(gold.request.headers.at(-1), ['Cookie', 'theme=dark; tier=gold']);
    assert.ok(gold.action?.kind === 'forward');
    const spare = gold.action.targetGroups[0]!;
    assert.equal(spare.algorithm, 'power_of_two');
    assert.equal(spare.hashKey, null);
    // The weight-0 target is not a candidate.
    assert.deepEqual(spare.targets.map((t) => [t.id, t.candidate, t.share]), [
      ['127.0.0.1:9021', true, 1],
      ['127.0.0.1:9022', false, 0],
    ]);
  });

  it('renders a redirect, and a refused path', async () => {
    const r = await run([FIXTURE, 'http://a.example.com:8080/old/x?y=2']);
    assert.match(r.text, /^action {4}redirect \(rule 30\): 301 → https:\/\/a\.example\.com\/new\/old\/x\?y=2$/m);
    const bad = await report('GET http://a.example.com:8080/%2e%2e/etc');
    assert.equal(bad.refused?.status, 400);
    assert.deepEqual(bad.rules, []);
    assert.equal(bad.winner, null);
  });

  it('chooses the listener by port, else the first HTTP listener', async () => {
    const other = await report('GET http://a.example.com:8081/');
    assert.equal(other.listener.name, 'admin-site');
    assert.equal(other.listener.selectedBy, 'port');
    const none = await report('GET http://a.example.com:9999/');
    assert.equal(none.listener.name, 'web');
    assert.equal(none.listener.selectedBy, 'first HTTP listener');
    // A path with -H Host, and a bare URL meaning GET.
    const path = await report('/img/b.png', '-H', 'Host: api.example.com');
    assert.equal(path.request.method, 'GET');
    assert.equal(path.request.host, 'api.example.com');
    assert.deepEqual(path.winner, { priority: 20, isDefault: false });
  });

  it('exits 2 for usage errors and 1 for an invalid config', async () => {
    for (const argv of [
      [FIXTURE],
      [],
      [FIXTURE, 'GET http://a/ extra'],
      [FIXTURE, 'G@T http://a/'],
      [FIXTURE, 'GET ftp://a/'],
      [FIXTURE, 'GET /no-host'],
      [FIXTURE, 'GET http://a/', '-H', 'no colon'],
      [FIXTURE, 'GET http://a/', '--source-ip', '10.0.0.300'],
      [FIXTURE, 'GET http://a/', '--cookie', 'novalue'],
      [FIXTURE, 'GET http://a/', '--bogus', 'x'],
      [FIXTURE, 'GET http://a/', '--admin', 'localhost:9090'],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${JSON.stringify(argv)}: ${r.err.join(' | ')}`);
      assert.match(r.err.join('\n'), /usage: switchyard explain FILE/);
    }
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'listeners:\n  - name: web\n    protocol: HTTQ\n    port: 1\n    defaultAction: { fixedResponse: { statusCode: 200 } }\n');
    const r = await run([bad, 'GET http://a/']);
    assert.equal(r.code, 1);
    assert.match(r.err.join('\n'), /bad\.yaml:3:15 \/listeners\/0\/protocol: .*\n.*bad\.yaml: 1 error$/);
    const missing = await run([join(dir, 'nope.yaml'), 'GET http://a/']);
    assert.equal(missing.code, 1);
  });

  it('starts no health checker and leaves no timer or socket behind', async (t) => {
    // Every group of the fixture has health checks enabled (the default).
    let started = 0;
    const original = HealthChecker.prototype.start;
    t.mock.method(HealthChecker.prototype, 'start', function (this: HealthChecker) {
      started++;
      original.call(this);
    });
    const handles = (): string[] =>
      process.getActiveResourcesInfo().filter((x) => x === 'Timeout' || x.startsWith('TCP')).sort();
    const before = handles();
    const j = await report('GET http://api.example.com:8080/img/a.jpg', '-H', 'X-User-Id: u-1');
    assert.equal(j.winner?.priority, 20);
    assert.equal(started, 0);
    assert.deepEqual(handles(), before);
  });

  it('the built CLI runs explain and exits 0 promptly', async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [MAIN, 'explain', FIXTURE, 'GET http://api.example.com:8080/Img/a.jpg'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^ {2}✓ rule 10 {2}← matches$/m);
    assert.match(stdout, /^ {6}✓ path {2}path \/Img\/a\.jpg matches \/Img\/\*$/m);
    assert.match(stdout, /^target group images · round_robin/m);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const usage = spawn(process.execPath, [MAIN, 'explain', FIXTURE], { stdio: 'ignore' });
    assert.equal(await new Promise<number | null>((resolve) => usage.on('exit', (c) => resolve(c))), 2);
  });
});
