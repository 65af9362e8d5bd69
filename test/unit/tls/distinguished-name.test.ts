import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distinguishedName } from '../../../src/tls/tls-terminator.js';

test('distinguishedName: RFC 4514 order (most specific first) and escaping', () => {
  assert.equal(distinguishedName({ C: 'NL', O: 'Acme', CN: 'client-1' }), 'CN=client-1,O=Acme,C=NL');
  assert.equal(distinguishedName({ O: 'Acme, Inc.', CN: 'a+b' }), 'CN=a\\+b,O=Acme\\, Inc.');
  assert.equal(distinguishedName({ CN: '#lead', OU: ' padded ' }), 'OU=\\ padded\\ ,CN=\\#lead');
  assert.equal(distinguishedName({ OU: ['one', 'two'], CN: 'x' }), 'CN=x,OU=two,OU=one');
  assert.equal(distinguishedName(undefined), '');
});
