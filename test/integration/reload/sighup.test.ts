/**
 * SIGHUP reloads the config file of the running process (SPEC §1); an invalid file is rejected
 * with its errors on stderr and the running config stays.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, waitFor, RawClient } from '../harness/index.js';
import { spawnSwitchyard, type SwitchyardProcess } from '../harness/process.js';

const config = (body: string, extra = ''): string => `admin: { host: 127.0.0.1, port: 0 }
accessLog: { path: "off" }
listeners:
  - name: web
    protocol: HTTP
    host: 127.0.0.1
    port: 0
    defaultAction: { fixedResponse: { statusCode: 200, body: "${body}" } }
${extra}`;

describe('SIGHUP', () => {
  let dir: string;
  let child: SwitchyardProcess | null = null;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-sighup-'));
  });

  after(async () => {
    child?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('reloads the file; keeps connections; an invalid file leaves the running config', async () => {
    const file = join(dir, 'switchyard.yaml');
    await writeFile(file, config('one'));
    const c = spawnSwitchyard(['--config', file]);
    child = c;
    const port = Number((await c.line(/listening http 127\.0\.0\.1:(\d+)/))[1]);
    const admin = Number((await c.line(/admin http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const kept = await RawClient.connect(port);
    const get = async (): Promise<string> => {
      kept.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      return (await kept.readResponse()).body.toString();
    };
    assert.equal(await get(), 'one');

    await writeFile(file, config('two'));
    c.proc.kill('SIGHUP');
    await waitFor(async () => (await request(port, { path: '/' })).text === 'two', 5000, 'the new config');
    assert.equal(await get(), 'two', 'the same client connection sees the new config');

    await writeFile(file, config('three', 'targetGroups: [{ name: g, algorithm: fastest }]\n'));
    c.proc.kill('SIGHUP');
    await waitFor(() => /algorithm/.test(c.stderr()), 5000, 'the errors on stderr');
    assert.equal(await get(), 'two');
    assert.equal(c.proc.exitCode, null, 'still running');
    const metrics = (await request(admin, { path: '/metrics' })).text;
    assert.match(metrics, /^switchyard_reloads_total\{result="ok"\} 1$/m);
    assert.match(metrics, /^switchyard_reloads_total\{result="rejected"\} 1$/m);
    kept.destroy();
    c.proc.kill('SIGTERM');
    assert.deepEqual(await c.exited, { code: 0, signal: null });
  });
});
