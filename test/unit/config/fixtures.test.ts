/**
 * Golden tests over test/fixtures/configs: every file in valid/ passes `switchyard validate`,
 * and every file in invalid/ fails with exactly the lines of its `<name>.errors.txt`.
 * Regenerate the golden files with `UPDATE_GOLDEN=1 node --test dist/test/unit/config/`
 * and review the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { runValidate } from '../../../src/cli/validate.js';

// This file runs from dist/test/unit/config/; the fixtures are not compiled, so read the sources.
const root = new URL('../../../../test/fixtures/configs/', import.meta.url);
const configFile = /\.(ya?ml|json)$/;

async function validate(dir: string, name: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const dirPath = fileURLToPath(new URL(`${dir}/`, root));
  const out: string[] = [];
  const err: string[] = [];
  // An empty environment keeps the fixtures hermetic: ${VAR:-default} takes its default.
  const code = await runValidate([dirPath + name], (s) => out.push(s), (s) => err.push(s), {});
  const strip = (s: string) => s.split(dirPath).join('');
  return { code, out: out.map(strip), err: err.map(strip) };
}

function list(dir: string): string[] {
  return readdirSync(new URL(`${dir}/`, root)).filter((f) => configFile.test(f)).sort();
}

describe('valid fixtures', () => {
  const files = list('valid');
  test('there are valid fixtures', () => assert.ok(files.length >= 3));
  for (const name of files) {
    test(name, async () => {
      const r = await validate('valid', name);
      assert.deepEqual(r.err, []);
      assert.equal(r.code, 0);
      assert.match(r.out.join('\n'), new RegExp(`^${name.replace(/\./g, '\\.')}: valid \\(\\d+ listeners?, \\d+ target groups?\\)$`));
    });
  }
});

describe('invalid fixtures match their golden errors', () => {
  const files = list('invalid');
  test('there are invalid fixtures', () => assert.ok(files.length >= 5));
  for (const name of files) {
    test(name, async () => {
      const r = await validate('invalid', name);
      assert.equal(r.code, 1);
      assert.deepEqual(r.out, []);
      const actual = `${r.err.join('\n')}\n`;
      const golden = new URL(`invalid/${name.replace(configFile, '')}.errors.txt`, root);
      if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, actual);
      assert.ok(existsSync(golden), `missing golden file ${fileURLToPath(golden)} (run with UPDATE_GOLDEN=1)`);
      assert.equal(actual, readFileSync(golden, 'utf8'));
    });
  }
});
