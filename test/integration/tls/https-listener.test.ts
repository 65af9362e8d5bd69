/**
 * HTTPS listeners over real sockets: SNI certificate choice (exact, wildcard, default), TLS
 * versions and the cipher policy, the handshake timeout, and what targets receive.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { httpsListener, httpsRequest, servedCommonName, tlsHandshake } from '../harness/tls-client.js';
import { forwardTo, group, startHttpTarget, startSwitchyard, within, type Echo } from '../harness/index.js';

const OK = { fixedResponse: { statusCode: 200, contentType: 'text/plain', body: 'ok' } };

let dir: CertDir;
let certA: CertFiles;
let certB: CertFiles;

before(() => {
  dir = new CertDir();
  certA = dir.selfSigned('a', { cn: 'a.test', sans: ['DNS:a.test', 'DNS:*.a.test'] });
  certB = dir.selfSigned('b', { cn: 'b.test', sans: ['DNS:b.test', 'DNS:www.b.test'] });
});

after(() => dir.remove());

test('SNI picks the certificate whose SAN matches (exact, then wildcard); the first is the default', async () => {
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [certB, certA], OK)] });
  try {
    const port = sy.port();
    assert.equal(await servedCommonName(port), 'b.test', 'no SNI: the default (first) certificate');
    assert.equal(await servedCommonName(port, { servername: 'a.test' }), 'a.test');
    assert.equal(await servedCommonName(port, { servername: 'A.Test' }), 'a.test');
    assert.equal(await servedCommonName(port, { servername: 'api.a.test' }), 'a.test', 'wildcard *.a.test');
    assert.equal(await servedCommonName(port, { servername: 'deep.api.a.test' }), 'b.test', 'a wildcard covers one label only');
    assert.equal(await servedCommonName(port, { servername: 'www.b.test' }), 'b.test');
    assert.equal(await servedCommonName(port, { servername: 'unknown.test' }), 'b.test', 'no match: the default');
    // The served certificate verifies against itself for its names (a real client's view).
    const s = await tlsHandshake(port, { servername: 'api.a.test', ca: certA.cert, rejectUnauthorized: true });
    assert.equal(s.authorized, true);
    assert.deepEqual(s.getPeerCertificate().subjectaltname, 'DNS:a.test, DNS:*.a.test');
    s.destroy();
  } finally {
    await sy.close();
  }
});

test('HTTP/1.1 over TLS: the target sees X-Forwarded-Proto https and the listener port; ALPN picks http/1.1 when offered alone', async () => {
  const target = await startHttpTarget('t1');
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [certA], forwardTo('g'))], targetGroups: [group('g', [target.port])] });
  try {
    const port = sy.port();
    const r = await httpsRequest(port, { path: '/p?q=1', tls: { servername: 'a.test', ALPNProtocols: ['http/1.1'] }, headers: { 'X-Forwarded-Proto': 'http' } });
    assert.equal(r.status, 200);
    const echo = r.json<Echo>();
    assert.equal(echo.url, '/p?q=1');
    assert.equal(echo.headers['x-forwarded-proto'], 'https', 'a client cannot claim another protocol');
    assert.equal(echo.headers['x-forwarded-port'], String(port));
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
    const s = await tlsHandshake(port, { ALPNProtocols: ['http/1.1'] });
    assert.equal(s.alpnProtocol, 'http/1.1');
    s.destroy();
    const s2 = await tlsHandshake(port, { ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(s2.alpnProtocol, 'h2');
    s2.destroy();
    const s3 = await tlsHandshake(port);
    assert.equal(s3.alpnProtocol, false, 'no ALPN offered: HTTP/1.1 without ALPN');
    s3.destroy();
  } finally {
    await sy.close();
    await target.close();
  }
});

test('tls.alpn [http/1.1] does not offer h2', async () => {
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [certA], OK, { tls: { alpn: ['http/1.1'] } })] });
  try {
    const s = await tlsHandshake(sy.port(), { ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(s.alpnProtocol, 'http/1.1');
    s.destroy();
    assert.equal((await httpsRequest(sy.port())).text, 'ok');
  } finally {
    await sy.close();
  }
});

test('TLS versions: the default allows 1.2 and 1.3; minVersion TLSv1.3 refuses 1.2', async () => {
  const sy = await startSwitchyard({
    listeners: [
      httpsListener('default', [certA], OK),
      httpsListener('tls13', [certA], OK, { tls: { minVersion: 'TLSv1.3' } }),
      httpsListener('policy13', [certA], OK, { tls: { policy: 'fs-tls13-only' } }),
    ],
  });
  try {
    const v12 = await tlsHandshake(sy.port('default'), { maxVersion: 'TLSv1.2' });
    assert.equal(v12.getProtocol(), 'TLSv1.2');
    v12.destroy();
    const v13 = await tlsHandshake(sy.port('default'));
    assert.equal(v13.getProtocol(), 'TLSv1.3');
    v13.destroy();
    for (const name of ['tls13', 'policy13']) {
      await assert.rejects(tlsHandshake(sy.port(name), { maxVersion: 'TLSv1.2' }), /alert|protocol|version|closed/i, `${name} refuses TLS 1.2`);
      const ok = await tlsHandshake(sy.port(name));
      assert.equal(ok.getProtocol(), 'TLSv1.3');
      ok.destroy();
    }
  } finally {
    await sy.close();
  }
});

test('the default policy offers forward-secret AEAD suites only', async () => {
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [certA], OK)] });
  try {
    const port = sy.port();
    const good = await tlsHandshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(good.getCipher().name, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    good.destroy();
    // Forward secret but CBC: not in fs-2023.
    await assert.rejects(tlsHandshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /alert|handshake|closed/i);
  } finally {
    await sy.close();
  }
});

test('a client stuck in the handshake is dropped after handshakeTimeoutSeconds; others are served', async () => {
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [certA], OK, { tls: { handshakeTimeoutSeconds: 0.3 } })] });
  try {
    const port = sy.port();
    const started = performance.now();
    const stuck = net.connect({ host: '127.0.0.1', port });
    stuck.on('error', () => undefined);
    // Half a ClientHello, then nothing.
    stuck.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const idle = net.connect({ host: '127.0.0.1', port });
    idle.on('error', () => undefined);
    const closed = (s: net.Socket): Promise<number> => new Promise((resolve) => s.once('close', () => resolve(performance.now() - started)));
    const [t1, t2] = await within(Promise.all([closed(stuck), closed(idle)]), 5000, 'handshake timeout');
    for (const t of [t1, t2]) {
      assert.ok(t >= 250, `closed after ${t.toFixed(0)} ms, before the timeout`);
      assert.ok(t < 2500, `closed after ${t.toFixed(0)} ms, long after the 0.3 s timeout`);
    }
    assert.equal((await httpsRequest(port)).text, 'ok');
  } finally {
    await sy.close();
  }
});

test('HTTPS listener config errors: an unreadable certificate refuses the whole config', async () => {
  await assert.rejects(
    startSwitchyard({ listeners: [httpsListener('tls', [{ ...certA, certFile: dir.path('missing.pem') }], OK)] }),
    (err: Error & { errors?: { message: string }[] }) => {
      assert.match(err.errors?.map((e) => e.message).join('\n') ?? '', /cannot read certFile .*missing\.pem/);
      return true;
    },
  );
});
