/**
 * Certificates replaced on disk are served without a restart: new handshakes get the new
 * certificate, open connections keep working, and a broken replacement leaves the old one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, renameSync } from 'node:fs';
import type tls from 'node:tls';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { httpsListener, servedCommonName, tlsHandshake } from '../harness/tls-client.js';
import { startSwitchyard, waitFor, within } from '../harness/index.js';

const OK = { fixedResponse: { statusCode: 200, contentType: 'text/plain', body: 'ok' } };

let dir: CertDir;
let v1: CertFiles;
let v2: CertFiles;
let v3: CertFiles;

before(() => {
  dir = new CertDir();
  v1 = dir.selfSigned('v1', { cn: 'v1.test', sans: ['DNS:site.test'] });
  v2 = dir.selfSigned('v2', { cn: 'v2.test', sans: ['DNS:site.test'] });
  v3 = dir.selfSigned('v3', { cn: 'v3.test', sans: ['DNS:site.test'] });
});

after(() => dir.remove());

/** Replaces `live` with `next` the way deploy tools do: write aside, then rename over. */
function replace(live: { certFile: string; keyFile: string }, next: CertFiles): void {
  copyFileSync(next.certFile, live.certFile + '.tmp');
  copyFileSync(next.keyFile, live.keyFile + '.tmp');
  renameSync(live.certFile + '.tmp', live.certFile);
  renameSync(live.keyFile + '.tmp', live.keyFile);
}

/** One keep-alive HTTP/1.1 request on an open TLS socket; resolves with the body. */
function get(socket: tls.TLSSocket): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      let data = '';
      const onData = (c: Buffer): void => {
        data += c.toString('latin1');
        const end = data.indexOf('\r\n\r\n');
        if (end >= 0 && data.length >= end + 4 + 2) {
          socket.off('data', onData);
          assert.match(data, /^HTTP\/1\.1 200 /);
          assert.doesNotMatch(data, /connection: close/i);
          resolve(data.slice(end + 4));
        }
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('connection closed')));
      socket.write('GET / HTTP/1.1\r\nHost: site.test\r\n\r\n');
    }),
    5000,
    'keep-alive request',
  );
}

test('a certificate renamed over on disk is served to new handshakes while an open connection keeps working', async () => {
  const live = { certFile: dir.path('live.pem'), keyFile: dir.path('live.key') };
  copyFileSync(v1.certFile, live.certFile);
  copyFileSync(v1.keyFile, live.keyFile);
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [{ ...v1, ...live }], OK)] });
  try {
    const port = sy.port();
    const open = await tlsHandshake(port, { servername: 'site.test', ALPNProtocols: ['http/1.1'] });
    assert.equal(await get(open), 'ok');
    assert.equal(await servedCommonName(port, { servername: 'site.test' }), 'v1.test');

    replace(live, v2);
    // A client keeps connecting: every handshake succeeds, with v1 and then v2.
    const seen: string[] = [];
    await waitFor(
      async () => {
        const cn = await servedCommonName(port, { servername: 'site.test' });
        seen.push(cn);
        return cn === 'v2.test';
      },
      8000,
      'the new certificate on new handshakes',
    );
    assert.ok(seen.every((cn) => cn === 'v1.test' || cn === 'v2.test'), seen.join(','));
    // Without SNI too (the server's default context follows the reload).
    assert.equal(await servedCommonName(port), 'v2.test');
    // The connection opened before the swap is still served, and still holds v1.
    assert.equal(await get(open), 'ok');
    assert.equal(open.getPeerCertificate().subject.CN, 'v1.test');
    open.destroy();
  } finally {
    await sy.close();
  }
});

test('a replacement that does not load (a certificate without its key) leaves the old certificate in service', async () => {
  const live = { certFile: dir.path('live2.pem'), keyFile: dir.path('live2.key') };
  copyFileSync(v1.certFile, live.certFile);
  copyFileSync(v1.keyFile, live.keyFile);
  const sy = await startSwitchyard({ listeners: [httpsListener('tls', [{ ...v1, ...live }], OK)] });
  try {
    const port = sy.port();
    // A certificate whose key stays the old one: cannot be used.
    copyFileSync(v2.certFile, live.certFile + '.tmp');
    renameSync(live.certFile + '.tmp', live.certFile);
    // Give the watcher time to see it (polls every second); v1 must still be served throughout.
    const until = Date.now() + 2500;
    while (Date.now() < until) assert.equal(await servedCommonName(port, { servername: 'site.test' }), 'v1.test');
    // A complete, valid pair then replaces it.
    replace(live, v3);
    await waitFor(async () => (await servedCommonName(port, { servername: 'site.test' })) === 'v3.test', 8000, 'v3 served');
  } finally {
    await sy.close();
  }
});
