/**
 * WebSocket upgrades (SPEC §4): the handshake is forwarded with its Upgrade/Connection headers,
 * the target's 101 is relayed, and then bytes flow both ways through the tunnel until a side
 * closes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  RawClient,
  parseRequest,
  header,
  headerValues,
  waitFor,
  type RawTarget,
  type Running,
  type RequestMessage,
} from '../harness/index.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

describe('websocket', () => {
  let target: RawTarget;
  let lb: Running;
  const handshakes: RequestMessage[] = [];

  before(async () => {
    // Answers 101 (plus a greeting in the same write), then echoes every byte back.
    const upgraded = new WeakSet<object>();
    const offset = new WeakMap<object, number>();
    target = await startRawTarget({
      raw: (conn, chunk) => {
        if (upgraded.has(conn)) {
          conn.socket.write(chunk);
          return;
        }
        const from = offset.get(conn) ?? 0;
        const req = parseRequest(conn.data, from);
        if (req === null) return;
        offset.set(conn, from + req.consumed);
        handshakes.push(req);
        if (req.target === '/no-upgrade-header') {
          conn.socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
          return;
        }
        if (req.target === '/forbidden') {
          conn.socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope');
          return;
        }
        upgraded.add(conn);
        const accept = createHash('sha1').update(header(req, 'sec-websocket-key') + GUID).digest('base64');
        conn.socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\nhello-from-target`,
        );
        const rest = conn.data.subarray(from + req.consumed);
        if (rest.length > 0) conn.socket.write(rest);
      },
    });
    lb = await startSwitchyard({ listeners: [listener('web', { forward: { targetGroup: 'ws' } })], targetGroups: [group('ws', [target.port])] });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
  });

  it('tunnels bytes both ways after a 101', async () => {
    const key = randomBytes(16).toString('base64');
    const c = await RawClient.connect(lb.port());
    try {
      c.write(
        `GET /chat?room=1 HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\nearly-bytes`,
      );
      const r = await c.readResponse();
      assert.equal(r.status, 101);
      assert.equal(header(r, 'upgrade')?.toLowerCase(), 'websocket');
      assert.equal(header(r, 'connection')?.toLowerCase(), 'upgrade');
      assert.equal(header(r, 'sec-websocket-accept'), createHash('sha1').update(key + GUID).digest('base64'));

      // The target's greeting, then the echo of the bytes that followed the handshake.
      await c.until(() => c.unread.toString().startsWith('hello-from-target') && c.unread.toString().includes('early-bytes'), 3000, 'greeting and early bytes');
      assert.equal(c.unread.toString(), 'hello-from-targetearly-bytes');

      const hs = handshakes.at(-1)!;
      assert.equal(hs.target, '/chat?room=1');
      assert.equal(header(hs, 'upgrade'), 'websocket');
      assert.ok(headerValues(hs, 'connection').some((v) => /upgrade/i.test(v)), hs.head);
      assert.equal(header(hs, 'sec-websocket-key'), key);
      assert.equal(header(hs, 'host'), 'ws.example');

      // Binary frames of any size flow through and come back intact.
      const payload = randomBytes(256 * 1024);
      const before = c.data.length;
      c.write(payload);
      await c.until(() => c.data.length >= before + payload.length, 5000, 'echo of 256 KiB');
      assert.ok(c.data.subarray(before).equals(payload));

      // Closing the client side closes the target side.
      const conn = target.connections.at(-1)!;
      c.destroy();
      await waitFor(() => conn.closed, 3000, 'target side of the tunnel closed');
    } finally {
      c.destroy();
    }
  });

  it('a 101 without Upgrade header is a malformed answer: 502', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      c.write('GET /no-upgrade-header HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 502);
      assert.equal(header(r, 'server'), 'switchyard');
    } finally {
      c.destroy();
    }
  });

  it('a refused upgrade (no 101) is relayed as a normal response', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      c.write('GET /forbidden HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 403);
      assert.equal(r.body.toString(), 'nope');
      await c.waitClosed();
    } finally {
      c.destroy();
    }
  });

  it('the target closing the tunnel closes the client connection', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      c.write('GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 101);
      await waitFor(() => target.connections.length > 0 && target.connections.at(-1)!.data.length > 0);
      target.connections.at(-1)!.socket.end();
      await c.waitClosed(3000);
    } finally {
      c.destroy();
    }
  });
});
