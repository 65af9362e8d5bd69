/**
 * Errors the load balancer answers itself for bad client input (SPEC §5): 400, 413, 414, 431,
 * 463. Each comes with `Server: switchyard`, a short body, and nothing reaches the target.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  waitFor,
  listener,
  group,
  RawClient,
  header,
  type HttpTarget,
  type RawTarget,
  type Running,
  type ResponseMessage,
} from '../harness/index.js';

describe('client errors', () => {
  let echo: HttpTarget;
  let raw: RawTarget;
  let lb: Running;

  before(async () => {
    echo = await startHttpTarget('echo');
    raw = await startRawTarget({ raw: () => undefined }); // records, never answers
    lb = await startSwitchyard({
      settings: { maxRequestBodyBytes: 1000 },
      listeners: [listener('web', { forward: { targetGroup: 'echo' } }), listener('raw', { forward: { targetGroup: 'raw' } })],
      targetGroups: [group('echo', [echo.port]), group('raw', [raw.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await echo?.close();
    await raw?.close();
  });

  /** Sends bytes on a fresh connection; returns the response and whether the LB closed. */
  async function send(bytes: string | Buffer): Promise<{ r: ResponseMessage; closed: boolean }> {
    const c = await RawClient.connect(lb.port());
    try {
      c.write(bytes);
      const r = await c.readResponse();
      await c.waitClosed(2000).catch(() => undefined);
      return { r, closed: c.closed };
    } finally {
      c.destroy();
    }
  }

  async function expectError(bytes: string | Buffer, status: number): Promise<ResponseMessage> {
    const before = echo.requests.length;
    const { r, closed } = await send(bytes);
    assert.equal(r.status, status, `expected ${status}, got ${r.status} ${r.body.toString()}`);
    assert.equal(header(r, 'server'), 'switchyard');
    assert.ok(r.body.length > 0 && r.body.length < 200, 'a short body');
    assert.equal(header(r, 'connection'), 'close');
    assert.ok(closed, 'the connection is closed after an error on the request framing');
    assert.equal(echo.requests.length, before, 'nothing reaches the target');
    return r;
  }

  it('400 for a malformed request line', async () => {
    await expectError('GARBAGE\r\n\r\n', 400);
    await expectError('GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n', 400);
    await expectError('GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  });

  it('505 for an HTTP version other than 1.x (llhttp parses 0.9 and 2.0 request lines)', async () => {
    await expectError('GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505);
    await expectError('GET / HTTP/0.9\r\nHost: a\r\n\r\n', 505);
  });

  it('400 for a malformed header line', async () => {
    await expectError('GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n', 400);
    await expectError('GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', 400);
  });

  it('400 for Content-Length together with Transfer-Encoding', async () => {
    await expectError('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400);
    await expectError('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400);
  });

  it('400 for duplicate differing Content-Length', async () => {
    await expectError('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400);
    await expectError('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!', 400);
  });

  it('400 for invalid chunked encoding', async () => {
    await expectError('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400);
  });

  it('400 for a duplicate, missing or invalid Host', async () => {
    await expectError('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400);
    await expectError('GET / HTTP/1.1\r\nX: y\r\n\r\n', 400);
    await expectError('GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400);
    await expectError('GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400);
    await expectError('GET http://other.example/ HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  });

  // HTTP/1.0 with Transfer-Encoding is ambiguous: per desyncMitigation (test/integration/security/desync.test.ts).
  it('a transfer coding other than chunked → 501; CONNECT → 501', async () => {
    await expectError('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501);
    await expectError('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501);
  });

  it('400 for a path that climbs above the root or encodes a slash', async () => {
    await expectError('GET /../x HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await expectError('GET /a/%2E%2E/%2E%2E/x HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await expectError('GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await expectError('GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await expectError('GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  });

  it('414 for a URI over maxUriBytes', async () => {
    await expectError(`GET /${'a'.repeat(17_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
  });

  it('431 for too many header fields', async () => {
    let head = 'GET / HTTP/1.1\r\nHost: a\r\n';
    for (let i = 0; i < 101; i++) head += `X-H${i}: v\r\n`;
    await expectError(head + '\r\n', 431);
  });

  it('431 for a head over maxRequestHeaderBytes', async () => {
    await expectError(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(70_000)}\r\n\r\n`, 431);
  });

  it('413 for a Content-Length over maxRequestBodyBytes', async () => {
    await expectError(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n${'x'.repeat(1001)}`, 413);
  });

  it('413 for a chunked body that grows over maxRequestBodyBytes', async () => {
    const chunk = 'x'.repeat(400);
    const body = `190\r\n${chunk}\r\n`.repeat(3) + '0\r\n\r\n';
    await expectError(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, 413);
  });

  it('413 for a chunked body that goes over the limit after forwarding began; the target sees it cut', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      const chunk = `190\r\n${'y'.repeat(400)}\r\n`;
      c.write(`POST /stream HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
      await waitFor(() => raw.connections.length === 1 && raw.connections[0]!.data.includes('y'.repeat(400)), 3000, 'first chunk at the target');
      c.write(chunk + chunk);
      const r = await c.readResponse();
      assert.equal(r.status, 413);
      assert.equal(header(r, 'server'), 'switchyard');
      await c.waitClosed();
      await waitFor(() => raw.connections[0]!.closed, 3000, 'target connection closed');
      const seen = raw.connections[0]!.data.toString('latin1');
      assert.ok(!seen.includes('\r\n0\r\n\r\n'), 'the target never sees the body completed');
    } finally {
      c.destroy();
    }
  });

  it('after a 413 the connection closes and a pipelined request behind it is not served', async () => {
    const before = echo.requests.length;
    const c = await RawClient.connect(lb.port());
    try {
      c.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n${'x'.repeat(1001)}GET /sneaky HTTP/1.1\r\nHost: a\r\n\r\n`);
      const r = await c.readResponse();
      assert.equal(r.status, 413);
      await c.waitClosed();
      assert.equal(c.unread.length, 0, `bytes after the 413: ${c.unread.toString()}`);
      assert.equal(echo.requests.length, before);
    } finally {
      c.destroy();
    }
  });

  it('a chunked body over the limit behind a pipelined request: the first is served, then 413', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      const body = `3e8\r\n${'z'.repeat(1000)}\r\n3e8\r\n${'z'.repeat(1000)}\r\n0\r\n\r\n`;
      c.write(`GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}GET /third HTTP/1.1\r\nHost: a\r\n\r\n`);
      const first = await c.readResponse();
      assert.equal(first.status, 200);
      assert.equal(JSON.parse(first.body.toString()).url, '/first');
      const second = await c.readResponse();
      assert.equal(second.status, 413);
      await c.waitClosed();
      assert.equal(c.unread.length, 0);
    } finally {
      c.destroy();
    }
  });

  it('a body at the limit passes', async () => {
    const { r } = await send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n${'x'.repeat(1000)}`);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body.toString()).bodyLength, 1000);
  });

  it('463 for more than 30 X-Forwarded-For addresses; 30 pass', async () => {
    const addrs = (n: number): string => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`).join(', ');
    await expectError(`GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: ${addrs(31)}\r\n\r\n`, 463);
    await expectError(`GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: ${addrs(20)}\r\nX-Forwarded-For: ${addrs(11)}\r\n\r\n`, 463);
    const { r } = await send(`GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: ${addrs(30)}\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 200);
  });

  it('an error on one connection does not disturb another', async () => {
    const good = await RawClient.connect(lb.port());
    try {
      good.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await good.readResponse()).status, 200);
      await expectError('BROKEN\r\n\r\n', 400);
      good.write('GET /two HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await good.readResponse()).status, 200);
    } finally {
      good.destroy();
    }
  });
});
