/**
 * A WebSocket handshake through a sticky group: the relayed 101 carries the SWITCHYARD cookie
 * (browsers store cookies from a handshake response), and a handshake with it reaches the
 * same target.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRawTarget, startSwitchyard, listener, group, RawClient, parseRequest, header, headerValues, type RawTarget, type Running } from '../harness/index.js';
import { SECRET } from './sticky-harness.js';

function wsTarget(name: string): Promise<RawTarget> {
  const offset = new WeakMap<object, number>();
  return startRawTarget({
    raw: (conn) => {
      const from = offset.get(conn) ?? 0;
      const req = parseRequest(conn.data, from);
      if (req === null) return;
      offset.set(conn, from + req.consumed);
      conn.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Target: ${name}\r\n\r\n`);
    },
  });
}

describe('stickiness and WebSocket upgrades', () => {
  let a: RawTarget, b: RawTarget;
  let lb: Running;

  before(async () => {
    a = await wsTarget('a');
    b = await wsTarget('b');
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [listener('web', { forward: { targetGroup: 'ws' } })],
      targetGroups: [group('ws', [a.port, b.port], { algorithm: 'round_robin', stickiness: { enabled: true, durationSeconds: 60 } })],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
  });

  async function handshake(cookie: string | null): Promise<{ target: string; setCookies: string[] }> {
    const c = await RawClient.connect(lb.port());
    try {
      c.write(
        'GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          (cookie === null ? '' : `Cookie: ${cookie}\r\n`) +
          '\r\n',
      );
      const r = await c.readResponse({ head: true });
      assert.equal(r.status, 101);
      return { target: header(r, 'x-target') ?? '', setCookies: headerValues(r, 'set-cookie') };
    } finally {
      c.destroy();
    }
  }

  it('the 101 carries SWITCHYARD, and a handshake with it reaches the same target', async () => {
    const first = await handshake(null);
    assert.equal(first.setCookies.length, 1);
    assert.match(first.setCookies[0]!, /^SWITCHYARD=1\.[A-Za-z0-9_-]+; Path=\/; Max-Age=60; HttpOnly; SameSite=Lax$/);
    const cookie = first.setCookies[0]!.split(';')[0]!;
    for (let i = 0; i < 4; i++) {
      const again = await handshake(cookie);
      assert.equal(again.target, first.target);
      assert.deepEqual(again.setCookies, []);
    }
    // Without it, round robin alternates.
    const x = await handshake(null);
    const y = await handshake(null);
    assert.notEqual(x.target, y.target);
  });
});
