import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SecureContext } from 'node:tls';
import { SniIndex } from '../../../src/tls/sni-index.js';
import type { LoadedCertificate } from '../../../src/tls/certificates.js';

/** A stand-in certificate: the index only reads names and compares contexts by identity. */
function cert(id: string, names: string[]): LoadedCertificate {
  return { certFile: id, keyFile: id, names, context: { id } as unknown as SecureContext, contextOptions: {}, validTo: '' };
}

const DEFAULT = cert('default', ['default.test']);
const A = cert('a', ['a.test', '*.a.test']);
const WILD_B = cert('wild-b', ['*.b.test']);
const EXACT_WWW_B = cert('www-b', ['www.b.test']);

function idOf(ctx: SecureContext): string {
  return (ctx as unknown as { id: string }).id;
}

test('the first certificate is the default: no SNI, and names nothing covers', () => {
  const idx = new SniIndex([DEFAULT, A]);
  assert.equal(idOf(idx.lookup(undefined)), 'default');
  assert.equal(idOf(idx.lookup('')), 'default');
  assert.equal(idOf(idx.lookup('unknown.test')), 'default');
  assert.equal(idx.defaultCertificate, DEFAULT);
});

test('exact names, any case, one trailing dot', () => {
  const idx = new SniIndex([DEFAULT, A]);
  assert.equal(idOf(idx.lookup('a.test')), 'a');
  assert.equal(idOf(idx.lookup('A.TEST')), 'a');
  assert.equal(idOf(idx.lookup('a.test.')), 'a');
  assert.equal(idOf(idx.lookup('default.test')), 'default');
});

test('a wildcard covers exactly one label', () => {
  const idx = new SniIndex([DEFAULT, A]);
  assert.equal(idOf(idx.lookup('x.a.test')), 'a');
  assert.equal(idOf(idx.lookup('X-1.A.Test')), 'a');
  assert.equal(idOf(idx.lookup('y.x.a.test')), 'default');
  assert.equal(idOf(idx.lookup('xa.test')), 'default');
  assert.equal(idOf(idx.lookup('.a.test')), 'default');
});

test('an exact name wins over a wildcard, whatever the order', () => {
  for (const order of [[DEFAULT, WILD_B, EXACT_WWW_B], [DEFAULT, EXACT_WWW_B, WILD_B]]) {
    const idx = new SniIndex(order);
    assert.equal(idOf(idx.lookup('www.b.test')), 'www-b');
    assert.equal(idOf(idx.lookup('api.b.test')), 'wild-b');
  }
});

test('when two certificates cover one name, the earlier wins', () => {
  const first = cert('first', ['same.test', '*.same.test']);
  const second = cert('second', ['same.test', '*.same.test']);
  const idx = new SniIndex([DEFAULT, first, second]);
  assert.equal(idOf(idx.lookup('same.test')), 'first');
  assert.equal(idOf(idx.lookup('x.same.test')), 'first');
});

test('an empty certificate list is refused', () => {
  assert.throws(() => new SniIndex([]), /at least one certificate/);
});
