/**
 * Mutual TLS on HTTPS listeners: `tls.clientCa` in verify and optional mode, and the
 * x-client-cert-* headers targets receive (which clients cannot forge).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { X509Certificate } from 'node:crypto';
import type { Config } from '../../../src/config/types.js';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { httpsListener, httpsRequest, tlsHandshake } from '../harness/tls-client.js';
import { forwardTo, group, startHttpTarget, startSwitchyard, within, type Echo, type HttpTarget } from '../harness/index.js';

let dir: CertDir;
let server: CertFiles;
let ca: CertFiles;
let client: CertFiles;
let rogue: CertFiles;
let target: HttpTarget;

before(async () => {
  dir = new CertDir();
  server = dir.selfSigned('server', { cn: 'site.test', sans: ['DNS:site.test'] });
  ca = dir.ca('clients');
  client = dir.signed('client', ca, { cn: 'client-1', subjectPrefix: '/C=NL/O=Acme, Inc.', usage: 'clientAuth' });
  rogue = dir.selfSigned('rogue', { cn: 'client-1', subjectPrefix: '/C=NL/O=Acme, Inc.' });
  target = await startHttpTarget('t');
});

after(async () => {
  await target.close();
  dir.remove();
});

function config(mode: 'verify' | 'optional' | null): Config {
  return {
    listeners: [httpsListener('tls', [server], forwardTo('g'), mode === null ? {} : { tls: { clientCa: ca.certFile, clientCertMode: mode } })],
    targetGroups: [group('g', [target.port])],
  };
}

const FORGED = {
  'X-Client-Cert-Subject': 'CN=admin',
  'x-client-cert-fingerprint': 'AA:BB',
  'X-Client-Cert-Verified': 'true',
};

function certHeaders(echo: Echo): Record<string, string | string[] | undefined> {
  return {
    subject: echo.headers['x-client-cert-subject'],
    fingerprint: echo.headers['x-client-cert-fingerprint'],
    verified: echo.headers['x-client-cert-verified'],
  };
}

const fingerprint = (c: CertFiles): string => new X509Certificate(c.cert).fingerprint256;

test('verify mode: no certificate or an unknown issuer is refused; a valid one reaches the target as headers clients cannot forge', async () => {
  const sy = await startSwitchyard(config('verify'));
  try {
    const port = sy.port();
    // TLS 1.2: the handshake itself fails. TLS 1.3: the client sees the refusal on first use.
    await assert.rejects(tlsHandshake(port, { maxVersion: 'TLSv1.2' }), /alert|handshake|certificate|closed/i);
    await assert.rejects(httpsRequest(port, { headers: FORGED }), /alert|certificate|socket hang up|ECONNRESET|closed/i);
    await assert.rejects(httpsRequest(port, { tls: { cert: rogue.cert, key: rogue.key } }), /alert|certificate|unknown ca|socket hang up|ECONNRESET/i);
    assert.equal(target.requests.length, 0);

    const r = await httpsRequest(port, { tls: { cert: client.cert, key: client.key }, headers: FORGED });
    assert.equal(r.status, 200);
    const echo = r.json<Echo>();
    assert.deepEqual(certHeaders(echo), {
      subject: 'CN=client-1,O=Acme\\, Inc.,C=NL',
      fingerprint: fingerprint(client),
      verified: 'true',
    });
    // The forged copies are gone, not merely followed by the real ones.
    const subjects = echo.rawHeaders.filter((_, i) => i % 2 === 0 && echo.rawHeaders[i]!.toLowerCase() === 'x-client-cert-subject');
    assert.equal(subjects.length, 1);
  } finally {
    await sy.close();
  }
});

test('verify mode over HTTP/2: the same headers, the same stripping', async () => {
  const sy = await startSwitchyard(config('verify'));
  const session = http2.connect(`https://127.0.0.1:${sy.port()}`, { rejectUnauthorized: false, cert: client.cert, key: client.key });
  session.on('error', () => undefined);
  try {
    const echo = await within(
      new Promise<Echo>((resolve, reject) => {
        const req = session.request({ ':path': '/h2', ...Object.fromEntries(Object.entries(FORGED).map(([k, v]) => [k.toLowerCase(), v])) }, { endStream: true });
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => resolve(JSON.parse(body) as Echo));
        req.on('error', reject);
      }),
      5000,
      'h2 request',
    );
    assert.deepEqual(certHeaders(echo), { subject: 'CN=client-1,O=Acme\\, Inc.,C=NL', fingerprint: fingerprint(client), verified: 'true' });
  } finally {
    session.destroy();
    await sy.close();
  }
});

test('optional mode: no certificate is served without the headers; an unverified one only says verified: false', async () => {
  const sy = await startSwitchyard(config('optional'));
  try {
    const port = sy.port();
    const none = (await httpsRequest(port, { headers: FORGED })).json<Echo>();
    assert.deepEqual(certHeaders(none), { subject: undefined, fingerprint: undefined, verified: undefined });

    const good = (await httpsRequest(port, { tls: { cert: client.cert, key: client.key } })).json<Echo>();
    assert.deepEqual(certHeaders(good), { subject: 'CN=client-1,O=Acme\\, Inc.,C=NL', fingerprint: fingerprint(client), verified: 'true' });

    const unverified = (await httpsRequest(port, { tls: { cert: rogue.cert, key: rogue.key }, headers: FORGED })).json<Echo>();
    assert.deepEqual(certHeaders(unverified), { subject: undefined, fingerprint: undefined, verified: 'false' });
  } finally {
    await sy.close();
  }
});

test('without clientCa, client-cert headers are not Switchyard\'s: they pass through untouched', async () => {
  const sy = await startSwitchyard(config(null));
  try {
    const echo = (await httpsRequest(sy.port(), { headers: { 'X-Client-Cert-Subject': 'CN=app-defined' } })).json<Echo>();
    assert.equal(echo.headers['x-client-cert-subject'], 'CN=app-defined');
  } finally {
    await sy.close();
  }
});

test('a reload that adds tls.clientCa applies to new connections on the running listener', async () => {
  const sy = await startSwitchyard(config(null));
  try {
    const port = sy.port();
    assert.equal((await httpsRequest(port)).status, 200);
    const result = await sy.sy.apply(config('verify'));
    assert.equal(result.ok, true);
    assert.equal(sy.port(), port, 'the same listener');
    await assert.rejects(httpsRequest(port), /alert|certificate|socket hang up|ECONNRESET|closed/i);
    const echo = (await httpsRequest(port, { tls: { cert: client.cert, key: client.key } })).json<Echo>();
    assert.equal(echo.headers['x-client-cert-verified'], 'true');
  } finally {
    await sy.close();
  }
});
