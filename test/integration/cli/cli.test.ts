/**
 * The command line (SPEC §1) as a user runs it: a child process started on a config file,
 * serving until SIGTERM (exit 0); an invalid config (exit 1, errors on stderr); demo-backend.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpTarget, request, within, waitFor, type HttpTarget, type Echo } from '../harness/index.js';
import { CLI_MAIN } from '../harness/process.js';

const MAIN = CLI_MAIN;

interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stdout match of `re`. */
  line(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function run(args: string[], logLevel = 'warn'): Child {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SWITCHYARD_LOG_LEVEL: logLevel } });
  const child: Child = {
    proc,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal }))),
    line: (re, timeoutMs = 10_000) =>
      within(
        new Promise<RegExpMatchArray>((resolve, reject) => {
          const check = (): boolean => {
            const m = re.exec(child.stdout);
            if (m) resolve(m);
            return m !== null;
          };
          if (check()) return;
          proc.stdout!.on('data', check);
          proc.on('exit', () => {
            if (!check()) reject(new Error(`exited before ${re}; stdout: ${child.stdout} stderr: ${child.stderr}`));
          });
        }),
        timeoutMs,
        `stdout line ${re}`,
      ),
  };
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (child.stdout += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (child.stderr += s));
  return child;
}

describe('cli', () => {
  let dir: string;
  let target: HttpTarget;
  const children: Child[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
    target = await startHttpTarget('cli-target');
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await target?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs on a config file, serves, and exits 0 on SIGTERM', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(
      file,
      `admin: { host: 127.0.0.1, port: 0 }
accessLog: { path: "off" }
settings: { shutdownTimeoutSeconds: 5 }
listeners:
  - name: web
    protocol: HTTP
    host: 127.0.0.1
    port: 0
    defaultAction: { forward: { targetGroup: g } }
targetGroups:
  - name: g
    healthCheck: { enabled: false }
    targets: [{ host: 127.0.0.1, port: ${target.port} }]
`,
    );
    const c = run(['--config', file], 'info');
    children.push(c);
    const m = await c.line(/listening http 127\.0\.0\.1:(\d+)/);
    const admin = await c.line(/admin http:\/\/127\.0\.0\.1:(\d+)/);
    // The start-up log says which data path plain-HTTP listeners run on (docs/decisions/0017).
    await waitFor(() => /"dataPath":"\w+"/.test(c.stderr), 5000, 'the data-path line in the log');
    assert.equal(/"dataPath":"(\w+)"/.exec(c.stderr)![1], process.env['SWITCHYARD_NATIVE'] === 'off' ? 'typescript' : 'native');
    const port = Number(m[1]);
    const r = await request(port, { path: '/via-cli' });
    assert.equal(r.status, 200);
    assert.equal(r.json<Echo>().url, '/via-cli');
    assert.equal((await request(Number(admin[1]), { path: '/healthz' })).status, 200);
    // SIGHUP reloads the file.
    const text = (await import('node:fs')).readFileSync(file, 'utf8');
    await writeFile(file, text.replace('    defaultAction:', '    rules: [{ priority: 1, match: { path: ["/hup"] }, fixedResponse: { statusCode: 200, body: "reloaded" } }]\n    defaultAction:'));
    c.proc.kill('SIGHUP');
    await waitFor(async () => (await request(port, { path: '/hup' })).text === 'reloaded', 5000, 'config reloaded on SIGHUP');
    assert.equal((await request(port, { path: '/other' })).json<Echo>().url, '/other');
    c.proc.kill('SIGTERM');
    const exit = await within(c.exited, 10_000, 'exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, c.stderr);
  });

  it('writes the access log to stdout (the default): one JSON line per request, within the 1 s flush', async () => {
    const file = join(dir, 'stdout-log.yaml');
    await writeFile(
      file,
      `admin: { host: 127.0.0.1, port: 0 }
listeners:
  - { name: web, protocol: HTTP, host: 127.0.0.1, port: 0, defaultAction: { fixedResponse: { statusCode: 200, body: "ok" } } }
`,
    );
    const c = run(['--config', file]);
    children.push(c);
    const port = Number((await c.line(/listening http 127\.0\.0\.1:(\d+)/))[1]);
    for (const path of ['/first', '/caf%C3%A9']) assert.equal((await request(port, { path })).status, 200);
    const second = await c.line(/^\{.*"path":"\/caf%C3%A9".*\}$/m, 5000);
    const lines = c.stdout.split('\n').filter((l) => l.startsWith('{'));
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { path: string; status: number; listener: string }).path), ['/first', '/caf%C3%A9']);
    const rec = JSON.parse(second[0]) as { status: number; listener: string; method: string };
    assert.deepEqual([rec.status, rec.listener, rec.method], [200, 'web', 'GET']);
    c.proc.kill('SIGTERM');
    assert.equal((await within(c.exited, 10_000, 'exit after SIGTERM')).code, 0);
  });

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    let release: (() => void) | null = null;
    const held = await startHttpTarget('held', {
      handler: (req, res) => {
        if (req.url !== '/slow') {
          res.end('not held');
          return;
        }
        release = () => {
          res.writeHead(200, { 'content-length': '8' });
          res.end('finished');
        };
      },
    });
    try {
      const file = join(dir, 'drain.yaml');
      await writeFile(
        file,
        `admin: { port: 0 }
accessLog: { path: "off" }
settings: { shutdownTimeoutSeconds: 10 }
listeners:
  - { name: web, protocol: HTTP, host: 127.0.0.1, port: 0, defaultAction: { forward: { targetGroup: g } } }
targetGroups:
  - { name: g, healthCheck: { enabled: false }, targets: [{ host: 127.0.0.1, port: ${held.port} }] }
`,
      );
      const c = run(['--config', file]);
      children.push(c);
      const port = Number((await c.line(/listening http 127\.0\.0\.1:(\d+)/))[1]);
      const inflight = request(port, { path: '/slow' });
      await waitFor(() => release !== null, 5000, 'request at the target');
      c.proc.kill('SIGTERM');
      // The listener stops accepting while the in-flight request is still open.
      await waitFor(() => request(port, { path: '/new', timeoutMs: 1000 }).then(() => false, () => true), 5000, 'listener closed');
      assert.equal(c.proc.exitCode, null, 'still running while a request is in flight');
      release!();
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.text, 'finished');
      assert.deepEqual(await within(c.exited, 10_000, 'exit after drain'), { code: 0, signal: null });
    } finally {
      await held.close();
    }
  });

  it('`run --config` is the same command', async () => {
    const file = join(dir, 'run.json');
    await writeFile(
      file,
      JSON.stringify({
        admin: { port: 0 },
        accessLog: { path: 'off' },
        listeners: [{ name: 'web', protocol: 'HTTP', host: '127.0.0.1', port: 0, defaultAction: { fixedResponse: { statusCode: 200, body: 'json config' } } }],
      }),
    );
    const c = run(['run', '--config', file]);
    children.push(c);
    const port = Number((await c.line(/listening http 127\.0\.0\.1:(\d+)/))[1]);
    assert.equal((await request(port)).text, 'json config');
    c.proc.kill('SIGTERM');
    assert.equal((await within(c.exited, 10_000)).code, 0);
  });

  it('an invalid config exits 1 with the errors on stderr', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      `listeners:
  - name: web
    protocol: HTTP
    port: 0
    portt: 1
    defaultAction: { forward: { targetGroup: missing } }
`,
    );
    const c = run(['--config', file]);
    children.push(c);
    const exit = await within(c.exited, 10_000, 'exit on invalid config');
    assert.equal(exit.code, 1);
    assert.match(c.stderr, /bad\.yaml:\d+:\d+/);
    assert.match(c.stderr, /portt/);
    assert.match(c.stderr, /missing/);
    assert.doesNotMatch(c.stdout, /listening/);
  });

  it('demo-backend --port 0 answers JSON describing the request', async () => {
    const c = run(['demo-backend', '--port', '0', '--name', 'demo-1']);
    children.push(c);
    const port = Number((await c.line(/listening http 127\.0\.0\.1:(\d+)/))[1]);
    assert.ok(port > 0);
    const r = await request(port, { method: 'POST', path: '/some/path?a=1&b=two', headers: { 'x-test': 'yes' }, body: 'twelve bytes' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const j = r.json<{ name: string; method: string; path: string; query: Record<string, string>; headers: Record<string, string>; bodyLength: number }>();
    assert.deepEqual(Object.keys(j).sort(), ['bodyLength', 'headers', 'method', 'name', 'path', 'query']);
    assert.equal(j.name, 'demo-1');
    assert.equal(j.method, 'POST');
    assert.equal(j.path, '/some/path');
    assert.deepEqual(j.query, { a: '1', b: 'two' });
    assert.equal(j.headers['x-test'], 'yes');
    assert.equal(j.bodyLength, 12);
    assert.equal((await request(port, { path: '/health' })).status, 200);
    c.proc.kill('SIGTERM');
    assert.equal((await within(c.exited, 10_000)).code, 0);
  });
});

