/** Tests for src/config/errors.ts: the one-line rendering and the exception form. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigLoadError, compareConfigErrors, formatConfigError, type ConfigError } from '../../../src/config/errors.js';

const priority: ConfigError = {
  path: '/listeners/0/rules/1/priority',
  line: 12,
  column: 9,
  expected: 'integer 1–50000',
  message: 'must be <= 50000',
};

test('formats file:line:column path: message (expected: …)', () => {
  assert.equal(
    formatConfigError('config.yaml', priority),
    'config.yaml:12:9 /listeners/0/rules/1/priority: must be <= 50000 (expected: integer 1–50000)',
  );
});

test('leaves out an unknown position, an empty path and an empty expectation', () => {
  assert.equal(
    formatConfigError('x.yaml', { path: '', line: 0, column: 0, expected: '', message: 'cannot read file: ENOENT' }),
    'x.yaml: cannot read file: ENOENT',
  );
  assert.equal(
    formatConfigError('x.yaml', { path: '', line: 3, column: 1, expected: 'valid YAML', message: 'bad indent' }),
    'x.yaml:3:1: bad indent (expected: valid YAML)',
  );
});

test('orders by line, then column, then path', () => {
  const a = { ...priority, line: 2, column: 5 };
  const b = { ...priority, line: 2, column: 1 };
  const c = { ...priority, line: 1, column: 9 };
  assert.deepEqual([a, b, c].sort(compareConfigErrors), [c, b, a]);
});

test('ConfigLoadError carries every error and summarises the first', () => {
  const err = new ConfigLoadError([priority, { ...priority, line: 13 }], 'config.yaml');
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'ConfigLoadError');
  assert.equal(err.code, 'SY_ERR_CONFIG_INVALID');
  assert.equal(err.errors.length, 2);
  assert.equal(err.message, `${formatConfigError('config.yaml', priority)} (and 1 more)`);
});
