/**
 * HTTP/2 clients on an HTTPS listener (ALPN h2), over real sockets: the same rules, actions
 * and forwarded headers as HTTP/1.1, bodies both ways, 1xx and trailers, the edge limits
 * (100 concurrent streams, header list size, request body size, idle sessions) and the flood
 * protections (rapid reset, PING/SETTINGS floods) that close one session and no other.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Config } from '../../../src/config/types.js';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { h2close, h2connect, h2request } from '../harness/h2-client.js';
import { httpsListener, httpsRequest } from '../harness/tls-client.js';
import { group, startHttpTarget, startSwitchyard, waitFor, waitStable, within, type Echo, type HttpTarget } from '../harness/index.js';

let dir: CertDir;
let cert: CertFiles;

before(() => {
  dir = new CertDir();
  cert = dir.selfSigned('site', { cn: 'api.test', sans: ['DNS:api.test'] });
});

after(() => dir.remove());

const NO_ROUTE = { fixedResponse: { statusCode: 404, contentType: 'text/plain', body: 'no route' } };

function routedConfig(targetPort: number, settings: Config['settings'] = {}): Config {
  return {
    settings,
    listeners: [
      httpsListener('tls', [cert], NO_ROUTE, {
        rules: [
          {
            priority: 10,
            match: { host: ['api.test'], path: ['/api/*'] },
            forward: {
              targetGroup: 'g',
              requestHeaders: { set: { 'X-From-LB': '1' }, remove: ['X-Debug'] },
              rewritePath: { regex: '^/api/(.*)$', replace: '/v2/$1' },
            },
          },
          { priority: 20, match: { path: ['/fixed'] }, fixedResponse: { statusCode: 418, contentType: 'text/plain', body: 'teapot' } },
          { priority: 30, match: { path: ['/old/*'] }, redirect: { protocol: 'HTTPS', path: '/new/#{path}', statusCode: 301 } },
          { priority: 40, match: { cookie: { tier: ['gold'] } }, fixedResponse: { statusCode: 200, contentType: 'text/plain', body: 'gold' } },
          { priority: 50, match: { header: { 'X-Env': ['canary'] }, method: ['POST'] }, fixedResponse: { statusCode: 200, contentType: 'text/plain', body: 'canary' } },
          { priority: 60, match: { path: ['/*'] }, forward: { targetGroup: 'g' } },
        ],
      }),
    ],
    targetGroups: [group('g', [targetPort])],
  };
}

describe('HTTP/2 clients: the same rules, actions and headers as HTTP/1.1', () => {
  let target: HttpTarget;
  let sy: Awaited<ReturnType<typeof startSwitchyard>>;
  let session: http2.ClientHttp2Session;

  before(async () => {
    target = await startHttpTarget('t');
    sy = await startSwitchyard(routedConfig(target.port));
    session = await h2connect(sy.port());
  });

  after(async () => {
    await h2close(session);
    await sy.close();
    await target.close();
  });

  it('routes on :authority and forwards what an HTTP/1.1 request would forward', async () => {
    const port = sy.port();
    const headers = { cookie: 'a=1; b=2', 'x-debug': '1', 'x-custom': 'v', 'user-agent': 'test-agent', 'x-request-id': 'req-1' };
    const h1 = await httpsRequest(port, { path: '/api/items?x=1', headers: { ...headers, host: `api.test:${port}` } });
    const h2 = await h2request(session, { path: '/api/items?x=1', authority: `api.test:${port}`, headers });
    assert.equal(h1.status, 200);
    assert.equal(h2.status, 200);
    const e1 = h1.json<Echo>();
    const e2 = h2.json<Echo>();
    assert.equal(e2.url, '/v2/items?x=1');
    assert.equal(e2.method, 'GET');
    assert.deepEqual(e2.headers, e1.headers);
    assert.equal(e2.headers['host'], `api.test:${port}`);
    assert.equal(e2.headers['x-forwarded-proto'], 'https');
    assert.equal(e2.headers['x-forwarded-port'], String(port));
    assert.equal(e2.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(e2.headers['x-request-id'], 'req-1');
    assert.equal(e2.headers['x-from-lb'], '1');
    assert.equal(e2.headers['x-debug'], undefined);
    assert.equal(e2.headers['cookie'], 'a=1; b=2');
    assert.ok(e2.rawHeaders.every((v, i) => i % 2 === 1 || !v.startsWith(':')), 'no pseudo-header reaches the target');
    // The target's response headers come back (minus hop-by-hop).
    assert.equal(h2.headers['x-target'], 't');
    assert.equal(h2.headers['content-type'], 'application/json');
  });

  it('cookies split into several HTTP/2 fields reach the target (and the cookie condition) as one header', async () => {
    const gold = await h2request(session, { path: '/c', headers: { cookie: ['x=1', 'tier=gold'] } });
    assert.equal(gold.text, 'gold');
    const e = (await h2request(session, { path: '/c2', headers: { cookie: ['x=1', 'y=2'] } })).json<Echo>();
    assert.equal(e.headers['cookie'], 'x=1; y=2');
  });

  it('fixed responses, redirects and header/method conditions', async () => {
    const port = sy.port();
    const fixed = await h2request(session, { path: '/fixed' });
    assert.equal(fixed.status, 418);
    assert.equal(fixed.text, 'teapot');
    assert.equal(fixed.headers['content-type'], 'text/plain');
    assert.equal(fixed.headers['server'], 'switchyard');
    const r2 = await h2request(session, { path: '/old/page?q=1', authority: `api.test:${port}` });
    const r1 = await httpsRequest(port, { path: '/old/page?q=1', headers: { host: `api.test:${port}` } });
    assert.equal(r2.status, 301);
    assert.equal(r2.headers['location'], r1.headers['location']);
    assert.equal(r2.headers['location'], `https://api.test:${port}/new/old/page?q=1`);
    const canary = await h2request(session, { method: 'POST', path: '/x', headers: { 'x-env': 'canary' }, body: 'b' });
    assert.equal(canary.text, 'canary');
    const notCanary = await h2request(session, { method: 'GET', path: '/x', headers: { 'x-env': 'canary' } });
    assert.equal(notCanary.json<Echo>().name, 't');
    const refused = await h2request(session, { path: '/a/%2e%2e/%2e%2e/etc' });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers['server'], 'switchyard');
  });

  it('request bodies stream to the target, with and without content-length', async () => {
    const body = randomBytes(300_000);
    const sha = createHash('sha256').update(body).digest('hex');
    const withLength = (await h2request(session, { method: 'POST', path: '/up', headers: { 'content-length': String(body.length) }, body })).json<Echo>();
    assert.equal(withLength.bodyLength, body.length);
    assert.equal(withLength.sha256, sha);
    assert.equal(withLength.headers['content-length'], String(body.length));
    const streamed = (
      await h2request(session, {
        method: 'PUT',
        path: '/up',
        body: (s) => {
          let off = 0;
          const next = (): void => {
            if (off >= body.length) {
              s.end();
              return;
            }
            s.write(body.subarray(off, off + 50_000));
            off += 50_000;
            setTimeout(next, 5);
          };
          next();
        },
      })
    ).json<Echo>();
    assert.equal(streamed.bodyLength, body.length);
    assert.equal(streamed.sha256, sha);
    assert.equal(streamed.headers['transfer-encoding'], 'chunked', 'an HTTP/2 body of unknown length is chunked to an HTTP/1.1 target');
  });

  it('HEAD: the head only, with the target\'s content-length', async () => {
    const r = await h2request(session, { method: 'HEAD', path: '/head' });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.ok(Number(r.headers['content-length']) > 0);
  });
});

describe('HTTP/2 clients: streaming, 1xx, trailers', () => {
  let target: HttpTarget;
  let sy: Awaited<ReturnType<typeof startSwitchyard>>;
  let session: http2.ClientHttp2Session;
  let release: (() => void) | null = null;

  before(async () => {
    target = await startHttpTarget('t', {
      streaming: (req: http.IncomingMessage, res: http.ServerResponse) => {
        req.resume();
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first;');
          release = () => res.end('second');
        } else if (req.url === '/hints') {
          res.writeEarlyHints({ link: '</a.css>; rel=preload' });
          res.end('after hints');
        } else if (req.url === '/trailers') {
          res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
          res.write('body');
          res.addTrailers({ 'x-checksum': 'abc123' });
          res.end();
        } else if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
        } else {
          res.end('ok');
        }
      },
    });
    sy = await startSwitchyard(routedConfig(target.port));
    session = await h2connect(sy.port());
  });

  after(async () => {
    await h2close(session);
    await sy.close();
    await target.close();
  });

  it('a response streams: the first bytes arrive before the target has finished', async () => {
    const got = await within(
      new Promise<string>((resolve, reject) => {
        const s = session.request({ ':path': '/stream' }, { endStream: true });
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          text += d;
          if (text === 'first;') release!();
        });
        s.on('end', () => resolve(text));
        s.on('error', reject);
      }),
      5000,
      'streamed response',
    );
    assert.equal(got, 'first;second');
  });

  it('103 Early Hints reach the client as an informational head', async () => {
    const r = await h2request(session, { path: '/hints' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'after hints');
    assert.equal(r.informational.length, 1);
    assert.equal(r.informational[0]![':status'], 103);
    assert.equal(r.informational[0]!['link'], '</a.css>; rel=preload');
  });

  it('trailers of a chunked HTTP/1.1 response are sent as HTTP/2 trailers', async () => {
    const r = await h2request(session, { path: '/trailers' });
    assert.equal(r.text, 'body');
    assert.equal(r.trailers?.['x-checksum'], 'abc123');
  });

  it('a response without body ends with its HEADERS frame', async () => {
    const r = await h2request(session, { path: '/empty' });
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
    assert.equal(r.trailers, null);
  });
});

describe('HTTP/2 edge limits', () => {
  it('at most 100 concurrent streams per session: the 101st waits for a free one', async () => {
    const held: http.ServerResponse[] = [];
    const target = await startHttpTarget('t', {
      streaming: (req, res) => {
        req.resume();
        held.push(res);
      },
    });
    const sy = await startSwitchyard(routedConfig(target.port));
    const session = await h2connect(sy.port());
    try {
      assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
      const replies = Array.from({ length: 101 }, (_, i) => h2request(session, { path: `/hold/${i}`, timeoutMs: 15_000 }));
      await waitFor(() => held.length === 100, 5000, '100 requests at the target');
      assert.equal(await waitStable(() => held.length, 300), 100, 'the 101st stream is not opened while 100 are');
      held[0]!.end('done');
      await waitFor(() => held.length === 101, 5000, 'the 101st request once a stream is free');
      for (const res of held.slice(1)) res.end('done');
      const all = await Promise.all(replies);
      assert.ok(all.every((r) => r.status === 200 && r.text === 'done'));
    } finally {
      await h2close(session);
      await sy.close();
      await target.close();
    }
  });

  it('a header list over maxRequestHeaderBytes resets that stream; the session goes on', async () => {
    const target = await startHttpTarget('t');
    const sy = await startSwitchyard(routedConfig(target.port, { maxRequestHeaderBytes: 8192 }));
    const session = await h2connect(sy.port());
    try {
      assert.equal(session.remoteSettings.maxHeaderListSize, 8192);
      await assert.rejects(h2request(session, { path: '/big', headers: { 'x-big': 'a'.repeat(10_000) } }), (err: Error & { code?: string }) => {
        assert.match(`${err.code} ${err.message}`, /ERR_HTTP2_STREAM_ERROR|RST_STREAM/);
        return true;
      });
      assert.equal(target.requests.length, 0);
      assert.equal((await h2request(session, { path: '/small', headers: { 'x-small': 'a'.repeat(1000) } })).status, 200);
    } finally {
      await h2close(session);
      await sy.close();
      await target.close();
    }
  });

  it('a body of unknown length over maxRequestBodyBytes gets 413', async () => {
    const target = await startHttpTarget('t');
    const sy = await startSwitchyard(routedConfig(target.port, { maxRequestBodyBytes: 1000 }));
    const session = await h2connect(sy.port());
    try {
      const r = await h2request(session, {
        method: 'POST',
        path: '/up',
        body: (s) => {
          s.write(Buffer.alloc(600));
          setTimeout(() => {
            if (!s.destroyed) s.end(Buffer.alloc(600));
          }, 20);
        },
      });
      assert.equal(r.status, 413);
      const declared = await h2request(session, { method: 'POST', path: '/up', headers: { 'content-length': '2000' }, body: Buffer.alloc(2000) });
      assert.equal(declared.status, 413);
      assert.equal((await h2request(session, { method: 'POST', path: '/up', body: Buffer.alloc(500) })).status, 200);
    } finally {
      await h2close(session);
      await sy.close();
      await target.close();
    }
  });

  it('a session with no open stream is closed after settings.idleTimeoutSeconds; an open stream keeps it', async () => {
    let finish: (() => void) | null = null;
    const target = await startHttpTarget('t', {
      streaming: (req, res) => {
        req.resume();
        finish = () => res.end('late');
      },
    });
    const sy = await startSwitchyard(routedConfig(target.port, { idleTimeoutSeconds: 0.3 }));
    try {
      const busy = await h2connect(sy.port());
      const slow = h2request(busy, { path: '/slow' });
      await waitFor(() => finish !== null, 5000, 'request at target');
      const idle = await h2connect(sy.port());
      const started = performance.now();
      await within(new Promise((r) => idle.once('close', r)), 5000, 'idle session closed');
      const ms = performance.now() - started;
      assert.ok(ms >= 200 && ms < 3000, `idle session closed after ${ms.toFixed(0)} ms`);
      assert.equal(busy.closed, false, 'the session with an open stream stays');
      finish!();
      assert.equal((await slow).text, 'late');
      await h2close(busy);
    } finally {
      await sy.close();
      await target.close();
    }
  });
});

describe('HTTP/2 and shutdown', () => {
  it('shutdown sends GOAWAY, lets a stream finish within shutdownTimeoutSeconds, then cuts what is left', async () => {
    const held = new Map<string, http.ServerResponse>();
    const target = await startHttpTarget('t', {
      streaming: (req, res) => {
        req.resume();
        held.set(req.url ?? '', res);
      },
    });
    const sy = await startSwitchyard(routedConfig(target.port, { shutdownTimeoutSeconds: 0.5 }));
    try {
      const finishing = await h2connect(sy.port());
      const stuck = await h2connect(sy.port());
      const goaway = new Promise<void>((resolve) => finishing.once('goaway', () => resolve()));
      const done = h2request(finishing, { path: '/finishes' });
      const cut = h2request(stuck, { path: '/never' }).then(
        () => 'answered',
        () => 'cut',
      );
      await waitFor(() => held.size === 2, 5000, 'both requests at the target');
      const started = performance.now();
      const closing = sy.close();
      await within(goaway, 2000, 'GOAWAY on shutdown');
      held.get('/finishes')!.end('finished');
      assert.equal((await done).text, 'finished');
      await within(closing, 5000, 'shutdown');
      assert.ok(performance.now() - started < 3000);
      assert.equal(await within(cut, 3000, 'the stuck stream'), 'cut');
      finishing.destroy();
      stuck.destroy();
    } finally {
      await sy.close();
      await target.close();
    }
  });
});

describe('HTTP/2 flood protection', () => {
  let target: HttpTarget;
  let sy: Awaited<ReturnType<typeof startSwitchyard>>;
  const held: http.ServerResponse[] = [];

  before(async () => {
    target = await startHttpTarget('t', {
      streaming: (req, res) => {
        req.resume();
        if (req.url?.startsWith('/hold')) held.push(res);
        else res.end('ok');
      },
    });
    sy = await startSwitchyard(routedConfig(target.port));
  });

  after(async () => {
    for (const res of held) res.destroy();
    await sy.close();
    await target.close();
  });

  it('rapid reset: a session that cancels streams in a flood is closed; another session keeps working', async () => {
    const bystander = await h2connect(sy.port());
    const flooder = await h2connect(sy.port());
    const goaway = new Promise<number>((resolve) => flooder.once('goaway', (code: number) => resolve(code)));
    const closed = new Promise<void>((resolve) => flooder.once('close', () => resolve()));
    // HEADERS then RST_STREAM, in batches that stay under the 100-stream limit (a client that
    // respects it still floods: a cancelled stream frees its slot at once).
    for (let batch = 0; batch < 20 && !flooder.destroyed && !flooder.closed; batch++) {
      const done: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        const s = flooder.request({ ':path': `/hold/${batch}-${i}` }, { endStream: true });
        s.on('error', () => undefined);
        done.push(new Promise((resolve) => s.once('close', () => resolve())));
        s.close(http2.constants.NGHTTP2_CANCEL);
      }
      await Promise.all(done);
    }
    assert.equal(await within(goaway, 5000, 'GOAWAY'), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await within(closed, 5000, 'flooding session closed');
    const r = await h2request(bystander, { path: '/ok' });
    assert.equal(r.text, 'ok');
    const fresh = await h2connect(sy.port());
    assert.equal((await h2request(fresh, { path: '/ok' })).text, 'ok');
    await h2close(fresh);
    await h2close(bystander);
  });

  for (const kind of ['PING', 'SETTINGS'] as const) {
    it(`a ${kind} flood closes that session with ENHANCE_YOUR_CALM; another session keeps working`, async () => {
      const bystander = await h2connect(sy.port());
      const raw = await rawH2(sy.port());
      try {
        const frames: Buffer[] = [];
        for (let i = 0; i < 300; i++) frames.push(kind === 'PING' ? frame(0x6, 0, 0, Buffer.alloc(8, i)) : frame(0x4, 0, 0, Buffer.alloc(0)));
        raw.socket.write(Buffer.concat(frames));
        const code = await within(raw.goaway, 5000, 'GOAWAY');
        assert.equal(code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        await within(raw.closed, 5000, 'connection closed');
        assert.equal((await h2request(bystander, { path: '/ok' })).text, 'ok');
      } finally {
        raw.socket.destroy();
        await h2close(bystander);
      }
    });
  }

  it('a few PINGs are answered and cost nothing', async () => {
    const session = await h2connect(sy.port());
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    assert.equal((await h2request(session, { path: '/ok' })).text, 'ok');
    await h2close(session);
  });
});

/** One HTTP/2 frame: 9-byte header, then the payload. */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** A hand-driven HTTP/2 connection: preface and empty SETTINGS sent; reports GOAWAY's code. */
async function rawH2(port: number): Promise<{ socket: tls.TLSSocket; goaway: Promise<number>; closed: Promise<void> }> {
  const socket = await within(
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => resolve(s));
      s.once('error', reject);
    }),
    5000,
    'TLS connect',
  );
  assert.equal(socket.alpnProtocol, 'h2');
  socket.on('error', () => undefined);
  let data = Buffer.alloc(0);
  const goaway = new Promise<number>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      // Walk the frames received so far.
      let off = 0;
      while (data.length - off >= 9) {
        const len = data.readUIntBE(off, 3);
        if (data.length - off < 9 + len) break;
        if (data[off + 3] === 0x7) resolve(data.readUInt32BE(off + 9 + 4));
        off += 9 + len;
      }
    });
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(0x4, 0, 0, Buffer.alloc(0))]));
  return { socket, goaway, closed };
}
