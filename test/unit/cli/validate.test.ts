/**
 * Tests for src/cli/validate.ts (`switchyard validate FILE`): exit codes, where output goes, and
 * the message for a file that does not exist.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runValidate } from '../../../src/cli/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runValidate(argv, (s) => out.push(s), (s) => err.push(s), env);
  return { code, out, err };
}

const VALID = `listeners:
  - name: web
    protocol: HTTP
    port: \${PORT:-8080}
    defaultAction: { forward: { targetGroup: app } }
  - name: db
    protocol: TCP
    port: 5432
    defaultAction: { forward: { targetGroup: pg } }
targetGroups:
  - { name: app }
  - { name: pg, protocol: TCP }
`;

test('a valid file exits 0 with a summary on stdout', async () => {
  const path = file('ok.yaml', VALID);
  const r = await run([path]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.out, [`${path}: valid (2 listeners, 2 target groups)`]);
  assert.deepEqual(r.err, []);
});

test('an invalid file exits 1 with every error on stderr', async () => {
  const path = file('bad.yaml', VALID.replace('protocol: HTTP', 'protocol: HTTQ').replace('targetGroup: pg', 'targetGroup: pgg'));
  const r = await run([path]);
  assert.equal(r.code, 1);
  assert.deepEqual(r.out, []);
  assert.deepEqual(r.err, [
    `${path}:3:15 /listeners/0/protocol: "HTTQ" is not one of the allowed values; did you mean "HTTP"? (expected: one of: HTTP, HTTPS, TCP, UDP)`,
    `${path}:9:46 /listeners/1/defaultAction/forward/targetGroup: unknown target group "pgg"; did you mean "pg"? (expected: the name of a target group defined under targetGroups)`,
    `${path}: 2 errors`,
  ]);
});

test('the environment is used for substitution', async () => {
  const path = file('env.yaml', VALID.replace('${PORT:-8080}', '${PORT}'));
  assert.equal((await run([path], { PORT: '80' })).code, 0);
  const r = await run([path], {});
  assert.equal(r.code, 1);
  assert.match(r.err[0]!, /:4:11 \/listeners\/0\/port: environment variable PORT is not set/);
});

test('a missing file is a clear error and exits 1', async () => {
  const path = join(dir, 'nope.yaml');
  const r = await run([path]);
  assert.equal(r.code, 1);
  assert.match(r.err[0]!, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read file: ENOENT`));
});

test('usage errors exit 1', async () => {
  assert.equal((await run([])).code, 1);
  assert.equal((await run(['a.yaml', 'b.yaml'])).code, 1);
  const r = await run(['--strict', 'a.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.err[0]!, /unknown option --strict/);
  assert.equal((await run(['--help'])).code, 0);
});
