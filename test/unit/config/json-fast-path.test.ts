import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';

const valid = {
  listeners: [{ name: 'web', protocol: 'HTTP', port: 8080, defaultAction: { fixedResponse: { statusCode: 200, body: 'ok' } } }],
};

test('a valid JSON document loads (fast path)', () => {
  const r = parseConfigText(JSON.stringify(valid, null, 2), 'c.json', {});
  assert.equal(r.ok, true);
});

test('an invalid JSON document still gets positioned errors (full path)', () => {
  const bad = JSON.stringify({ ...valid, listeners: [{ ...valid.listeners[0], port: 70000 }] }, null, 2);
  const r = parseConfigText(bad, 'c.json', {});
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.ok(r.errors.length > 0);
  assert.ok(r.errors[0]!.line > 0, 'errors carry a line');
  assert.match(r.errors[0]!.path, /port/);
});

test('a JSON document with a key written twice is an error, not last-one-wins', () => {
  const text = '{"listeners": [], "listeners": ' + JSON.stringify(valid.listeners) + '}';
  const r = parseConfigText(text, 'c.json', {});
  assert.equal(r.ok, false);
});

test('JSON with ${…} goes through substitution', () => {
  const text = JSON.stringify(valid).replace('8080', '"${PORT:-9000}"');
  const r = parseConfigText(text, 'c.json', {});
  assert.equal(r.ok, true);
  if (r.ok) assert.equal(r.config.listeners[0]!.port, 9000);
});

test('a string value containing an escaped quote and colon does not confuse the key count', () => {
  const cfg = { ...valid, listeners: [{ ...valid.listeners[0], defaultAction: { fixedResponse: { statusCode: 200, body: 'a": "b' } } }] };
  const r = parseConfigText(JSON.stringify(cfg), 'c.json', {});
  assert.equal(r.ok, true);
});
