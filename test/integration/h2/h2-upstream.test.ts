/**
 * HTTP/2 to targets (`protocolVersion: HTTP2`), over real sockets with node:http2 targets:
 * the request as HTTP/2 (pseudo-headers, the same fields an HTTP/1.1 target gets), bodies both
 * ways with streaming, trailers to HTTP/1.1 and HTTP/2 clients, session reuse and replacement
 * (GOAWAY, REFUSED_STREAM replay), failures (not HTTP/2, timeout, client gone), and sessions
 * closed when a target leaves or Switchyard stops.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Config, TargetGroupConfig } from '../../../src/config/types.js';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { h2close, h2connect, h2request } from '../harness/h2-client.js';
import { httpsListener } from '../harness/tls-client.js';
import {
  RawClient,
  group,
  listener,
  request,
  startHttpTarget,
  startSwitchyard,
  waitFor,
  within,
  type Echo,
  type Running,
} from '../harness/index.js';

interface H2Seen {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

type H2Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void;

interface H2Target {
  readonly port: number;
  readonly server: http2.Http2Server;
  readonly seen: H2Seen[];
  sessions: number;
  streams: number;
  readonly open: Set<http2.ServerHttp2Session>;
  close(): Promise<void>;
}

/** Answers with what it received, as JSON, after the whole request body. */
const echoH2: H2Handler = (stream, headers, body) => {
  const text = JSON.stringify({ headers, bodyLength: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-target': 'h2' });
  stream.end(headers[':method'] === 'HEAD' ? undefined : text);
};

/**
 * An h2c target. `onStream` runs at once (the body is the handler's to read); without it,
 * the whole body is read and `handler` answers.
 */
async function startH2Target(o: { handler?: H2Handler; onStream?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, t: H2Target) => void } = {}): Promise<H2Target> {
  const server = http2.createServer();
  const t: H2Target = {
    port: 0,
    server,
    seen: [],
    sessions: 0,
    streams: 0,
    open: new Set(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of t.open) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (s) => {
    t.sessions++;
    t.open.add(s);
    s.on('close', () => t.open.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    t.streams++;
    stream.on('error', () => undefined);
    if (o.onStream) {
      o.onStream(stream, headers, t);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      t.seen.push({ headers, body });
      (o.handler ?? echoH2)(stream, headers, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  (t as { port: number }).port = (server.address() as AddressInfo).port;
  return t;
}

function h2Group(name: string, ports: number[], extra: Partial<TargetGroupConfig> = {}): TargetGroupConfig {
  return group(name, ports, { protocolVersion: 'HTTP2', ...extra });
}

function simple(port: number, extra: Partial<TargetGroupConfig> = {}, settings: Config['settings'] = {}): Config {
  return { settings, listeners: [listener('web', { forward: { targetGroup: 'g' } })], targetGroups: [h2Group('g', [port], extra)] };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('HTTP/1.1 clients to an HTTP2 target group', () => {
  let target: H2Target;
  let h1target: Awaited<ReturnType<typeof startHttpTarget>>;
  let sy: Running;

  before(async () => {
    target = await startH2Target();
    h1target = await startHttpTarget('h1');
    sy = await startSwitchyard({
      listeners: [
        listener('web', { forward: { targetGroup: 'g' } }, [
          { priority: 1, match: { path: ['/h1/*'] }, forward: { targetGroup: 'h1' } },
          { priority: 2, match: { path: ['/rules/*'] }, forward: { targetGroup: 'g', requestHeaders: { set: { 'X-From-LB': '1' }, remove: ['X-Debug'] } } },
        ]),
      ],
      targetGroups: [h2Group('g', [target.port]), group('h1', [h1target.port])],
    });
  });

  after(async () => {
    await sy.close();
    await target.close();
    await h1target.close();
  });

  it('sends the fields an HTTP/1.1 target would get, as HTTP/2 (:authority from Host, no connection-specific fields)', async () => {
    const hop = {
      Connection: 'keep-alive, X-Hop',
      'X-Hop': 'secret',
      'Keep-Alive': 'timeout=5',
      TE: 'trailers, deflate',
      'X-Request-Id': 'rid-1',
      'X-Custom': 'v',
      Cookie: 'a=1',
      'X-Debug': '1',
    };
    const viaH2 = await request(sy.port(), { path: '/rules/x?y=1', headers: { ...hop, Host: 'app.test:8080' } });
    const viaH1 = await request(sy.port(), { path: '/h1/x?y=1', headers: { ...hop, Host: 'app.test:8080' } });
    assert.equal(viaH2.status, 200, viaH2.text);
    const h = viaH2.json<{ headers: http2.IncomingHttpHeaders }>().headers;
    assert.equal(h[':method'], 'GET');
    assert.equal(h[':scheme'], 'http');
    assert.equal(h[':authority'], 'app.test:8080');
    assert.equal(h[':path'], '/rules/x?y=1');
    assert.equal(h['host'], undefined);
    assert.equal(h['te'], 'trailers');
    assert.equal(h['x-hop'], undefined);
    assert.equal(h['connection'], undefined);
    assert.equal(h['keep-alive'], undefined);
    assert.equal(h['x-request-id'], 'rid-1');
    assert.equal(h['x-from-lb'], '1');
    assert.equal(h['x-debug'], undefined);
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-port'], String(sy.port()));
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    // Field for field what the HTTP/1.1 group's target got (its Host is :authority here).
    const e1 = viaH1.json<Echo>().headers;
    const fromH2: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && k !== 'x-from-lb') fromH2[k] = v;
    const fromH1: Record<string, unknown> = { ...e1 };
    delete fromH1['host'];
    delete fromH1['x-debug'];
    assert.deepEqual(fromH2, fromH1);
    // The response head comes back.
    assert.equal(viaH2.headers['x-target'], 'h2');
    assert.equal(viaH2.headers['content-type'], 'application/json');
  });

  it('request bodies: with a length (content-length forwarded) and chunked (no length), streamed', async () => {
    const body = randomBytes(300_000);
    const fixed = await request(sy.port(), { method: 'POST', path: '/up', body });
    const r1 = fixed.json<{ headers: http2.IncomingHttpHeaders; bodyLength: number; sha256: string }>();
    assert.equal(r1.bodyLength, body.length);
    assert.equal(r1.sha256, sha(body));
    assert.equal(r1.headers['content-length'], String(body.length));
    const chunked = await within(
      new Promise<{ headers: http2.IncomingHttpHeaders; bodyLength: number; sha256: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: sy.port(), method: 'PUT', path: '/up', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
        });
        req.on('error', reject);
        let off = 0;
        const next = (): void => {
          if (off >= body.length) return void req.end();
          req.write(body.subarray(off, off + 64_000));
          off += 64_000;
          setTimeout(next, 2);
        };
        next();
      }),
      10_000,
      'chunked upload',
    );
    assert.equal(chunked.bodyLength, body.length);
    assert.equal(chunked.sha256, sha(body));
    assert.equal(chunked.headers['content-length'], undefined);
    assert.equal(chunked.headers['transfer-encoding'], undefined);
  });

  it('HEAD: the head only', async () => {
    const head = await request(sy.port(), { method: 'HEAD', path: '/h' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('sequential and concurrent requests share one session', async () => {
    const before = target.sessions;
    for (let i = 0; i < 10; i++) assert.equal((await request(sy.port(), { path: `/s${i}` })).status, 200);
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => request(sy.port(), { path: `/c${i}` })));
    assert.ok(all.every((r) => r.status === 200));
    assert.ok(target.sessions - before <= 1, `${target.sessions - before} new sessions`);
  });
});

describe('HTTP2 target group: responses', () => {
  let release: (() => void) | null = null;
  let target: H2Target;
  let sy: Running;
  let tlsDir: CertDir;
  let cert: CertFiles;

  before(async () => {
    tlsDir = new CertDir();
    cert = tlsDir.selfSigned('edge', { cn: 'edge.test', sans: ['DNS:edge.test'] });
    target = await startH2Target({
      onStream: (stream, headers) => {
        const path = headers[':path'];
        stream.resume();
        if (path === '/stream') {
          stream.respond({ ':status': 200, 'content-type': 'text/plain' });
          stream.write('first;');
          release = () => stream.end('second');
        } else if (path === '/trailers') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-sum': '42' }));
          stream.end('payload');
        } else if (path === '/big') {
          const big = Buffer.alloc(4 * 1024 * 1024, 7);
          stream.respond({ ':status': 200, 'content-length': String(big.length) });
          stream.end(big);
        } else if (path === '/204') {
          stream.respond({ ':status': 204 }, { endStream: true });
        } else {
          stream.respond({ ':status': 200 });
          stream.end('ok');
        }
      },
    });
    sy = await startSwitchyard({
      listeners: [listener('web', { forward: { targetGroup: 'g' } }), httpsListener('tls', [cert], { forward: { targetGroup: 'g' } })],
      targetGroups: [h2Group('g', [target.port])],
    });
  });

  after(async () => {
    await sy.close();
    await target.close();
    tlsDir.remove();
  });

  it('a response streams through to an HTTP/1.1 client', async () => {
    const text = await within(
      new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: sy.port('web'), path: '/stream', agent: false }, (res) => {
          let t = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            t += d;
            if (t === 'first;') release!();
          });
          res.on('end', () => resolve(t));
        });
        req.on('error', reject);
        req.end();
      }),
      5000,
      'streamed response',
    );
    assert.equal(text, 'first;second');
  });

  it('trailers reach an HTTP/1.1 client as chunked trailers and an HTTP/2 client as HTTP/2 trailers', async () => {
    const h1 = await within(
      new Promise<{ body: string; trailers: http.IncomingHttpHeaders; te: string | undefined }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: sy.port('web'), path: '/trailers', agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ body, trailers: res.trailers, te: res.headers['transfer-encoding'] }));
        });
        req.on('error', reject);
        req.end();
      }),
      5000,
      'trailers over HTTP/1.1',
    );
    assert.equal(h1.body, 'payload');
    assert.equal(h1.te, 'chunked');
    assert.deepEqual(h1.trailers, { 'grpc-status': '0', 'x-sum': '42' });
    const session = await h2connect(sy.port('tls'));
    try {
      const r = await h2request(session, { path: '/trailers' });
      assert.equal(r.text, 'payload');
      assert.equal(r.trailers?.['grpc-status'], '0');
      assert.equal(r.trailers?.['x-sum'], '42');
      const empty = await h2request(session, { path: '/204' });
      assert.equal(empty.status, 204);
    } finally {
      await h2close(session);
    }
  });

  it('a large response arrives whole', async () => {
    const r = await request(sy.port('web'), { path: '/big' });
    assert.equal(r.body.length, 4 * 1024 * 1024);
    assert.ok(r.body.every((b) => b === 7));
  });
});

