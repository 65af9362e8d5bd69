/**
 * The native data path (docs/decisions/0017): which connections the addon holds, and the
 * handover of a connection to the TypeScript engine at a request boundary. Everything else the
 * native path does is pinned by the whole integration suite, which `npm test` runs twice: with
 * the addon, and with SWITCHYARD_NATIVE=off (the TypeScript path alone).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRawTarget, startSwitchyard, listener, group, RawClient, waitFor, type RawTarget, type Running } from '../harness/index.js';
import { nativeEngine, nativeServes } from '../../../src/native/engine.js';
import { nativeUnavailableReason } from '../../../src/native/addon.js';

const native = process.env['SWITCHYARD_NATIVE'] !== 'off';

describe('native data path', () => {
  let target: RawTarget;
  let lb: Running;

  before(async () => {
    target = await startRawTarget({
      onRequest: (req, conn) => {
        conn.socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length + req.target.length}\r\n\r\n${req.target}`), req.body]));
      },
    });
    lb = await startSwitchyard({
      listeners: [
        listener('web', { forward: { targetGroup: 'g' } }),
        // A protection may need the body in JavaScript: this listener stays on the TypeScript path.
        { ...listener('guarded', { forward: { targetGroup: 'g' } }), protection: { ipDeny: ['192.0.2.0/24'] } },
      ],
      targetGroups: [group('g', [target.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
  });

  it('is built and loaded (npm install builds it; SWITCHYARD_NATIVE=off turns it off)', () => {
    if (native) assert.notEqual(nativeEngine(), null, `the addon did not load: ${nativeUnavailableReason()}`);
    else {
      assert.equal(nativeEngine(), null);
      assert.match(nativeUnavailableReason(), /SWITCHYARD_NATIVE=off/);
    }
  });

  it('holds the connections of a plain listener whose actions it serves, and no others', async () => {
    const web = lb.sy.runtime.listeners.get('web')!;
    const guarded = lb.sy.runtime.listeners.get('guarded')!;
    assert.equal(nativeServes(web), true);
    assert.equal(nativeServes(guarded), false);
    if (!native) return;
    const engine = nativeEngine()!;
    const before = engine.clients.size;
    const c = await RawClient.connect(lb.port('web'));
    const g = await RawClient.connect(lb.port('guarded'));
    try {
      c.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\n');
      g.write('GET /b HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).body.toString(), '/a');
      assert.equal((await g.readResponse()).body.toString(), '/b');
      // The keep-alive connection to "web" is the addon's; the one to "guarded" is not.
      assert.equal(engine.clients.size, before + 1);
    } finally {
      c.destroy();
      g.destroy();
    }
    await waitFor(() => engine.clients.size === before, 2000, 'the closed connection leaves the addon');
  });

  it('never gives a new connection the id of one still open, across the wrap of its 32-bit ids', async () => {
    if (!native) return;
    const engine = nativeEngine()!;
    const setNextId = (engine.addon as unknown as { _setNextId(n: number): void })._setNextId;
    const idOf = async (c: RawClient): Promise<number> => {
      await waitFor(() => [...engine.clients.values()].some((k) => k.remotePort === c.socket.localPort), 2000, 'the connection is held by the addon');
      return [...engine.clients.values()].find((k) => k.remotePort === c.socket.localPort)!.id;
    };
    const clients: RawClient[] = [];
    try {
      const a = await RawClient.connect(lb.port('web'));
      clients.push(a);
      const aId = await idOf(a);
      // The counter comes round to a's id (as after 2^32 connections), and then wraps past 0.
      setNextId(aId);
      const b = await RawClient.connect(lb.port('web'));
      clients.push(b);
      setNextId(0xffffffff);
      const c = await RawClient.connect(lb.port('web'));
      const d = await RawClient.connect(lb.port('web'));
      clients.push(c, d);
      const ids = await Promise.all(clients.map(idOf));
      assert.equal(new Set(ids).size, 4, `ids ${ids.join(', ')}`);
      assert.ok(!ids.includes(0));
      // Each connection gets its own responses.
      for (let round = 0; round < 2; round++) {
        clients.forEach((k, i) => k.write(`GET /k${i}-${round} HTTP/1.1\r\nHost: a\r\n\r\n`));
        for (const [i, k] of clients.entries()) assert.equal((await k.readResponse()).body.toString(), `/k${i}-${round}`);
      }
    } finally {
      for (const k of clients) k.destroy();
    }
  });

  it('hands a connection over at a request it does not serve, and the connection goes on', async () => {
    const c = await RawClient.connect(lb.port('web'));
    try {
      // Clean, then chunked (handed over with its bytes untouched), then clean again.
      c.write('POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
      assert.equal((await c.readResponse()).body.toString(), '/oneabc');
      c.write('POST /two HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n');
      assert.equal((await c.readResponse()).body.toString(), '/twoxyz');
      c.write('GET /three HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), '/three');
      assert.equal(c.closed, false);
    } finally {
      c.destroy();
    }
  });

  it('closes a pooled target connection after 4 s idle (before a Node target closes it at 5 s)', async () => {
    const c = await RawClient.connect(lb.port('web'));
    try {
      c.write('GET /idle-pool HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal((await c.readResponse()).status, 200);
    } finally {
      c.destroy();
    }
    const carrier = target.connections.find((conn) => conn.data.toString('latin1').includes('GET /idle-pool '));
    assert.ok(carrier !== undefined, 'the target saw the request');
    const parkedAt = Date.now();
    await waitFor(() => carrier.closed, 6000, 'the idle pooled connection is closed');
    const idleMs = Date.now() - parkedAt;
    assert.ok(idleMs >= 3500 && idleMs <= 5500, `closed after ${idleMs} ms`);
  });

  it('a request that is not clean is answered exactly as the TypeScript engine answers it', async () => {
    const c = await RawClient.connect(lb.port('web'));
    try {
      // Two Host fields: handed over, and refused 400 by dispatch as on the TypeScript path.
      c.write('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 400);
    } finally {
      c.destroy();
    }
  });

  it('relays a response that arrives whole with its head, and reuses the target connection only when nothing followed it', async () => {
    // One write from the target: head and body together (the addon writes both at once and the
    // exchange completes in the same call), optionally followed by stray bytes.
    const stray = await startRawTarget({
      onRequest: (req, conn) => {
        const tail = req.target === '/junk' ? 'HTTP/1.1 200 OK\r\n\r\nnot asked for' : '';
        const body = req.method === 'HEAD' || req.target === '/204' ? '' : `body of ${req.target}`;
        const status = req.target === '/204' ? '204 No Content' : '200 OK';
        const length = req.target === '/204' ? '' : `Content-Length: ${`body of ${req.target}`.length}\r\n`;
        conn.socket.write(`HTTP/1.1 ${status}\r\nConnection: x-hop\r\nX-Hop: drop me\r\nX-Kept: yes\r\n${length}\r\n${body}${tail}`);
      },
    });
    const lb2 = await startSwitchyard({ listeners: [listener('web', { forward: { targetGroup: 's' } })], targetGroups: [group('s', [stray.port])] });
    const c = await RawClient.connect(lb2.port('web'));
    try {
      const ask = async (method: string, path: string): Promise<{ status: number; body: string; headers: Record<string, string> }> => {
        c.write(`${method} ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const r = await c.readResponse({ head: method === 'HEAD' });
        const headers: Record<string, string> = {};
        for (const [name, value] of r.headers) headers[name.toLowerCase()] = value;
        return { status: r.status, body: r.body.toString(), headers };
      };
      const first = await ask('GET', '/a');
      assert.deepEqual([first.status, first.body, first.headers['x-kept'], first.headers['x-hop'], first.headers['content-length']], [200, 'body of /a', 'yes', undefined, '10']);
      assert.equal((await ask('GET', '/b')).body, 'body of /b');
      assert.equal(stray.connections.length, 1, 'a clean whole response leaves the target connection reusable');
      const head = await ask('HEAD', '/h');
      assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '10']);
      const noContent = await ask('GET', '/204');
      assert.deepEqual([noContent.status, noContent.body, noContent.headers['content-length']], [204, '', undefined]);
      assert.equal(stray.connections.length, 1);
      assert.equal((await ask('GET', '/junk')).body, 'body of /junk');
      // Bytes after the response: that connection is never used again.
      assert.equal((await ask('GET', '/c')).body, 'body of /c');
      assert.equal(stray.connections.length, 2, 'the connection that sent stray bytes was not reused');
      assert.equal(c.closed, false);
    } finally {
      c.destroy();
      await lb2.close();
      await stray.close();
    }
  });
});
