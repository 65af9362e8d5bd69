import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../src/config/defaults.js';
import type { TargetGroupConfig } from '../../../src/config/types.js';
import { HTTP1_TRANSPORT, createTargetPool, loadTargetTransport, upstreamTlsOptions } from '../../../src/proxy/target-transport.js';
import { H2UpstreamPool } from '../../../src/proxy/h2-upstream.js';
import { UpstreamPool } from '../../../src/proxy/upstream-pool.js';
import { CertDir, type CertFiles } from '../../integration/harness/certs.js';

let dir: CertDir;
let ca: CertFiles;

before(() => {
  dir = new CertDir();
  ca = dir.ca('t');
});

after(() => dir.remove());

function spec(g: Partial<TargetGroupConfig>) {
  return withDefaults({ listeners: [], targetGroups: [{ name: 'g', ...g }] }).targetGroups[0]!;
}

test('transport by protocol and protocolVersion; the pool class follows', () => {
  const plain = loadTargetTransport(spec({}), null);
  assert.deepEqual(plain, { http2: false, tls: null, key: 'http1' });
  assert.deepEqual(plain, HTTP1_TRANSPORT);
  const h2c = loadTargetTransport(spec({ protocolVersion: 'GRPC' }), null);
  assert.equal(h2c.http2, true);
  assert.equal(h2c.tls, null);
  assert.ok(createTargetPool('127.0.0.1', 1, 1000, plain) instanceof UpstreamPool);
  assert.ok(createTargetPool('127.0.0.1', 1, 1000, h2c) instanceof H2UpstreamPool);
  const tls = loadTargetTransport(spec({ protocol: 'HTTPS' }), null);
  assert.deepEqual(tls.tls, { verify: true, ca: null, servername: null });
});

test('tls.ca is read relative to the config folder; its content is part of the key', () => {
  const t = loadTargetTransport(spec({ protocol: 'HTTPS', tls: { ca: 't.pem' } }), dir.dir);
  assert.deepEqual(t.tls?.ca, ca.cert);
  const without = loadTargetTransport(spec({ protocol: 'HTTPS' }), dir.dir);
  assert.notEqual(t.key, without.key);
  assert.equal(loadTargetTransport(spec({ protocol: 'HTTPS', tls: { ca: ca.certFile } }), '/elsewhere').key, t.key);
  assert.throws(() => loadTargetTransport(spec({ protocol: 'HTTPS', tls: { ca: 'nope.pem' } }), dir.dir), /target group g: cannot read tls.ca .*nope\.pem/);
  // Without a folder (tools that never connect) the file is not read.
  assert.equal(loadTargetTransport(spec({ protocol: 'HTTPS', tls: { ca: 'nope.pem' } }), null).tls?.ca, null);
});

test('TLS options: SNI is the servername, else a host name; never an IP address', () => {
  const base = { verify: true, ca: null, servername: null };
  assert.deepEqual(upstreamTlsOptions(base, 'api.internal', false), { rejectUnauthorized: true, minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'], servername: 'api.internal' });
  assert.deepEqual(upstreamTlsOptions(base, '10.0.0.5', true), { rejectUnauthorized: true, minVersion: 'TLSv1.2', ALPNProtocols: ['h2'] });
  assert.equal(upstreamTlsOptions({ ...base, servername: 'x.internal' }, '10.0.0.5', false).servername, 'x.internal');
  assert.equal(upstreamTlsOptions({ ...base, verify: false }, '::1', false).rejectUnauthorized, false);
});