describe('HTTP2 target group: sessions and failures', () => {
  it('a session closed by the target (GOAWAY) is replaced; requests keep succeeding', async () => {
    let served = 0;
    const target = await startH2Target({
      handler: (stream, headers, body) => {
        echoH2(stream, headers, body);
        // Every session serves two requests, then says goodbye.
        if (++served % 2 === 0) stream.session?.close();
      },
    });
    const sy = await startSwitchyard(simple(target.port));
    try {
      for (let i = 0; i < 6; i++) assert.equal((await request(sy.port(), { path: `/r${i}` })).status, 200);
      assert.ok(target.sessions >= 3, `${target.sessions} sessions`);
    } finally {
      await sy.close();
      await target.close();
    }
  });

  it('a session whose connection drops is replaced', async () => {
    const target = await startH2Target();
    const sockets: Socket[] = [];
    target.server.on('connection', (s: Socket) => sockets.push(s));
    const sy = await startSwitchyard(simple(target.port));
    try {
      assert.equal((await request(sy.port(), { path: '/a' })).status, 200);
      for (const s of sockets) s.destroy();
      await waitFor(() => target.open.size === 0, 3000, 'connection gone');
      assert.equal((await request(sy.port(), { path: '/b' })).status, 200);
      assert.equal(target.sessions, 2);
    } finally {
      await sy.close();
      await target.close();
    }
  });

  it('a stream the target refuses (REFUSED_STREAM) is replayed on a fresh session, body included', async () => {
    let refused = 0;
    const target = await startH2Target({
      onStream: (stream, headers, t) => {
        if (refused === 0) {
          refused++;
          stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const body = Buffer.concat(chunks);
          t.seen.push({ headers, body });
          echoH2(stream, headers, body);
        });
      },
    });
    const sy = await startSwitchyard(simple(target.port));
    try {
      const body = Buffer.from('x'.repeat(10_000));
      const r = await request(sy.port(), { method: 'POST', path: '/once', body });
      assert.equal(r.status, 200);
      assert.equal(r.json<{ sha256: string }>().sha256, sha(body));
      assert.equal(refused, 1);
      assert.equal(target.seen.length, 1);
      assert.equal(target.sessions, 2, 'the replay used a new session');
    } finally {
      await sy.close();
      await target.close();
    }
  });

  it('a target that does not speak HTTP/2 gives 502', async () => {
    const h1 = await startHttpTarget('h1');
    const sy = await startSwitchyard(simple(h1.port));
    try {
      const r = await request(sy.port(), { path: '/' });
      assert.equal(r.status, 502);
      assert.match(r.text, /^502 /);
    } finally {
      await sy.close();
      await h1.close();
    }
  });

  it('no response head within responseTimeoutMs: 504, and the stream is cancelled at the target', async () => {
    let cancelled = false;
    const target = await startH2Target({
      onStream: (stream) => {
        stream.resume();
        stream.on('close', () => (cancelled = stream.rstCode === http2.constants.NGHTTP2_CANCEL));
      },
    });
    const sy = await startSwitchyard(simple(target.port, { responseTimeoutMs: 200 }));
    try {
      const r = await request(sy.port(), { path: '/slow' });
      assert.equal(r.status, 504);
      await waitFor(() => cancelled, 3000, 'RST_STREAM CANCEL at the target');
      // The session survives a cancelled stream.
      assert.equal(target.open.size, 1);
    } finally {
      await sy.close();
      await target.close();
    }
  });

  it('a client that leaves mid-response cancels the stream at the target', async () => {
    let cancelled = false;
    const target = await startH2Target({
      onStream: (stream) => {
        stream.resume();
        stream.respond({ ':status': 200 });
        stream.write('part');
        stream.on('close', () => (cancelled = stream.rstCode === http2.constants.NGHTTP2_CANCEL));
      },
    });
    const sy = await startSwitchyard(simple(target.port));
    try {
      const c = await RawClient.connect(sy.port());
      c.write('GET /leave HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => c.data.includes('part'), 3000, 'first bytes');
      c.destroy();
      await waitFor(() => cancelled, 3000, 'RST_STREAM CANCEL at the target');
    } finally {
      await sy.close();
      await target.close();
    }
  });

  it('sessions close when their target is deregistered, and when Switchyard stops', async () => {
    const target = await startH2Target();
    const sy = await startSwitchyard(simple(target.port, { deregistrationDelaySeconds: 0 }));
    let stopped = false;
    try {
      assert.equal((await request(sy.port(), { path: '/' })).status, 200);
      assert.equal(target.open.size, 1);
      const g = sy.sy.groups.get('g')!;
      assert.equal(sy.sy.deregisterTarget(g, `127.0.0.1:${target.port}`), true);
      await waitFor(() => target.open.size === 0, 3000, 'session closed after deregistration');
      sy.sy.registerTarget(g, '127.0.0.1', target.port, 1);
      assert.equal((await request(sy.port(), { path: '/' })).status, 200);
      assert.equal(target.open.size, 1);
      await sy.close();
      stopped = true;
      await waitFor(() => target.open.size === 0, 3000, 'session closed at shutdown');
    } finally {
      if (!stopped) await sy.close();
      await target.close();
    }
  });

  it('a reload that switches a group between HTTP1 and HTTP2 applies to the next request', async () => {
    const h2t = await startH2Target();
    const sy = await startSwitchyard({ listeners: [listener('web', { forward: { targetGroup: 'g' } })], targetGroups: [group('g', [h2t.port])] });
    try {
      // HTTP/1.1 bytes to an h2c server: not a valid response.
      assert.equal((await request(sy.port(), { path: '/' })).status, 502);
      const result = await sy.sy.apply(simple(h2t.port));
      assert.equal(result.ok, true);
      assert.equal((await request(sy.port(), { path: '/' })).status, 200);
    } finally {
      await sy.close();
      await h2t.close();
    }
  });
});
