/**
 * Graceful shutdown of the real process (SPEC §1): on SIGTERM/SIGINT Switchyard stops
 * accepting (new connections are refused), closes idle keep-alive connections at once, lets
 * in-flight requests finish for up to settings.shutdownTimeoutSeconds, cuts what is left after
 * that, and exits 0.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpTarget, request, waitFor, within, RawClient, type HttpTarget } from '../harness/index.js';
import { spawnSwitchyard, connectionRefused, type SwitchyardProcess } from '../harness/process.js';

describe('graceful shutdown', () => {
  let dir: string;
  let target: HttpTarget;
  let arrived = 0;
  const children: SwitchyardProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-shutdown-'));
    // /fast answers at once, /slow after 1 s, /hang never.
    target = await startHttpTarget('t', {
      handler: (req, res) => {
        arrived++;
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
          res.end('done');
        };
        if (req.url === '/slow') setTimeout(answer, 1000);
        else if (req.url !== '/hang') answer();
      },
    });
  });

  after(async () => {
    for (const c of children) c.kill();
    await target?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(name: string, shutdownTimeoutSeconds: number): Promise<{ c: SwitchyardProcess; port: number }> {
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      `admin: { host: 127.0.0.1, port: 0 }
accessLog: { path: "off" }
settings: { shutdownTimeoutSeconds: ${shutdownTimeoutSeconds} }
listeners:
  - { name: web, protocol: HTTP, host: 127.0.0.1, port: 0, defaultAction: { forward: { targetGroup: g } } }
targetGroups:
  - { name: g, healthCheck: { enabled: false }, targets: [{ host: 127.0.0.1, port: ${target.port} }] }
`,
    );
    const c = spawnSwitchyard(['--config', file]);
    children.push(c);
    const port = Number((await c.line(/listening http 127\.0\.0\.1:(\d+)/))[1]);
    await c.line(/admin http:\/\/127\.0\.0\.1:\d+/);
    return { c, port };
  }

  it('SIGTERM: a slow request in flight completes with 200, new connections are refused, idle ones closed, exit 0', async () => {
    const { c, port } = await start('term', 10);
    // An idle keep-alive connection: one request answered, connection kept open.
    const idle = await RawClient.connect(port);
    idle.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await idle.readResponse()).status, 200);

    const seen = arrived;
    let slowDone = false;
    const slow = request(port, { path: '/slow', timeoutMs: 10_000 }).finally(() => (slowDone = true));
    await waitFor(() => arrived > seen, 5000, 'slow request at the target');
    const signalled = Date.now();
    c.proc.kill('SIGTERM');

    await idle.waitClosed(1000);
    await waitFor(() => connectionRefused(port), 2000, 'new connections refused');
    assert.equal(slowDone, false, 'the listener closed while the slow request was still in flight');
    assert.equal(c.proc.exitCode, null, 'still running while a request is in flight');

    const r = await slow;
    assert.equal(r.status, 200);
    assert.equal(r.text, 'done');
    const exit = await within(c.exited, 5000, 'exit after the last request');
    assert.deepEqual(exit, { code: 0, signal: null }, c.stderr());
    assert.ok(Date.now() - signalled >= 800, 'the process waited for the request');
  });

  it('a request still running at shutdownTimeoutSeconds is cut, and the exit is still 0', async () => {
    const { c, port } = await start('timeout', 1);
    const seen = arrived;
    const hanging = request(port, { path: '/hang', timeoutMs: 10_000 }).then(
      () => 'answered',
      () => 'cut',
    );
    await waitFor(() => arrived > seen, 5000, 'request at the target');
    const signalled = Date.now();
    c.proc.kill('SIGTERM');
    assert.equal(await hanging, 'cut');
    const exit = await within(c.exited, 5000, 'exit after the shutdown timeout');
    const elapsed = Date.now() - signalled;
    assert.deepEqual(exit, { code: 0, signal: null }, c.stderr());
    assert.ok(elapsed >= 900, `cut after the timeout, not before (${elapsed} ms)`);
    assert.ok(elapsed < 4000, `but not much later (${elapsed} ms)`);
  });

  it('SIGINT stops the same way', async () => {
    const { c, port } = await start('int', 5);
    assert.equal((await request(port, { path: '/fast' })).status, 200);
    c.proc.kill('SIGINT');
    assert.deepEqual(await within(c.exited, 5000, 'exit after SIGINT'), { code: 0, signal: null }, c.stderr());
    assert.equal(await connectionRefused(port), true);
  });
});
