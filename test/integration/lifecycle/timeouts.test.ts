/**
 * Client connection lifecycle: the request head timeout (408, not extended by a drip-feed),
 * the idle keep-alive timeout, a stalled request body (408), a client that goes away while its
 * request is at the target, and request body backpressure towards a slow target.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type http from 'node:http';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  RawClient,
  header,
  waitFor,
  waitStable,
  within,
  tick,
  type HttpTarget,
  type RawTarget,
  type Running,
} from '../harness/index.js';

const MB = 1024 * 1024;

describe('connection lifecycle', () => {
  let echo: HttpTarget;
  let holder: RawTarget;
  let slowReader: HttpTarget;
  let slowReq: http.IncomingMessage | null = null;
  let slowReceived = 0;
  let lb: Running;

  before(async () => {
    echo = await startHttpTarget('echo');
    holder = await startRawTarget({ onRequest: () => undefined }); // never answers
    slowReader = await startHttpTarget('slow-reader', {
      streaming: (req, res) => {
        slowReq = req;
        req.pause();
        req.on('data', (c: Buffer) => (slowReceived += c.length));
        req.on('end', () => {
          res.writeHead(200, { 'content-length': String(String(slowReceived).length) });
          res.end(String(slowReceived));
        });
      },
    });
    lb = await startSwitchyard({
      settings: { requestHeaderTimeoutSeconds: 0.4, idleTimeoutSeconds: 0.4 },
      listeners: [
        listener('echo', { forward: { targetGroup: 'echo' } }),
        listener('holder', { forward: { targetGroup: 'holder' } }),
        listener('slow', { forward: { targetGroup: 'slow' } }),
      ],
      targetGroups: [group('echo', [echo.port]), group('holder', [holder.port]), group('slow', [slowReader.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await echo?.close();
    await holder?.close();
    await slowReader?.close();
  });

  it('408 when the request head does not arrive in time, even when drip-fed', async () => {
    const c = await RawClient.connect(lb.port('echo'));
    try {
      const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'x'.repeat(100);
      const t0 = performance.now();
      let i = 0;
      while (!c.closed && i < head.length && performance.now() - t0 < 3000) {
        c.write(head[i++]!);
        await tick(20);
      }
      const r = await c.readResponse();
      const elapsed = performance.now() - t0;
      assert.equal(r.status, 408);
      assert.equal(header(r, 'server'), 'switchyard');
      assert.ok(elapsed >= 350 && elapsed < 2500, `408 after ${elapsed.toFixed(0)} ms`);
      await c.waitClosed();
    } finally {
      c.destroy();
    }
  });

  it('closes a keep-alive connection left idle', async () => {
    const c = await RawClient.connect(lb.port('echo'));
    try {
      c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 200);
      const t0 = performance.now();
      await c.waitClosed(3000);
      assert.ok(performance.now() - t0 >= 300);
      assert.equal(c.unread.length, 0, 'closed without a response');
    } finally {
      c.destroy();
    }
  });

  it('408 when a request body stalls (idle timeout), and the target connection is closed', async () => {
    const before = holder.connections.length;
    const c = await RawClient.connect(lb.port('holder'));
    try {
      c.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
      await waitFor(() => holder.connections.length > before, 2000, 'request at the target');
      const r = await c.readResponse({ timeoutMs: 3000 });
      assert.equal(r.status, 408);
      assert.equal(header(r, 'server'), 'switchyard');
      await c.waitClosed();
      await waitFor(() => holder.connections.at(-1)!.closed, 2000, 'target connection closed');
    } finally {
      c.destroy();
    }
  });

  it('a client that goes away mid-request: the target connection is closed and nothing leaks', async () => {
    const before = holder.connections.length;
    const c = await RawClient.connect(lb.port('holder'));
    c.write('GET /wait HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => holder.connections.length > before && holder.connections.at(-1)!.requests.length === 1, 2000);
    c.destroy();
    await waitFor(() => holder.connections.at(-1)!.closed, 2000, 'target connection closed after the client left');
    const g = lb.sy.groups.get('holder')!;
    await waitFor(() => [...g.targets.values()].every((t) => t.inFlight === 0), 2000, 'inFlight back to 0');
  });

  it('request body backpressure: a target that does not read stalls the client, then all arrives', async () => {
    const total = 64 * MB;
    slowReceived = 0;
    const s = net.connect({ host: '127.0.0.1', port: lb.port('slow') });
    await new Promise<void>((r) => s.once('connect', () => r()));
    let sent = 0;
    let response = '';
    s.on('data', (d: Buffer) => (response += d.toString('latin1')));
    s.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(256 * 1024, 'u');
    let pumping = true;
    const pump = (): void => {
      while (pumping && sent < total) {
        sent += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    pump();
    try {
      await waitFor(() => slowReq !== null, 3000, 'request at the target');
      // The target reads nothing: the client must stall well before sending everything.
      const stalledAt = await waitStable(() => sent, 300, 10_000, 'bytes the client could send');
      assert.ok(stalledAt < 32 * MB, `the client could send ${(stalledAt / MB).toFixed(1)} MB into a target that reads nothing`);
      slowReq!.resume();
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (/\r\n\r\n\d+$/.test(response)) resolve();
            else setTimeout(check, 10);
          };
          check();
        }),
        20_000,
        'upload completes',
      );
      assert.ok(response.startsWith('HTTP/1.1 200'), response.slice(0, 100));
      assert.ok(response.endsWith(`\r\n\r\n${total}`), response.slice(-50));
    } finally {
      pumping = false;
      s.destroy();
    }
  });
});
