/**
 * Stickiness on an HTTPS listener: the cookies carry `Secure`, over HTTP/1.1 and over HTTP/2
 * (where Switchyard's Set-Cookie fields join the target's own), and are honoured over both.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { CertDir } from '../harness/certs.js';
import { httpsListener, httpsRequest } from '../harness/tls-client.js';
import { group, startHttpTarget, startSwitchyard, within, type HttpTarget, type Running } from '../harness/index.js';
import { SECRET, mustSetCookie, answeredBy } from './sticky-harness.js';

interface H2Reply {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
}

function h2Get(port: number, cookie: string | null): Promise<H2Reply> {
  return within(
    new Promise<H2Reply>((resolve, reject) => {
      const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'a.test' });
      session.on('error', reject);
      const req = session.request({ ':path': '/h2', ...(cookie === null ? {} : { cookie }) });
      req.on('error', reject);
      req.on('response', (headers) => {
        req.resume();
        req.on('end', () => {
          session.close();
          resolve({ status: Number(headers[':status']), headers });
        });
      });
      req.end();
    }),
    10_000,
    'HTTP/2 GET',
  );
}

describe('stickiness on HTTPS listeners', () => {
  let dir: CertDir;
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;

  before(async () => {
    dir = new CertDir();
    const cert = dir.selfSigned('a', { cn: 'a.test', sans: ['DNS:a.test'] });
    const tagged = (name: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'x-target': name, 'set-cookie': ['app=1; Path=/'] });
      res.end(name);
    };
    a = await startHttpTarget('a', { handler: tagged('a') });
    b = await startHttpTarget('b', { handler: tagged('b') });
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [httpsListener('tls', [cert], { forward: { targetGroup: 'g' } })],
      targetGroups: [group('g', [a.port, b.port], { algorithm: 'round_robin', stickiness: { enabled: true, durationSeconds: 120 } })],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
    dir?.remove();
  });

  it('HTTP/1.1: SWITCHYARD is Secure and followed', async () => {
    const first = await httpsRequest(lb.port(), { tls: { servername: 'a.test', ALPNProtocols: ['http/1.1'] } });
    const c = mustSetCookie(first, 'SWITCHYARD');
    assert.equal(c.attributes, 'Path=/; Max-Age=120; HttpOnly; SameSite=Lax; Secure');
    assert.ok((first.headers['set-cookie'] ?? []).includes('app=1; Path=/'), "the target's own cookie is kept");
    for (let i = 0; i < 4; i++) {
      const r = await httpsRequest(lb.port(), { headers: { cookie: `SWITCHYARD=${c.value}` }, tls: { servername: 'a.test', ALPNProtocols: ['http/1.1'] } });
      assert.equal(answeredBy(r), answeredBy(first));
    }
  });

  it("HTTP/2: Set-Cookie joins the target's own, is Secure, and is followed", async () => {
    const first = await h2Get(lb.port(), null);
    assert.equal(first.status, 200);
    const cookies = first.headers['set-cookie'] ?? [];
    assert.ok(cookies.includes('app=1; Path=/'), JSON.stringify(cookies));
    const ours = cookies.find((c) => c.startsWith('SWITCHYARD='));
    assert.ok(ours !== undefined, JSON.stringify(cookies));
    assert.match(ours, /; Path=\/; Max-Age=120; HttpOnly; SameSite=Lax; Secure$/);
    const value = ours.slice('SWITCHYARD='.length, ours.indexOf(';'));
    const target = String(first.headers['x-target']);
    for (let i = 0; i < 4; i++) {
      const r = await h2Get(lb.port(), `SWITCHYARD=${value}`);
      assert.equal(String(r.headers['x-target']), target);
      assert.ok(!(r.headers['set-cookie'] ?? []).some((c) => c.startsWith('SWITCHYARD=')));
    }
  });
});
