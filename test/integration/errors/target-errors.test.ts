/**
 * Errors caused by targets (SPEC §5): 502 for refused, reset, garbage and cut responses, 503 for
 * an empty group, 504 for a target that never answers, and the retry of a request that could
 * not be sent. A cut response is never completed or padded: the client sees the cut.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  request,
  refusedPort,
  RawClient,
  header,
  within,
  type HttpTarget,
  type RawTarget,
  type Running,
  type Echo,
  type ResponseMessage,
} from '../harness/index.js';

describe('target errors', () => {
  let echo: HttpTarget;
  let own5xx: HttpTarget;
  let hugeHead: RawTarget;
  let switcher: RawTarget;
  let reset: RawTarget, garbage: RawTarget, cutLength: RawTarget, cutChunked: RawTarget, silent: RawTarget, garbageAfterHead: RawTarget;
  let deadPort: number;
  let lb: Running;

  before(async () => {
    echo = await startHttpTarget('echo');
    own5xx = await startHttpTarget('own-5xx', {
      handler: (_req, res) => {
        res.writeHead(503, { server: 'target-server', 'retry-after': '7', 'content-length': '14' });
        res.end('target says no');
      },
    });
    deadPort = await refusedPort();
    reset = await startRawTarget({ onRequest: (_r, conn) => conn.socket.resetAndDestroy() });
    garbage = await startRawTarget({ onRequest: (_r, conn) => conn.socket.write('THIS IS NOT HTTP\r\n\r\n') });
    garbageAfterHead = await startRawTarget({
      onRequest: (_r, conn) => conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nnot-a-chunk-size\r\n'),
    });
    cutLength = await startRawTarget({
      onRequest: (_r, conn) => {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789', () => conn.socket.destroy());
      },
    });
    cutChunked = await startRawTarget({
      onRequest: (_r, conn) => {
        conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n', () => conn.socket.end());
      },
    });
    silent = await startRawTarget({ onRequest: () => undefined });
    switcher = await startRawTarget({
      onRequest: (_r, conn) => conn.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nsurprise'),
    });
    hugeHead = await startRawTarget({
      onRequest: (_r, conn) => conn.socket.write(`HTTP/1.1 200 OK\r\nX-Huge: ${'h'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`),
    });
    lb = await startSwitchyard({
      listeners: [
        listener('refused', { forward: { targetGroup: 'refused' } }),
        listener('reset', { forward: { targetGroup: 'reset' } }),
        listener('garbage', { forward: { targetGroup: 'garbage' } }),
        listener('garbage-after-head', { forward: { targetGroup: 'garbage-after-head' } }),
        listener('cut-length', { forward: { targetGroup: 'cut-length' } }),
        listener('cut-chunked', { forward: { targetGroup: 'cut-chunked' } }),
        listener('empty', { forward: { targetGroup: 'empty' } }),
        listener('silent', { forward: { targetGroup: 'silent' } }),
        listener('retry', { forward: { targetGroup: 'retry' } }),
        listener('own-5xx', { forward: { targetGroup: 'own-5xx' } }),
        listener('huge-head', { forward: { targetGroup: 'huge-head' } }),
        listener('switcher', { forward: { targetGroup: 'switcher' } }),
        listener('reset-pair', { forward: { targetGroup: 'reset-pair' } }),
        listener('reset-pair-idem', { forward: { targetGroup: 'reset-pair-idem' } }),
      ],
      targetGroups: [
        group('refused', [deadPort]),
        group('reset', [reset.port]),
        group('garbage', [garbage.port]),
        group('garbage-after-head', [garbageAfterHead.port]),
        group('cut-length', [cutLength.port]),
        group('cut-chunked', [cutChunked.port]),
        group('empty', []),
        group('silent', [silent.port], { responseTimeoutMs: 300 }),
        group('retry', [deadPort, echo.port], { algorithm: 'round_robin' }),
        group('own-5xx', [own5xx.port]),
        group('huge-head', [hugeHead.port]),
        group('switcher', [switcher.port]),
        group('reset-pair', [reset.port, echo.port], { algorithm: 'round_robin' }),
        group('reset-pair-idem', [reset.port, echo.port], { algorithm: 'round_robin', retryIdempotentRequests: true }),
      ],
    });
  });

  after(async () => {
    await lb?.close();
    await echo?.close();
    await own5xx?.close();
    for (const t of [reset, garbage, garbageAfterHead, cutLength, cutChunked, silent, hugeHead, switcher]) await t?.close();
  });

  async function get(listenerName: string, path = '/'): Promise<ResponseMessage> {
    const c = await RawClient.connect(lb.port(listenerName));
    try {
      c.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
      return await c.readResponse();
    } finally {
      c.destroy();
    }
  }

  function assertGenerated(r: ResponseMessage, status: number): void {
    assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body.toString()}`);
    assert.equal(header(r, 'server'), 'switchyard');
    assert.ok(r.body.length > 0 && r.body.length < 200);
  }

  it('502 when the target refuses the connection', async () => {
    assertGenerated(await get('refused'), 502);
  });

  it('502 when the target resets the connection', async () => {
    assertGenerated(await get('reset'), 502);
  });

  it('502 when the target answers garbage', async () => {
    assertGenerated(await get('garbage'), 502);
  });

  it('503 for a target group without targets', async () => {
    assertGenerated(await get('empty'), 503);
  });

  it('504 when the target accepts but never answers (responseTimeoutMs)', async () => {
    const t0 = performance.now();
    const r = await get('silent');
    const elapsed = performance.now() - t0;
    assertGenerated(r, 504);
    assert.ok(elapsed >= 250, `answered after ${elapsed.toFixed(0)} ms, before the timeout`);
    assert.ok(elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms`);
  });

  /** GET through node:http; resolves with how the response ended. */
  function fetchOutcome(port: number): Promise<{ status: number; received: Buffer; complete: boolean; aborted: boolean; error: string }> {
    return within(
      new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/cut', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          let aborted = false;
          let error = '';
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('aborted', () => (aborted = true));
          res.on('error', (e) => (error = e.message));
          res.on('close', () => resolve({ status: res.statusCode ?? 0, received: Buffer.concat(chunks), complete: res.complete, aborted, error }));
        });
        req.on('error', (e) => resolve({ status: 0, received: Buffer.alloc(0), complete: false, aborted: true, error: e.message }));
      }),
      5000,
    );
  }

  it('a response cut mid-body (Content-Length) reaches the client cut, never completed', async () => {
    const o = await fetchOutcome(lb.port('cut-length'));
    assert.equal(o.status, 200);
    assert.equal(o.complete, false, 'the body must not be completed');
    assert.ok(o.aborted || o.error !== '', 'the client sees the abort');
    assert.equal(o.received.toString(), '0123456789', 'no padding');
  });

  it('a chunked response cut mid-body reaches the client without a last chunk', async () => {
    const o = await fetchOutcome(lb.port('cut-chunked'));
    assert.equal(o.status, 200);
    assert.equal(o.complete, false);
    assert.equal(o.received.toString(), '0123456789');
    // And on the wire: the connection closes with no terminating chunk.
    const c = await RawClient.connect(lb.port('cut-chunked'));
    try {
      c.write('GET /cut HTTP/1.1\r\nHost: a\r\n\r\n');
      await c.waitClosed();
      assert.ok(!c.data.toString('latin1').includes('\r\n0\r\n\r\n'), c.data.toString('latin1'));
    } finally {
      c.destroy();
    }
  });

  it('malformed framing after the head: the client connection is cut', async () => {
    const o = await fetchOutcome(lb.port('garbage-after-head'));
    assert.equal(o.status, 200, `the relayed head reaches the client (${o.error})`);
    assert.equal(o.complete, false);
    assert.equal(o.received.toString(), 'hello');
  });

  it('a refused target is retried once on another target: every request succeeds', async () => {
    for (let i = 0; i < 20; i++) {
      const method = i % 2 === 0 ? 'GET' : 'POST';
      const r = await request(lb.port('retry'), { method, path: `/retry/${i}`, ...(method === 'POST' ? { body: 'payload' } : {}) });
      assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}`);
      const e = r.json<Echo>();
      assert.equal(e.url, `/retry/${i}`);
      if (method === 'POST') assert.equal(e.bodyLength, 'payload'.length);
    }
  });

  it('502 for a 101 to a request that asked for no upgrade (never relayed)', async () => {
    const c = await RawClient.connect(lb.port('switcher'));
    try {
      c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assertGenerated(r, 502);
      assert.ok(!c.data.toString('latin1').includes('101'), c.data.toString('latin1'));
    } finally {
      c.destroy();
    }
  });

  it('502 for a response head over the size limit', async () => {
    assertGenerated(await get('huge-head'), 502);
  });

  it('a request already sent is not retried (reset after the request): 502, the target saw it once', async () => {
    const statuses: number[] = [];
    const before = reset.requests.length;
    for (let i = 0; i < 6; i++) statuses.push((await request(lb.port('reset-pair'), { method: i % 2 ? 'POST' : 'GET', path: `/nr/${i}`, ...(i % 2 ? { body: 'b' } : {}) })).status);
    // Round robin: every other request lands on the resetting target and is not retried.
    assert.deepEqual([...new Set(statuses)].sort(), [200, 502]);
    assert.equal(statuses.filter((s) => s === 502).length, reset.requests.length - before);
  });

  it('retryIdempotentRequests: GET is retried on another target after a reset; POST is not', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await request(lb.port('reset-pair-idem'), { path: `/idem/${i}` })).status, 200);
    const posts: number[] = [];
    for (let i = 0; i < 4; i++) posts.push((await request(lb.port('reset-pair-idem'), { method: 'POST', path: `/p/${i}`, body: 'x' })).status);
    assert.ok(posts.includes(502), `POST after a reset must not be retried: ${posts.join(',')}`);
  });

  it('a target\'s own 5xx passes through unchanged', async () => {
    const r = await request(lb.port('own-5xx'), { path: '/boom' });
    assert.equal(r.status, 503);
    assert.equal(r.text, 'target says no');
    assert.equal(r.headers['server'], 'target-server');
    assert.equal(r.headers['retry-after'], '7');
  });

  it('the process keeps serving after all of the above', async () => {
    const r = await request(lb.port('retry'), { path: '/still-alive' });
    assert.equal(r.status, 200);
  });
});
