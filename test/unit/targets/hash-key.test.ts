/**
 * Tests for src/targets/hash-key.ts: `hashOn` compiles to the right source, and the key read
 * from a RequestView is the client address, the header's first value, the cookie's value or
 * the normalised path ('' when the header or cookie is absent).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHashOn, describeHashOn, hashKeyOf } from '../../../src/targets/hash-key.js';
import { RequestView } from '../../../src/router/request-view.js';

const view = new RequestView(
  'GET',
  'example.com',
  '/a/b',
  'x=1',
  ['X-User-Id', 'u-42', 'x-user-id', 'u-43', 'Cookie', 'session=s1; other=2', 'Cookie', 'session=s2'],
  '203.0.113.9',
);

describe('hash keys', () => {
  it('sourceIp: the socket address', () => {
    const on = compileHashOn({ sourceIp: true })!;
    assert.equal(hashKeyOf(on, view), '203.0.113.9');
    assert.equal(describeHashOn(on), 'sourceIp');
  });

  it('header: the first value, name case-insensitive', () => {
    const on = compileHashOn({ header: 'X-USER-ID' })!;
    assert.equal(hashKeyOf(on, view), 'u-42');
    assert.equal(describeHashOn(on), 'header X-USER-ID');
    assert.equal(hashKeyOf(compileHashOn({ header: 'X-Absent' })!, view), '');
  });

  it('cookie: the first cookie of that name, name case-sensitive', () => {
    assert.equal(hashKeyOf(compileHashOn({ cookie: 'session' })!, view), 's1');
    assert.equal(hashKeyOf(compileHashOn({ cookie: 'Session' })!, view), '');
  });

  it('path: the normalised path without query', () => {
    assert.equal(hashKeyOf(compileHashOn({ path: true })!, view), '/a/b');
  });

  it('no hashOn compiles to null', () => {
    assert.equal(compileHashOn(null), null);
  });
});
