/**
 * Limits enforced at the configured time (SPEC §2 settings, §5): the request head timeout
 * (408 within the second, for many slow clients at once — not on a 30 s sweep), an idle
 * connection that sends nothing, a stalled request body (408), a client that stops reading its
 * response (dropped after the idle timeout, and its target connection closed), the size limits
 * (431, 414, 413, 463) at configured values, and the listener's maxConnections.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  RawClient,
  header,
  request,
  waitFor,
  tick,
  type HttpTarget,
  type RawTarget,
  type Running,
} from '../harness/index.js';

const BIG = 32 * 1024 * 1024;

describe('limits and slow clients', () => {
  let echo: HttpTarget;
  let holder: RawTarget;
  let bulk: RawTarget;
  let lb: Running;

  before(async () => {
    echo = await startHttpTarget('echo');
    holder = await startRawTarget({ onRequest: () => undefined }); // never answers
    // Streams a 32 MiB response with backpressure, so it can only finish if the client reads.
    bulk = await startRawTarget({
      onRequest: (_r, conn) => {
        const s = conn.socket;
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG}\r\n\r\n`);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = (): void => {
          while (sent < BIG && !s.destroyed) {
            sent += chunk.length;
            if (!s.write(chunk)) {
              s.once('drain', pump);
              return;
            }
          }
        };
        pump();
      },
    });
    lb = await startSwitchyard({
      settings: {
        requestHeaderTimeoutSeconds: 1,
        idleTimeoutSeconds: 1,
        maxRequestHeaderBytes: 2048,
        maxRequestHeaderCount: 10,
        maxUriBytes: 100,
        maxRequestBodyBytes: 10,
      },
      listeners: [
        listener('echo', { forward: { targetGroup: 'echo' } }),
        listener('holder', { forward: { targetGroup: 'holder' } }),
        listener('bulk', { forward: { targetGroup: 'bulk' } }),
        { ...listener('few', { forward: { targetGroup: 'echo' } }), maxConnections: 3 },
      ],
      targetGroups: [group('echo', [echo.port]), group('holder', [holder.port]), group('bulk', [bulk.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await echo?.close();
    await holder?.close();
    await bulk?.close();
  });

  it('408 at the configured head timeout (±0.5 s) for 50 drip-feeding clients at once', async () => {
    const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'x'.repeat(200);
    const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(lb.port('echo'))));
    const t0 = performance.now();
    const closedAt: number[] = [];
    try {
      let i = 0;
      const drip = setInterval(() => {
        for (const c of clients) if (!c.closed) c.write(head[i % head.length]!);
        i++;
      }, 50);
      try {
        await Promise.all(
          clients.map(async (c) => {
            const r = await c.readResponse({ timeoutMs: 4000 });
            assert.equal(r.status, 408);
            assert.equal(header(r, 'server'), 'switchyard');
            await c.waitClosed(2000);
            closedAt.push(performance.now() - t0);
          }),
        );
      } finally {
        clearInterval(drip);
      }
      const max = Math.max(...closedAt);
      const min = Math.min(...closedAt);
      assert.ok(min >= 900, `first closed at ${min.toFixed(0)} ms`);
      assert.ok(max <= 1500, `last closed at ${max.toFixed(0)} ms (head timeout 1 s)`);
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  it('a connection that sends nothing is closed after the idle timeout', async () => {
    const c = await RawClient.connect(lb.port('echo'));
    const t0 = performance.now();
    try {
      await c.waitClosed(3000);
      const ms = performance.now() - t0;
      assert.ok(ms >= 900 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
    } finally {
      c.destroy();
    }
  });

  it('408 when a request body stops arriving; the target connection is closed', async () => {
    const before = holder.connections.length;
    const c = await RawClient.connect(lb.port('holder'));
    try {
      c.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123');
      const t0 = performance.now();
      const r = await c.readResponse({ timeoutMs: 3000 });
      const ms = performance.now() - t0;
      assert.equal(r.status, 408);
      assert.ok(ms >= 900 && ms < 2000, `408 after ${ms.toFixed(0)} ms`);
      await c.waitClosed();
      await waitFor(() => holder.connections.length > before && holder.connections.at(-1)!.closed, 2000, 'target connection closed');
    } finally {
      c.destroy();
    }
  });

  it('a client that stops reading its response is dropped after the idle timeout; its target connection closes', async () => {
    const l = lb.sy.listeners.get('bulk')!;
    const s = net.connect({ host: '127.0.0.1', port: lb.port('bulk') });
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.on('error', () => undefined);
    let received = 0;
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (received > 256 * 1024) s.pause(); // read a little, then stop reading
    });
    const before = bulk.connections.length;
    s.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    try {
      await waitFor(() => bulk.connections.length > before, 2000, 'request at the target');
      const t0 = performance.now();
      await waitFor(() => l.connectionCount === 0, 6000, 'the slow reader dropped');
      const ms = performance.now() - t0;
      assert.ok(ms < 4000, `dropped after ${ms.toFixed(0)} ms`);
      assert.ok(received < BIG, 'the client never read everything');
      await waitFor(() => bulk.connections.at(-1)!.closed, 2000, 'target connection closed');
      // Everyone else is unaffected.
      assert.equal((await request(lb.port('echo'), { path: '/after' })).status, 200);
    } finally {
      s.destroy();
    }
  });

  it('a client that reads slowly but steadily is not dropped', async () => {
    const s = net.connect({ host: '127.0.0.1', port: lb.port('bulk') });
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.on('error', () => undefined);
    let received = 0;
    let done = false;
    s.on('data', (d: Buffer) => {
      received += d.length;
      s.pause();
      setTimeout(() => s.resume(), 5); // ~ a few MB/s: slow, but progress within every second
    });
    s.on('close', () => (done = true));
    s.write('GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    try {
      const t0 = Date.now();
      while (Date.now() - t0 < 2500 && !done) await tick(50);
      assert.ok(!done || received >= BIG, `closed after ${received} bytes`);
      assert.ok(received > 1024 * 1024, `made progress: ${received}`);
    } finally {
      s.destroy();
    }
  });

  async function status(port: number, bytes: string): Promise<number> {
    const c = await RawClient.connect(port);
    try {
      c.write(bytes);
      return (await c.readResponse()).status;
    } finally {
      c.destroy();
    }
  }

  it('size limits at their configured values: 431, 414, 413, 463', async () => {
    const p = lb.port('echo');
    assert.equal(await status(p, `GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(2100)}\r\n\r\n`), 431);
    let many = 'GET / HTTP/1.1\r\nHost: a\r\n';
    for (let i = 0; i < 10; i++) many += `X-${i}: v\r\n`;
    assert.equal(await status(p, many + '\r\n'), 431, '11 header fields, limit 10');
    assert.equal(await status(p, `GET /${'u'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`), 414);
    assert.equal(await status(p, `GET /${'u'.repeat(98)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`), 200, 'a URI of 99 bytes passes');
    assert.equal(await status(p, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world'), 413);
    assert.equal(await status(p, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n'), 413);
    const xff = (n: number): string => Array.from({ length: n }, (_, i) => `10.1.0.${i}`).join(', ');
    assert.equal(await status(p, `GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: ${xff(31)}\r\n\r\n`), 463);
  });

  it('maxConnections: connections beyond it are closed on accept, and counted', async () => {
    const port = lb.port('few');
    const held = await Promise.all([0, 1, 2].map(() => RawClient.connect(port)));
    try {
      await waitFor(() => lb.sy.listeners.get('few')!.connectionCount === 3, 2000, '3 connections open');
      const extra = await RawClient.connect(port);
      extra.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await extra.waitClosed(2000);
      assert.equal(extra.data.length, 0, 'closed without a response');
      // The held ones still work.
      held[0]!.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await held[0]!.readResponse()).status, 200);
      held[1]!.destroy();
      await waitFor(() => lb.sy.listeners.get('few')!.connectionCount === 2, 2000);
      const again = await RawClient.connect(port);
      again.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await again.readResponse()).status, 200, 'a slot freed: accepted again');
      again.destroy();
      const text = await lb.sy.metrics.render();
      assert.match(text, /switchyard_rejected_connections_total\{listener="few",reason="max_connections"\} 1/);
    } finally {
      for (const h of held) h.destroy();
    }
  });
});
