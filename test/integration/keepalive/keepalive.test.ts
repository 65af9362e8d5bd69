/**
 * Connection reuse on both sides: many requests on one client connection, pipelined requests
 * answered in order, and targets that close keep-alive connections (the pool's idle-close race)
 * never losing a request.
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
  RawClient,
  header,
  tick,
  type HttpTarget,
  type RawTarget,
  type Running,
  type Echo,
} from '../harness/index.js';

describe('keep-alive and pipelining', () => {
  let echo: HttpTarget;
  let slowFirst: HttpTarget;
  let closing: HttpTarget;
  let shortIdle: HttpTarget;
  let racer: RawTarget;
  let lb: Running;

  before(async () => {
    echo = await startHttpTarget('echo');
    // Answers /slow late, so that a pipelined request behind it would overtake if it could.
    slowFirst = await startHttpTarget('slow', {
      handler: (req, res, body) => {
        const text = `${req.method} ${req.url} ${body.toString()}`;
        const answer = (): void => {
          res.writeHead(200, { 'content-length': Buffer.byteLength(text) });
          res.end(text);
        };
        if (req.url?.startsWith('/slow')) setTimeout(answer, 100);
        else answer();
      },
    });
    // Closes its connection after every response.
    closing = await startHttpTarget('closing', {
      handler: (req, res) => {
        res.writeHead(200, { connection: 'close', 'content-length': String(req.url!.length) });
        res.end(req.url);
      },
    });
    shortIdle = await startHttpTarget('short-idle', { keepAliveTimeout: 50 });
    // The race made deterministic: the second request on any connection finds it closing
    // (the target closed its idle connection just as the request was sent).
    racer = await startRawTarget({
      onRequest: (r, conn) => {
        if (conn.requests.length >= 2) {
          conn.socket.destroy();
          return;
        }
        conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${r.target.length}\r\n\r\n${r.target}`);
      },
    });
    lb = await startSwitchyard({
      listeners: [
        listener('echo', { forward: { targetGroup: 'echo' } }),
        listener('slow', { forward: { targetGroup: 'slow' } }),
        listener('closing', { forward: { targetGroup: 'closing' } }),
        listener('short-idle', { forward: { targetGroup: 'short-idle' } }),
        listener('racer', { forward: { targetGroup: 'racer' } }),
      ],
      targetGroups: [
        group('echo', [echo.port]),
        group('slow', [slowFirst.port]),
        group('closing', [closing.port]),
        group('short-idle', [shortIdle.port]),
        group('racer', [racer.port]),
      ],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [echo, slowFirst, closing, shortIdle]) await t?.close();
    await racer?.close();
  });

  it('serves many sequential requests on one client connection', async () => {
    const c = await RawClient.connect(lb.port('echo'));
    try {
      for (let i = 0; i < 100; i++) {
        c.write(`GET /seq/${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const r = await c.readResponse();
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body.toString()).url, `/seq/${i}`);
        assert.equal(header(r, 'connection'), undefined);
      }
      assert.equal(c.closed, false);
    } finally {
      c.destroy();
    }
  });

  it('node:http keep-alive agent reuses one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (let i = 0; i < 30; i++) {
        const r = await new Promise<Echo>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: lb.port('echo'), path: `/agent/${i}`, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (b: Buffer) => chunks.push(b));
            res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Echo));
          });
          req.on('socket', (s) => sockets.add(s));
          req.on('error', reject);
        });
        assert.equal(r.url, `/agent/${i}`);
      }
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined requests in order', async () => {
    const c = await RawClient.connect(lb.port('slow'));
    try {
      c.write(
        'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n' +
          'POST /fast-post HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
          'GET /fast HTTP/1.1\r\nHost: a\r\n\r\n',
      );
      const r1 = await c.readResponse();
      const r2 = await c.readResponse();
      const r3 = await c.readResponse();
      assert.equal(r1.body.toString(), 'GET /slow ');
      assert.equal(r2.body.toString(), 'POST /fast-post hello');
      assert.equal(r3.body.toString(), 'GET /fast ');
      assert.equal(c.unread.length, 0);
      // Still usable afterwards.
      c.write('GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).body.toString(), 'GET /after ');
    } finally {
      c.destroy();
    }
  });

  it('a pipelined request whose body arrives later is served once its turn comes', async () => {
    const c = await RawClient.connect(lb.port('slow'));
    try {
      c.write('GET /slow/2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234');
      assert.equal((await c.readResponse()).body.toString(), 'GET /slow/2 ');
      c.write('56789');
      assert.equal((await c.readResponse()).body.toString(), 'POST /later 0123456789');
      c.write('GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).body.toString(), 'GET /after ');
    } finally {
      c.destroy();
    }
  });

  it('requests pipelined behind Connection: close are not served', async () => {
    const c = await RawClient.connect(lb.port('echo'));
    try {
      c.write('GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(JSON.parse(r.body.toString()).url, '/last');
      assert.equal(header(r, 'connection'), 'close');
      await c.waitClosed();
      assert.equal(c.unread.length, 0);
      assert.ok(!echo.requests.some((e) => e.url === '/ignored'));
    } finally {
      c.destroy();
    }
  });

  it('a pipelined request split across writes is answered in order', async () => {
    const c = await RawClient.connect(lb.port('slow'));
    try {
      const bytes = 'GET /slow/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n';
      c.write(bytes.slice(0, 40));
      c.write(bytes.slice(40));
      assert.equal((await c.readResponse()).body.toString(), 'GET /slow/1 ');
      assert.equal((await c.readResponse()).body.toString(), 'GET /two ');
    } finally {
      c.destroy();
    }
  });

  it('a target answering Connection: close after each response loses no request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 200; i++) {
        const r = await request(lb.port('closing'), { path: `/c/${i}`, agent });
        assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}`);
        assert.equal(r.text, `/c/${i}`);
        assert.notEqual(r.headers['connection'], 'close', 'the target\'s Connection: close is hop-by-hop');
      }
    } finally {
      agent.destroy();
    }
  });

  it('a target with a 50 ms keep-alive timeout loses no request across 200 requests with pauses', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = shortIdle.requests.length;
    try {
      for (let i = 0; i < 200; i++) {
        const r = await request(lb.port('short-idle'), { path: `/k/${i}`, agent });
        assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}`);
        assert.equal(r.json<Echo>().url, `/k/${i}`);
        // Pauses around the target's idle timeout, so its close races our reuse.
        await tick((i * 7) % 61);
      }
      assert.equal(shortIdle.requests.length - before, 200);
    } finally {
      agent.destroy();
    }
  });

  it('a reused connection closed as the request arrives is replayed on a new one (GET and small POST)', async () => {
    const c = await RawClient.connect(lb.port('racer'));
    try {
      for (let i = 0; i < 50; i++) {
        if (i % 2 === 0) c.write(`GET /r/${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
        else c.write(`POST /r/${i} HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc`);
        const r = await c.readResponse();
        assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body.toString()}`);
        assert.equal(r.body.toString(), `/r/${i}`);
      }
    } finally {
      c.destroy();
    }
    // The race path really ran: requests found their pooled connection closing and were resent.
    assert.ok(racer.connections.length >= 25, `only ${racer.connections.length} target connections`);
    assert.ok(racer.requests.length > 50);
    assert.equal(new Set(racer.connections.flatMap((k) => k.requests.filter((_, j) => j === 0).map((r) => r.target))).size, 50);
  });

  it('a replayed body is the one sent, byte for byte, up to 64 KiB, whether it came with the head or later; a larger one is answered 502', async () => {
    const c = await RawClient.connect(lb.port('racer'));
    try {
      // The first request opens the pooled connection; every later one finds it closing.
      c.write('GET /open HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 200);
      const sizes = [3, 1000, 30_000, 65_535, 65_536];
      for (const [i, size] of sizes.entries()) {
        for (const split of [false, true]) {
          const body = Buffer.alloc(size, `${i}${split ? 's' : 'w'}-pattern|`);
          const head = `POST /b/${i}/${split} HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`;
          if (split) {
            // Most of the body after the head has been forwarded (it is then read into the replay
            // buffer itself on the native path); the pause only shapes the input.
            c.write(Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(0, 1)]));
            await new Promise((r) => setTimeout(r, 20));
            c.write(body.subarray(1));
          } else {
            c.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
          }
          const r = await c.readResponse();
          assert.equal(r.status, 200, `${size} bytes (split ${split}): ${r.status} ${r.body.toString()}`);
          const got = racer.requests.filter((q) => q.target === `/b/${i}/${split}`);
          assert.equal(got.length, 2, 'sent, cut by the race, replayed');
          for (const q of got) assert.ok(q.body.equals(body), `${size} bytes (split ${split}): the target got ${q.body.length} other bytes`);
        }
      }
      // A 20 KiB head leaves too little room behind it in the read's block for 64 KiB: the body is
      // kept by copy instead, and still replayed whole.
      const big = Buffer.alloc(65_536, 'big-head|');
      c.write(Buffer.concat([Buffer.from(`POST /big-head HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(20_000)}\r\nContent-Length: ${big.length}\r\n\r\n`, 'latin1'), big]));
      assert.equal((await c.readResponse()).status, 200);
      const bigGot = racer.requests.filter((q) => q.target === '/big-head');
      assert.equal(bigGot.length, 2);
      for (const q of bigGot) assert.ok(q.body.equals(big), 'the body behind a 20 KiB head');
      // Beyond 64 KiB the body is not kept: the cut request cannot be replayed.
      c.write(`POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n`);
      c.write(Buffer.alloc(70_000, 'b'));
      assert.equal((await c.readResponse()).status, 502);
    } finally {
      c.destroy();
    }
  });
});
