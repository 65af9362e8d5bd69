import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CIPHER_POLICIES, DEFAULT_CIPHER_POLICY, certificateNames, loadCertificate, resolveTlsPath } from '../../../src/tls/certificates.js';
import type { ResolvedTls } from '../../../src/config/defaults.js';
import { CertDir, type CertFiles } from '../../integration/harness/certs.js';

const TLS: ResolvedTls = {
  minVersion: 'TLSv1.2',
  alpn: ['h2', 'http/1.1'],
  clientCa: null,
  clientCertMode: 'verify',
  policy: null,
  handshakeTimeoutSeconds: 10,
};

let dir: CertDir;
let withSans: CertFiles;
let cnOnly: CertFiles;
let other: CertFiles;

before(() => {
  dir = new CertDir();
  withSans = dir.selfSigned('sans', { cn: 'ignored.test', sans: ['DNS:A.test', 'DNS:*.a.test', 'IP:127.0.0.1'] });
  cnOnly = dir.selfSigned('cn', { cn: 'Only.CN.test', subjectPrefix: '/O=Acme' });
  other = dir.selfSigned('other', { cn: 'other.test', sans: ['DNS:other.test'] });
});

after(() => dir.remove());

test('certificateNames: DNS SANs lowercased, IP SANs ignored, CN not used when a SAN exists', () => {
  assert.deepEqual(certificateNames(new X509Certificate(withSans.cert)), ['a.test', '*.a.test']);
});

test('certificateNames: the CN when there is no DNS SAN', () => {
  assert.deepEqual(certificateNames(new X509Certificate(cnOnly.cert)), ['only.cn.test']);
});

test('loadCertificate: names, a context, and the options for the server default context', () => {
  const c = loadCertificate(withSans.certFile, withSans.keyFile, TLS, null);
  assert.deepEqual(c.names, ['a.test', '*.a.test']);
  assert.ok(c.context);
  assert.equal(c.contextOptions.minVersion, 'TLSv1.2');
  assert.equal(c.contextOptions.ciphers, CIPHER_POLICIES[DEFAULT_CIPHER_POLICY]!.ciphers);
  assert.equal('ca' in c.contextOptions, false);
  assert.match(c.validTo, /GMT$/);
});

test('loadCertificate: a client CA goes into the context; the TLS 1.3-only policy raises minVersion', () => {
  const c = loadCertificate(withSans.certFile, withSans.keyFile, { ...TLS, policy: 'fs-tls13-only' }, other.cert);
  assert.equal(c.contextOptions.minVersion, 'TLSv1.3');
  assert.ok(c.contextOptions.ca);
});

test('loadCertificate: readable errors for a missing file, a non-certificate, a key that does not match, an unknown policy', () => {
  assert.throws(() => loadCertificate(dir.path('nope.pem'), withSans.keyFile, TLS, null), /cannot read certFile .*nope\.pem/);
  assert.throws(() => loadCertificate(withSans.certFile, dir.path('nope.key'), TLS, null), /cannot read keyFile .*nope\.key/);
  const garbage = dir.path('garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  assert.throws(() => loadCertificate(garbage, withSans.keyFile, TLS, null), /is not a PEM certificate/);
  assert.throws(() => loadCertificate(withSans.certFile, other.keyFile, TLS, null), /cannot be used/);
  assert.throws(() => loadCertificate(withSans.certFile, withSans.keyFile, { ...TLS, policy: 'weak' }, null), /unknown TLS policy weak; known: fs-2023, fs-tls13-only/);
});

test('every cipher policy offers forward-secret suites only', () => {
  for (const [name, p] of Object.entries(CIPHER_POLICIES)) {
    for (const suite of p.ciphers.split(':')) {
      assert.ok(suite.startsWith('TLS_') || suite.startsWith('ECDHE-'), `${name}: ${suite} is not forward secret`);
    }
  }
});

test('resolveTlsPath: relative to the config folder, absolute kept', () => {
  assert.equal(resolveTlsPath('certs/a.pem', '/etc/switchyard'), '/etc/switchyard/certs/a.pem');
  assert.equal(resolveTlsPath('/x/a.pem', '/etc/switchyard'), '/x/a.pem');
});
