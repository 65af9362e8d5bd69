/**
 * The response side of desync defence: a target's malformed, ambiguous or oversized response
 * head becomes 502; bytes after the end of a response are discarded and that target connection
 * is closed, never reused; a response cut short is never completed or padded.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  RawClient,
  header,
  waitFor,
  lastCarrier,
  type RawTarget,
  type RawConnection,
  type Running,
} from '../harness/index.js';

/** Response bytes by request path (`/r/<name>`). */
const RESPONSES: Record<string, string | Buffer> = {
  ok: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'te-chunked-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'te-two-lines': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'te-gzip': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok',
  'te-gzip-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'te-comma-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: ,chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'te-and-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'cl-twice': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!',
  'cl-huge': 'HTTP/1.1 200 OK\r\nContent-Length: 9007199254740993\r\n\r\nok',
  'cl-lookalike': 'HTTP/1.1 200 OK\r\nContent_Length: 50\r\nContent-Length: 2\r\n\r\nok',
  'status-999': 'HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nok',
  'status-099': 'HTTP/1.1 099 Weird\r\nContent-Length: 2\r\n\r\nok',
  'http10-te': 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
  'obs-fold': 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok',
  'nul': 'HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 2\r\n\r\nok',
  'nul-in-reason': 'HTTP/1.1 204 \x00No Content\r\n\r\n',
  garbage: 'SMTP ready\r\n\r\n',
  'huge-head': `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`,
  // Extra bytes after a complete response: a second response nobody asked for, queued behind.
  'extra-response': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON',
  'longer-than-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA-BYTES',
  'chunked-then-junk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nJUNK',
};

describe('response-side hardening', () => {
  let target: RawTarget;
  let lb: Running;
  /** Responses written later (after a delay) keyed by path. */
  const late = new Map<string, (conn: RawConnection) => void>();

  before(async () => {
    target = await startRawTarget({
      onRequest: (req, conn) => {
        const name = req.target.slice('/r/'.length);
        const l = late.get(name);
        if (l) return l(conn);
        conn.socket.write(typeof RESPONSES[name] === 'string' ? Buffer.from(RESPONSES[name] as string, 'latin1') : (RESPONSES[name] as Buffer));
      },
    });
    late.set('late-extra', (conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON'), 30);
    });
    late.set('cut-length', (conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setTimeout(() => conn.socket.destroy(), 20);
    });
    late.set('cut-chunked', (conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n');
      setTimeout(() => conn.socket.destroy(), 20);
    });
    late.set('head-with-body', (conn) => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nBODY!!'));
    late.set('204-with-body', (conn) => conn.socket.write('HTTP/1.1 204 No Content\r\n\r\nBODY'));
    lb = await startSwitchyard({
      listeners: [listener('web', { forward: { targetGroup: 'g' } })],
      targetGroups: [group('g', [target.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
  });

  /** One request on a fresh client connection; the response and the target connection used. */
  async function get(name: string, method = 'GET'): Promise<{ status: number; body: string; conn: RawConnection; closed: boolean; headers: readonly (readonly [string, string])[] }> {
    const c = await RawClient.connect(lb.port());
    try {
      c.write(`${method} /r/${name} HTTP/1.1\r\nHost: a\r\n\r\n`);
      const r = await c.readResponse({ head: method === 'HEAD' });
      const conn = lastCarrier(target, `/r/${name}`);
      return { status: r.status, body: r.body.toString('latin1'), conn, closed: c.closed, headers: r.headers };
    } finally {
      c.destroy();
    }
  }

  /** The next request gets a fresh target connection: the given one was not reused. */
  async function notReused(conn: RawConnection): Promise<void> {
    await waitFor(() => conn.closed, 2000, 'the target connection closed');
    const before = target.connections.length;
    const r = await get('ok');
    assert.equal(r.status, 200);
    assert.notEqual(r.conn, conn);
    assert.ok(target.connections.length > before || r.conn !== conn);
  }

  const BAD = [
    'te-chunked-chunked',
    'te-two-lines',
    'te-gzip',
    'te-gzip-chunked',
    'te-comma-chunked',
    'te-and-cl',
    'cl-twice',
    'cl-huge',
    'cl-lookalike',
    'status-999',
    'status-099',
    'http10-te',
    'bare-lf',
    'obs-fold',
    'nul',
    'nul-in-reason',
    'garbage',
    'huge-head',
  ];
  for (const name of BAD) {
    it(`502 for a response with ${name}; the target connection is closed`, async () => {
      const r = await get(name);
      assert.equal(r.status, 502, `${r.status} ${r.body}`);
      assert.equal(header({ headers: r.headers }, 'server'), 'switchyard');
      assert.ok(!r.body.includes('POISON') && !r.body.startsWith('ok'), 'nothing of the bad response is relayed');
      await notReused(r.conn);
    });
  }

  for (const name of ['extra-response', 'longer-than-cl', 'chunked-then-junk', 'late-extra']) {
    it(`bytes after the end of a response (${name}) are discarded; the connection is not reused`, async () => {
      const c = await RawClient.connect(lb.port());
      try {
        c.write(`GET /r/${name} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const r = await c.readResponse();
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), 'ok');
        const conn = lastCarrier(target, `/r/${name}`);
        await waitFor(() => conn.closed, 2000, 'the target connection closed');
        // The same client connection goes on, and never sees the poison.
        c.write('GET /r/ok HTTP/1.1\r\nHost: a\r\n\r\n');
        const next = await c.readResponse();
        assert.equal(next.body.toString(), 'ok');
        assert.ok(!c.data.toString('latin1').includes('POISON'));
      } finally {
        c.destroy();
      }
    });
  }

  it('HEAD: a body the target sends anyway is discarded and the connection not reused', async () => {
    const r = await get('head-with-body', 'HEAD');
    assert.equal(r.status, 200);
    await notReused(r.conn);
  });

  it('204 with a body: discarded, connection not reused', async () => {
    const r = await get('204-with-body');
    assert.equal(r.status, 204);
    await notReused(r.conn);
  });

  it('a Content-Length response cut short reaches the client cut (never padded), then the client connection closes', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      c.write('GET /r/cut-length HTTP/1.1\r\nHost: a\r\n\r\n');
      await c.waitClosed(3000);
      const text = c.data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(text.endsWith('\r\n\r\npartial'), JSON.stringify(text.slice(-40)));
    } finally {
      c.destroy();
    }
  });

  it('a chunked response cut short never gets its last chunk', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      c.write('GET /r/cut-chunked HTTP/1.1\r\nHost: a\r\n\r\n');
      await c.waitClosed(3000);
      const text = c.data.toString('latin1');
      assert.ok(text.includes('partial'));
      assert.ok(!text.includes('\r\n0\r\n\r\n'), 'no terminating chunk');
    } finally {
      c.destroy();
    }
  });
});
