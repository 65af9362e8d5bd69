/**
 * Bodies both ways (SPEC §4 "Response"): large and chunked request bodies arrive intact, a
 * 200 MB response streams through with backpressure and bounded memory, responses without a
 * length are re-chunked for HTTP/1.1 clients, and HEAD/204/304 carry no body.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  request,
  RawClient,
  header,
  headerValues,
  waitFor,
  waitStable,
  within,
  type HttpTarget,
  type RawTarget,
  type Running,
  type Echo,
} from '../harness/index.js';

const MB = 1024 * 1024;

describe('bodies', () => {
  let echo: HttpTarget;
  let big: HttpTarget;
  let raw: RawTarget;
  let early: RawTarget;
  let lb: Running;
  /** Bytes the big-stream target has handed to its socket, and whether it waits for drain. */
  const stream = { written: 0, waiting: false, aborted: 0 };

  before(async () => {
    echo = await startHttpTarget('echo');
    const chunk = Buffer.alloc(64 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
    big = await startHttpTarget('big', {
      streaming: (req, res) => {
        const total = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes'));
        res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
        res.on('close', () => {
          if (!res.writableFinished) stream.aborted++;
        });
        const pump = (): void => {
          while (stream.written < total) {
            const n = Math.min(chunk.length, total - stream.written);
            stream.written += n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              stream.waiting = true;
              res.once('drain', () => {
                stream.waiting = false;
                pump();
              });
              return;
            }
          }
          res.end();
        };
        req.resume();
        pump();
      },
    });
    raw = await startRawTarget({
      onRequest: (r, conn) => {
        const s = conn.socket;
        switch (r.target) {
          case '/close-delimited':
            s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nfirst part, second part');
            break;
          case '/chunked':
            s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
            break;
          case '/head':
            s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Head: 1\r\n\r\n');
            break;
          case '/204':
            s.write('HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n');
            break;
          case '/304':
            s.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n');
            break;
          default:
            s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }
      },
    });
    // Answers 413 as soon as it has the head, without reading the body, and closes.
    early = await startRawTarget({
      raw: (conn) => {
        if (conn.data.includes('\r\n\r\n') && !conn.socket.writableEnded) {
          conn.socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!');
        }
      },
    });
    lb = await startSwitchyard({
      listeners: [
        listener('echo', { forward: { targetGroup: 'echo' } }),
        listener('big', { forward: { targetGroup: 'big' } }),
        listener('raw', { forward: { targetGroup: 'raw' } }),
        listener('early', { forward: { targetGroup: 'early' } }),
        listener('local', { fixedResponse: { statusCode: 200, body: 'fixed' } }, [
          { priority: 1, match: { path: ['/redirect'] }, redirect: { path: '/elsewhere', statusCode: 302 } },
        ]),
      ],
      targetGroups: [group('echo', [echo.port]), group('big', [big.port]), group('raw', [raw.port]), group('early', [early.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await echo?.close();
    await big?.close();
    await raw?.close();
    await early?.close();
  });

  it('a 5 MB POST body arrives intact', async () => {
    const body = randomBytes(5 * MB);
    const r = await request(lb.port('echo'), { method: 'POST', path: '/upload', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200);
    const e = r.json<Echo>();
    assert.equal(e.bodyLength, body.length);
    assert.equal(e.sha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(e.headers['content-length'], String(body.length));
  });

  it('a chunked request body arrives intact', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => randomBytes(1000 + i * 997));
    const hash = createHash('sha256');
    for (const p of parts) hash.update(p);
    const result = await within(
      new Promise<Echo>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: lb.port('echo'), method: 'PUT', path: '/chunked', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Echo));
        });
        req.on('error', reject);
        let i = 0;
        const next = (): void => {
          if (i === parts.length) {
            req.end();
            return;
          }
          req.write(parts[i++]!, () => setImmediate(next));
        };
        next();
      }),
      10_000,
    );
    assert.equal(result.headers['transfer-encoding'], 'chunked');
    assert.equal(result.bodyLength, parts.reduce((n, p) => n + p.length, 0));
    assert.equal(result.sha256, hash.digest('hex'));
  });

  it('a 200 MB response streams through with backpressure and bounded memory', async () => {
    const total = 200 * MB;
    stream.written = 0;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = (): void => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const sampler = setInterval(sample, 20);
    try {
      const received = await within(
        new Promise<{ bytes: number; hash: string; inFlightWhilePaused: number; chunked: boolean }>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: lb.port('big'), path: `/big?bytes=${total}`, agent: false }, (res) => {
            let bytes = 0;
            const hash = createHash('sha256');
            res.on('data', (c: Buffer) => {
              bytes += c.length;
              hash.update(c);
            });
            res.on('error', reject);
            res.on('end', () => resolve({ bytes, hash: hash.digest('hex'), inFlightWhilePaused, chunked: res.headers['transfer-encoding'] === 'chunked' }));
            // Slow reader first: don't read until the target is stalled by backpressure.
            let inFlightWhilePaused = 0;
            res.pause();
            waitFor(() => stream.written > 4 * MB, 10_000, 'target started writing')
              .then(() => waitStable(() => stream.written, 300, 10_000, 'bytes written by the target'))
              .then((stalledAt) => {
                // Stalled well before the end: the proxy is not buffering the body.
                inFlightWhilePaused = stalledAt - bytes;
                sample();
                res.resume();
              })
              .catch(reject);
          });
          req.on('error', reject);
        }),
        40_000,
        '200 MB download',
      );
      assert.equal(received.bytes, total);
      assert.ok(received.chunked, 'a response without length is re-chunked');
      const expected = createHash('sha256');
      const chunk = Buffer.alloc(64 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
      for (let n = 0; n < total; n += chunk.length) expected.update(chunk);
      assert.equal(received.hash, expected.digest('hex'));
      // Socket buffers on three sockets, not the body: far below the 200 MB.
      assert.ok(received.inFlightWhilePaused < 64 * MB, `in flight while the client paused: ${received.inFlightWhilePaused}`);
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    assert.ok(growth < 100 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
  });

  it('a target that answers before reading a large upload: the client gets that answer', async () => {
    const c = await RawClient.connect(lb.port('early'));
    try {
      const total = 8 * MB;
      c.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 'q');
      let sent = 0;
      const pump = (): void => {
        while (sent < total && !c.closed && !c.socket.destroyed) {
          sent += chunk.length;
          if (!c.socket.write(chunk)) {
            c.socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
      const r = await c.readResponse({ timeoutMs: 5000 });
      assert.equal(r.status, 413);
      assert.equal(r.body.toString(), 'too big!');
      assert.equal(header(r, 'connection'), 'close');
      await c.waitClosed(7000);
    } finally {
      c.destroy();
    }
  });

  it('a generated response before a large body is read says Connection: close', async () => {
    for (const path of ['/fixed', '/redirect']) {
      const c = await RawClient.connect(lb.port('local'));
      try {
        c.write(`POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${4 * MB}\r\n\r\n` + 'x'.repeat(1000));
        const r = await c.readResponse();
        assert.ok(r.status === 200 || r.status === 302, `${path}: ${r.status}`);
        assert.equal(header(r, 'connection'), 'close', path);
        await c.waitClosed(7000);
      } finally {
        c.destroy();
      }
    }
    // A small remaining body is read and dropped; the connection stays.
    const c = await RawClient.connect(lb.port('local'));
    try {
      c.write('POST /fixed HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(10));
      const r = await c.readResponse();
      assert.equal(header(r, 'connection'), undefined);
      c.write('x'.repeat(990) + 'GET /fixed HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 200);
    } finally {
      c.destroy();
    }
  });

  it('a client that leaves mid-download: the target connection is closed', async () => {
    stream.written = 0;
    const aborted = stream.aborted;
    const c = await RawClient.connect(lb.port('big'));
    c.write(`GET /big?bytes=${100 * MB} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await c.until(() => c.data.length > MB, 5000, '1 MB received');
    c.destroy();
    await waitFor(() => stream.aborted > aborted, 3000, 'target response closed');
    assert.ok(stream.written < 100 * MB);
    const g = lb.sy.groups.get('big')!;
    await waitFor(() => [...g.targets.values()].every((t) => t.inFlight === 0), 2000, 'inFlight back to 0');
  });

  it('a close-delimited response is re-chunked for an HTTP/1.1 client, and the connection is kept', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('GET /close-delimited HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.framing, 'chunked');
      assert.deepEqual(headerValues(r, 'transfer-encoding'), ['chunked']);
      assert.deepEqual(headerValues(r, 'content-length'), []);
      assert.deepEqual(headerValues(r, 'connection'), []);
      assert.equal(r.body.toString(), 'first part, second part');
      c.write('GET /again HTTP/1.1\r\nHost: a\r\n\r\n');
      const again = await c.readResponse();
      assert.equal(again.body.toString(), 'ok');
    } finally {
      c.destroy();
    }
  });

  it('a close-delimited response to an HTTP/1.0 client stays close-delimited', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('GET /close-delimited HTTP/1.0\r\nHost: a\r\n\r\n');
      await c.waitClosed();
      const r = await c.readResponse();
      assert.equal(r.framing, 'close');
      assert.deepEqual(headerValues(r, 'transfer-encoding'), []);
      assert.equal(r.body.toString(), 'first part, second part');
    } finally {
      c.destroy();
    }
  });

  it('a chunked response is relayed chunked', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.framing, 'chunked');
      assert.equal(r.body.toString(), 'abcdefg');
    } finally {
      c.destroy();
    }
  });

  it('HEAD: Content-Length passes, no body, connection reusable', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse({ head: true });
      assert.equal(r.status, 200);
      assert.equal(header(r, 'content-length'), '100');
      assert.equal(header(r, 'x-head'), '1');
      c.write('GET /after-head HTTP/1.1\r\nHost: a\r\n\r\n');
      // If a body had been sent after the HEAD head, this would not parse as a status line.
      const next = await c.readResponse();
      assert.equal(next.status, 200);
      assert.equal(next.body.toString(), 'ok');
      assert.equal(c.unread.length, 0);
    } finally {
      c.destroy();
    }
  });

  it('HEAD through node:http to an http target', async () => {
    const r = await request(lb.port('echo'), { method: 'HEAD', path: '/h' });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.ok(Number(r.headers['content-length']) > 0);
  });

  it('204 and 304 carry no body and no framing, and the connection is reusable', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('GET /204 HTTP/1.1\r\nHost: a\r\n\r\n');
      const r204 = await c.readResponse();
      assert.equal(r204.status, 204);
      assert.equal(header(r204, 'x-empty'), '1');
      assert.deepEqual(headerValues(r204, 'transfer-encoding'), []);
      assert.deepEqual(headerValues(r204, 'content-length'), []);
      c.write('GET /304 HTTP/1.1\r\nHost: a\r\nIf-None-Match: "v1"\r\n\r\n');
      const r304 = await c.readResponse();
      assert.equal(r304.status, 304);
      assert.equal(header(r304, 'etag'), '"v1"');
      assert.deepEqual(headerValues(r304, 'transfer-encoding'), []);
      c.write('GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
      const after = await c.readResponse();
      assert.equal(after.body.toString(), 'ok');
      assert.equal(c.unread.length, 0);
    } finally {
      c.destroy();
    }
  });
});
