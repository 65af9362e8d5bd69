/**
 * Content-Length bodies framed by Switchyard itself (llhttp parses the heads and chunked bodies;
 * a Content-Length body is counted off in http-connection.ts / upstream-pool.ts and relayed as
 * slices of the socket reads). These tests pin what that must not change: every split of a body
 * across reads arrives byte-exact, pipelined requests behind a body are parsed from the right
 * byte, and a malformed message *after* a length-framed one on the same connection is still
 * refused — llhttp keeps an "upgrade" mark after handing a body back, and without the parser
 * reset it would report no error for the next message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  RawClient,
  rawOnce,
  header,
  waitFor,
  lastCarrier,
  type RawTarget,
  type Running,
} from '../harness/index.js';

const post = (path: string, body: string): string =>
  `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;

/** Answers each request with its own body (Content-Length), or a scripted response by path. */
const SCRIPTED: Record<string, string> = {
  '/bad-dup-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!',
  '/bad-garbage': 'SMTP ready\r\n\r\n',
  '/bad-te-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n',
};

describe('Content-Length bodies framed by Switchyard', () => {
  let target: RawTarget;
  let lb: Running;
  /** The body of /later is written only when this is called. */
  const later: { send: (() => void) | null } = { send: null };

  before(async () => {
    target = await startRawTarget({
      onRequest: (req, conn) => {
        const scripted = SCRIPTED[req.target];
        if (scripted !== undefined) {
          conn.socket.write(Buffer.from(scripted, 'latin1'));
          return;
        }
        if (req.target === '/later' || req.target === '/later-chunked') {
          // A streaming response: the head now, the body when the test says so.
          const chunked = req.target === '/later-chunked';
          conn.socket.write(chunked ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n');
          later.send = () => conn.socket.write(chunked ? '4\r\ndone\r\n0\r\n\r\n' : 'done');
          return;
        }
        if (req.target === '/split') {
          // Head, then the body in three writes with pauses between them.
          const body = Buffer.from('0123456789abcdefghij');
          conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n0`);
          void (async () => {
            for (const part of [body.subarray(1, 7), body.subarray(7, 8), body.subarray(8)]) {
              await delay(15);
              conn.socket.write(part);
            }
          })();
          return;
        }
        conn.socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length}\r\n\r\n`), req.body]));
      },
    });
    lb = await startSwitchyard({
      listeners: [listener('web', { forward: { targetGroup: 'g' } })],
      targetGroups: [group('g', [target.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
  });

  it('a request body split at every byte arrives intact, then the connection goes on', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      const bytes = Buffer.from(post('/bytewise', 'hello, bytewise body'), 'latin1');
      for (let i = 0; i < bytes.length; i++) {
        c.write(bytes.subarray(i, i + 1));
        if (i % 7 === 0) await delay(1);
      }
      const r = await c.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'hello, bytewise body');
      c.write('GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
      const next = await c.readResponse();
      assert.equal(next.status, 200);
      assert.equal(next.body.length, 0);
    } finally {
      c.destroy();
    }
  });

  it('pipelined requests behind a body — in one write, and split at the body boundary — are answered in order', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      const all = post('/p1', 'first') + post('/p2', 'second!') + 'GET /p3 HTTP/1.1\r\nHost: a\r\n\r\n';
      c.write(all);
      for (const body of ['first', 'second!', '']) assert.equal((await c.readResponse()).body.toString(), body);
      // The next head starts in the same read as the end of the body before it.
      const again = post('/p4', 'tail') + 'G';
      c.write(again);
      await delay(20);
      c.write('ET /p5 HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).body.toString(), 'tail');
      assert.equal((await c.readResponse()).status, 200);
      const paths = target.requests.map((r) => r.target).filter((p) => /^\/p\d$/.test(p));
      assert.deepEqual(paths, ['/p1', '/p2', '/p3', '/p4', '/p5']);
    } finally {
      c.destroy();
    }
  });

  for (const [name, bad] of [
    ['two Content-Length fields', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'],
    ['Content-Length with Transfer-Encoding', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a garbage request line', 'NOT HTTP AT ALL\r\n\r\n'],
  ] as const) {
    for (const split of [false, true]) {
      it(`${name} after a length-framed request on the same connection is refused (400)${split ? ', sent separately' : ''}`, async () => {
        const c = await RawClient.connect(lb.port());
        try {
          if (split) {
            c.write(post('/first', 'body'));
            assert.equal((await c.readResponse()).body.toString(), 'body');
            c.write(bad);
          } else {
            c.write(post('/first', 'body') + bad);
            assert.equal((await c.readResponse()).body.toString(), 'body');
          }
          const r = await c.readResponse();
          assert.equal(r.status, 400);
          assert.equal(header(r, 'server'), 'switchyard');
          await c.waitClosed();
          assert.ok(!target.requests.some((q) => q.target === '/x'), 'the malformed request never reached the target');
        } finally {
          c.destroy();
        }
      });
    }
  }

  for (const path of ['/later', '/later-chunked']) {
    it(`a response head reaches the client before its body is sent (${path})`, async () => {
      const c = await RawClient.connect(lb.port());
      try {
        later.send = null;
        c.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
        await c.until(() => c.data.includes('\r\n\r\n'), 3000, 'the response head');
        const send = later.send as (() => void) | null;
        assert.ok(send !== null, 'the target answered');
        assert.ok(c.data.toString('latin1').startsWith('HTTP/1.1 200 OK'));
        send();
        const r = await c.readResponse();
        assert.equal(r.body.toString(), 'done');
      } finally {
        c.destroy();
      }
    });
  }

  it('a response body that arrives in several reads is relayed byte-exact', async () => {
    const { response: r } = await rawOnce(lb.port(), 'GET /split HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '0123456789abcdefghij');
  });

  for (const path of Object.keys(SCRIPTED)) {
    it(`a malformed response (${path}) after a length-framed one on the same target connection is refused (502)`, async () => {
      const c = await RawClient.connect(lb.port());
      try {
        // One client connection, one target connection: the good response leaves it in the pool.
        c.write(post('/good', 'fine'));
        assert.equal((await c.readResponse()).body.toString(), 'fine');
        const used = lastCarrier(target, '/good');
        c.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const r = await c.readResponse();
        assert.equal(r.status, 502, `${r.status} ${r.body.toString()}`);
        assert.equal(lastCarrier(target, path), used, 'the malformed response came on the reused connection');
        await waitFor(() => used.closed, 2000, 'the target connection closed');
      } finally {
        c.destroy();
      }
    });
  }
});