describe('the launcher line', () => {
  it('starts Node with a 2 MiB young generation (0014), a 32 MB old-generation floor and no memory reducer (0016), as the benchmark reads it', async () => {
    const { readFile } = await import('node:fs/promises');
    const first = (await readFile(MAIN, 'latin1')).split('\n', 1)[0]!;
    // The same extraction bench/macro/switchyard-peer.sh makes.
    const m = /^#!.*[/ ]node\b(.*)$/.exec(first);
    assert.ok(m, `no node launcher line: ${first}`);
    const flags = m[1]!.trim().split(/\s+/).filter((f) => f !== '');
    assert.deepEqual(flags, ['--max-semi-space-size=2', '--initial-old-space-size=32', '--no-memory-reducer']);
    // The flag does what the decision says: V8's new space stays small (its default is 32 MiB here).
    const probe = spawn(process.execPath, [...flags, '-e', `
      let keep = [];
      for (let i = 0; i < 1e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
      const ns = require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      console.log(ns.space_size);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    probe.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await within(new Promise<number | null>((resolve) => probe.on('exit', resolve)), 20_000, 'the probe process');
    assert.equal(code, 0);
    const newSpace = Number(out.trim());
    assert.ok(newSpace > 0 && newSpace <= 6 * 1024 * 1024, `new space ${newSpace} bytes, expected <= 6 MiB`);
  });
});
