/**
 * Robustness (SPEC §5: "No bad input from a client or a target may crash the process or affect
 * other connections"): 50 connections flooding random bytes while well-behaved clients keep
 * being served.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { startHttpTarget, startRawTarget, startSwitchyard, listener, group, request, RawClient, within, type HttpTarget, type RawTarget, type Running, type Echo } from '../harness/index.js';

/** A seeded PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  'GET / HTTP/1.1\r\n',
  'Host: a\r\n',
  'Content-Length: 99999999999999999999\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: -1\r\n',
  '\r\n',
  '\r\n\r\n',
  'ffffffffffffffff\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
  'GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n',
  'Upgrade: websocket\r\nConnection: Upgrade\r\n',
  '\0\0\0',
  'X-Long: ' + 'x'.repeat(5000),
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
];

function garbage(rand: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) {
    if (rand() < 0.5) parts.push(Buffer.from(FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]!, 'latin1'));
    else {
      const b = Buffer.alloc(1 + Math.floor(rand() * 2048));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

describe('robustness', () => {
  let target: HttpTarget;
  let evil: RawTarget;
  let lb: Running;

  const RESPONSES = [
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n',
    'HTTP/1.1 999999 WAT\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX: ' + 'y'.repeat(100_000),
    'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n',
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nunsolicited',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA BYTES AFTER THE RESPONSE',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n',
    '\0\xff\xfe garbage',
  ];

  before(async () => {
    target = await startHttpTarget('t');
    let n = 0;
    evil = await startRawTarget({
      onRequest: (_r, conn) => {
        const rand = prng(n);
        const pick = RESPONSES[n++ % RESPONSES.length]!;
        conn.socket.write(rand() < 0.5 ? pick : Buffer.concat([Buffer.from(pick, 'latin1'), garbage(rand)]));
        if (rand() < 0.5) conn.socket.end();
      },
    });
    lb = await startSwitchyard({
      settings: { requestHeaderTimeoutSeconds: 2, idleTimeoutSeconds: 2 },
      listeners: [listener('web', { forward: { targetGroup: 'g' } }), listener('evil', { forward: { targetGroup: 'evil' } })],
      targetGroups: [group('g', [target.port]), group('evil', [evil.port], { responseTimeoutMs: 500 })],
    });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
    await evil?.close();
  });

  it('a target answering malformed responses never crashes the process', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const c = await RawClient.connect(lb.port('evil'));
      try {
        c.write(`GET /evil/${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
        await c.until(() => c.closed || c.data.length > 0, 3000, 'an answer or a close');
        // Whatever came back must start as an HTTP response from us or the target, never hang.
        if (c.data.length > 0) {
          assert.match(c.data.toString('latin1', 0, 12), /^HTTP\/1\.1 \d{3}/);
          seen.add(c.data.toString('latin1', 9, 12));
        }
      } finally {
        c.destroy();
      }
      const ok = await request(lb.port('web'), { path: `/ok/${i}` });
      assert.equal(ok.status, 200);
    }
    assert.ok(seen.has('502'), `statuses seen: ${[...seen].join(',')}`);
  });

  it('50 connections of random garbage neither crash the process nor disturb other clients', async () => {
    const rand = prng(0x5eed);
    const port = lb.port();
    // A well-behaved keep-alive client that keeps going throughout.
    const good = await RawClient.connect(port);
    let goodServed = 0;
    let flooding = true;
    const goodLoop = (async () => {
      while (flooding || goodServed < 20) {
        good.write(`GET /good/${goodServed} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const r = await good.readResponse();
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body.toString()).url, `/good/${goodServed}`);
        goodServed++;
      }
    })();
    goodLoop.catch(() => undefined); // awaited below; don't report it as unhandled meanwhile

    const floods = Array.from({ length: 50 }, (_, i) =>
      within(
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port });
          s.on('error', () => undefined);
          s.on('close', () => resolve());
          s.on('data', () => undefined);
          s.on('connect', () => {
            let writes = 0;
            const pump = (): void => {
              if (s.destroyed) return;
              if (writes++ >= 20) {
                // Half the connections just leave; the others wait for the LB to close them.
                if (i % 2 === 0) s.destroy();
                else s.end();
                return;
              }
              s.write(garbage(rand), () => setImmediate(pump));
            };
            pump();
          });
        }),
        10_000,
        `garbage connection ${i}`,
      ),
    );
    await Promise.all(floods);
    flooding = false;
    await within(goodLoop, 10_000, 'good client');
    good.destroy();
    assert.ok(goodServed >= 20);

    // New clients are still served normally.
    const agent = new http.Agent({ keepAlive: true });
    try {
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => request(port, { path: `/after/${i}`, agent })));
      for (const [i, r] of all.entries()) {
        assert.equal(r.status, 200);
        assert.equal(r.json<Echo>().url, `/after/${i}`);
      }
    } finally {
      agent.destroy();
    }
  });
});
