/**
 * `protocol: HTTPS` target groups: TLS to targets, with certificate verification (tls.ca,
 * tls.servername, tls.verify), ALPN, keep-alive reuse, and handshake failures as 502.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import type tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TargetGroupConfig } from '../../../src/config/types.js';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { group, listener, request, startHttpTarget, startSwitchyard } from '../harness/index.js';

interface TlsTarget {
  readonly port: number;
  /** Per TLS connection: the SNI name (or false) and the ALPN protocol chosen. */
  readonly connections: { servername: string | false; alpn: string | false | null }[];
  requests: number;
  close(): Promise<void>;
}

async function startTlsTarget(cert: CertFiles): Promise<TlsTarget> {
  const connections: TlsTarget['connections'] = [];
  const server = https.createServer({ cert: cert.cert, key: cert.key, ALPNProtocols: ['http/1.1'] }, (req, res) => {
    t.requests++;
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ url: req.url, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('secureConnection', (s: tls.TLSSocket) => connections.push({ servername: (s as tls.TLSSocket & { servername: string | false }).servername, alpn: s.alpnProtocol }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const t: TlsTarget = {
    port: (server.address() as AddressInfo).port,
    connections,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return t;
}

let dir: CertDir;
let ca: CertFiles;
let signed: CertFiles;
let selfSigned: CertFiles;

before(() => {
  dir = new CertDir();
  ca = dir.ca('internal');
  signed = dir.signed('backend', ca, { cn: 'backend.internal', sans: ['DNS:backend.internal', 'IP:127.0.0.1'], usage: 'serverAuth' });
  selfSigned = dir.selfSigned('selfsigned', { cn: 'backend.internal', sans: ['DNS:backend.internal'] });
});

after(() => dir.remove());

function via(port: number, extra: Partial<TargetGroupConfig>) {
  return startSwitchyard({
    listeners: [listener('web', { forward: { targetGroup: 'g' } })],
    targetGroups: [group('g', [port], { protocol: 'HTTPS', ...extra })],
  });
}

describe('HTTP/1.1 over TLS to targets', () => {
  let target: TlsTarget;

  before(async () => {
    target = await startTlsTarget(signed);
  });

  after(async () => {
    await target.close();
  });

  it('verifies against tls.ca; an IP target gets no SNI and is checked against its IP SAN; ALPN http/1.1; connections are reused', async () => {
    const sy = await via(target.port, { tls: { ca: ca.certFile } });
    const before = target.connections.length;
    try {
      for (let i = 0; i < 3; i++) {
        const r = await request(sy.port(), { path: `/p${i}` });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json<{ url: string }>().url, `/p${i}`);
        assert.equal(r.json<{ headers: Record<string, string> }>().headers['x-forwarded-proto'], 'http');
      }
      const seen = target.connections.slice(before);
      assert.equal(seen.length, 1, 'one TLS connection, kept alive');
      assert.deepEqual(seen[0], { servername: false, alpn: 'http/1.1' });
    } finally {
      await sy.close();
    }
  });

  it('tls.servername is sent as SNI and is the name checked', async () => {
    const sy = await via(target.port, { tls: { ca: ca.certFile, servername: 'backend.internal' } });
    try {
      assert.equal((await request(sy.port(), { path: '/' })).status, 200);
      assert.equal(target.connections.at(-1)!.servername, 'backend.internal');
    } finally {
      await sy.close();
    }
    const wrong = await via(target.port, { tls: { ca: ca.certFile, servername: 'other.internal' } });
    try {
      const before = target.requests;
      const r = await request(wrong.port(), { path: '/' });
      assert.equal(r.status, 502);
      assert.match(r.text, /TLS handshake with target failed/);
      assert.equal(target.requests, before);
    } finally {
      await wrong.close();
    }
  });

  it('verification is on by default: a CA Node does not know gives 502 before any request is sent', async () => {
    const sy = await via(target.port, {});
    try {
      const before = target.requests;
      const r = await request(sy.port(), { path: '/' });
      assert.equal(r.status, 502);
      assert.match(r.text, /TLS handshake with target failed/);
      assert.equal(target.requests, before);
    } finally {
      await sy.close();
    }
  });
});

it('a failed handshake is a connect failure: the request is retried on another target', async () => {
  const bad = await startTlsTarget(selfSigned);
  const good = await startTlsTarget(signed);
  const sy = await startSwitchyard({
    listeners: [listener('web', { forward: { targetGroup: 'g' } })],
    targetGroups: [group('g', [bad.port, good.port], { protocol: 'HTTPS', tls: { ca: ca.certFile, servername: 'backend.internal' } })],
  });
  try {
    for (let i = 0; i < 4; i++) assert.equal((await request(sy.port(), { path: `/r${i}` })).status, 200);
    assert.equal(bad.requests, 0);
    assert.equal(good.requests, 4);
  } finally {
    await sy.close();
    await bad.close();
    await good.close();
  }
});

it('tls.verify false accepts a self-signed certificate', async () => {
  const target = await startTlsTarget(selfSigned);
  const sy = await via(target.port, { tls: { verify: false } });
  try {
    assert.equal((await request(sy.port(), { path: '/' })).status, 200);
  } finally {
    await sy.close();
    await target.close();
  }
});

it('a target that does not speak TLS gives 502', async () => {
  const plain = await startHttpTarget('plain');
  const sy = await via(plain.port, { tls: { verify: false } });
  try {
    const r = await request(sy.port(), { path: '/' });
    assert.equal(r.status, 502);
    assert.equal(plain.requests.length, 0);
  } finally {
    await sy.close();
    await plain.close();
  }
});

it('HTTP/2 over TLS (protocolVersion HTTP2): ALPN h2, certificate verified', async () => {
  const server = http2.createSecureServer({ cert: signed.cert, key: signed.key });
  server.on('stream', (stream, headers) => {
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ scheme: headers[':scheme'], authority: headers[':authority'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const sy = await via(port, { protocolVersion: 'HTTP2', tls: { ca: ca.certFile, servername: 'backend.internal' } });
  try {
    const r = await request(sy.port(), { path: '/', headers: { host: 'app.test' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { scheme: 'https', authority: 'app.test' });
  } finally {
    await sy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

it('config: tls on a group that is not HTTPS is an error; an unreadable tls.ca refuses the config', async () => {
  await assert.rejects(
    startSwitchyard({ listeners: [listener('web', { forward: { targetGroup: 'g' } })], targetGroups: [group('g', [1], { tls: { verify: false } })] }),
    (err: Error & { errors?: { path: string; message: string }[] }) => {
      assert.ok(err.errors?.some((e) => e.path === '/targetGroups/0/tls' && /only used by HTTPS target groups/.test(e.message)), JSON.stringify(err.errors));
      return true;
    },
  );
  await assert.rejects(via(1, { tls: { ca: dir.path('missing-ca.pem') } }), (err: Error & { errors?: { message: string }[] }) => {
    assert.match(err.errors?.map((e) => e.message).join('\n') ?? '', /target group g: cannot read tls.ca .*missing-ca\.pem/);
    return true;
  });
});
