/**
 * Draining (SPEC §4) and losing a target under load, over real sockets: a deregistered target
 * takes no new requests while its in-flight request finishes (state draining, then unused); a
 * request longer than deregistrationDelaySeconds is cut after the delay, and so is an open
 * WebSocket; a target killed under load costs no request (retries and passive health move the
 * traffic to the other one).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { Target } from '../../../src/targets/target.js';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  request,
  waitFor,
  RawClient,
  parseRequest,
  header,
  type HttpTarget,
  type RawTarget,
  type Running,
  type Echo,
} from '../harness/index.js';

interface Status {
  targetGroups: { name: string; targets: { id: string; state: string; inFlight: number }[] }[];
}

/** A target that holds /slow (and /hang) until released; anything else is echoed. */
async function holdingTarget(name: string): Promise<HttpTarget & { held: (() => void)[] }> {
  const held: (() => void)[] = [];
  const t = await startHttpTarget(name, {
    handler: (req, res, body) => {
      if (req.url === '/slow' || req.url === '/hang') {
        held.push(() => {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13', 'x-target': name });
          res.end('slow finished');
        });
        return;
      }
      const text = JSON.stringify({ name, url: req.url, bodyLength: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
  });
  return Object.assign(t, { held });
}

describe('draining a deregistered target', () => {
  let slowT: Awaited<ReturnType<typeof holdingTarget>>;
  let other: HttpTarget;
  let ws: RawTarget;
  let lb: Running;

  const admin = (method: string, path: string, body?: unknown): Promise<import('../harness/index.js').Reply> =>
    request(lb.adminPort!, { method, path, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const stateIn = async (groupName: string, id: string): Promise<string | undefined> => {
    const s = (await admin('GET', '/api/v1/status')).json<Status>();
    return s.targetGroups.find((g) => g.name === groupName)?.targets.find((t) => t.id === id)?.state;
  };

  before(async () => {
    slowT = await holdingTarget('slow');
    other = await startHttpTarget('other');
    const upgraded = new WeakSet<object>();
    ws = await startRawTarget({
      raw: (conn, chunk) => {
        if (upgraded.has(conn)) {
          conn.socket.write(chunk);
          return;
        }
        const req = parseRequest(conn.data);
        if (req === null) return;
        upgraded.add(conn);
        const accept = createHash('sha1').update(header(req, 'sec-websocket-key') + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        conn.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      },
    });
    lb = await startSwitchyard(
      {
        admin: {},
        listeners: [
          listener('long', { forward: { targetGroup: 'long' } }),
          listener('short', { forward: { targetGroup: 'short' } }),
          listener('ws', { forward: { targetGroup: 'ws' } }),
        ],
        targetGroups: [
          group('long', [slowT.port], { deregistrationDelaySeconds: 10 }),
          group('short', [slowT.port], { deregistrationDelaySeconds: 0.5 }),
          group('ws', [ws.port], { deregistrationDelaySeconds: 0.5 }),
        ],
      },
      { admin: true },
    );
  });

  after(async () => {
    for (const r of slowT?.held ?? []) r();
    await lb?.close();
    await slowT?.close();
    await other?.close();
    await ws?.close();
  });

  it('the in-flight request completes; new requests go elsewhere; draining, then unused', async () => {
    const id = `127.0.0.1:${slowT.port}`;
    const t: Target = lb.sy.groups.get('long')!.targets.get(id)!;
    const inflight = request(lb.port('long'), { path: '/slow', timeoutMs: 10_000 });
    await waitFor(() => slowT.held.length === 1, 5000, 'slow request at the target');
    assert.equal((await admin('POST', '/api/v1/target-groups/long/targets', { host: '127.0.0.1', port: other.port })).status, 201);

    const del = await admin('DELETE', `/api/v1/target-groups/long/targets/${id}`);
    assert.equal(del.status, 202, del.text);
    assert.equal(del.json<{ state: string }>().state, 'draining');
    assert.equal(await stateIn('long', id), 'draining');
    assert.equal(t.inFlight, 1);

    const before = slowT.requests.length;
    for (let i = 0; i < 10; i++) assert.equal((await request(lb.port('long'), { path: `/new/${i}` })).json<Echo>().name, 'other');
    assert.equal(slowT.requests.length, before, 'a draining target takes no new request');

    slowT.held.shift()!();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.text, 'slow finished');
    // Done at once when its last request ends, not after the 10 s delay.
    await waitFor(() => t.state === 'unused', 2000, 'unused after the last request');
    const after = await stateIn('long', id);
    assert.ok(after === undefined || after === 'unused', String(after));
  });

  it('a request longer than deregistrationDelaySeconds is cut after the delay', async () => {
    const id = `127.0.0.1:${slowT.port}`;
    const t: Target = lb.sy.groups.get('short')!.targets.get(id)!;
    const inflight = request(lb.port('short'), { path: '/hang', timeoutMs: 10_000 });
    await waitFor(() => slowT.held.length === 1, 5000, 'request at the target');
    assert.equal((await admin('POST', '/api/v1/target-groups/short/targets', { host: '127.0.0.1', port: other.port })).status, 201);
    const deregistered = Date.now();
    assert.equal((await admin('DELETE', `/api/v1/target-groups/short/targets/${id}`)).status, 202);
    assert.equal(t.state, 'draining');
    const r = await inflight;
    const elapsed = Date.now() - deregistered;
    assert.equal(r.status, 502, 'the load balancer answers the cut request itself');
    assert.ok(elapsed >= 450, `not before the delay (${elapsed} ms)`);
    assert.ok(elapsed < 3000, `soon after the delay (${elapsed} ms)`);
    assert.equal(t.state, 'unused');
    slowT.held.shift()!();
  });

  it('an open WebSocket to a draining target lives until the delay, then is closed', async () => {
    const c = await RawClient.connect(lb.port('ws'));
    try {
      c.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      assert.equal((await c.readResponse()).status, 101);
      const id = `127.0.0.1:${ws.port}`;
      const deregistered = Date.now();
      assert.equal((await admin('DELETE', `/api/v1/target-groups/ws/targets/${id}`)).status, 202);
      assert.equal(await stateIn('ws', id), 'draining');
      c.write('still-open');
      await c.until(() => c.unread.toString().includes('still-open'), 2000, 'echo while draining');
      await c.waitClosed(3000);
      assert.ok(Date.now() - deregistered >= 450, 'closed after the delay, not before');
    } finally {
      c.destroy();
    }
  });
});

describe('a target killed under load', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    lb = await startSwitchyard({
      listeners: [listener('web', { forward: { targetGroup: 'g' } })],
      targetGroups: [
        group('g', [a.port, b.port], {
          retryIdempotentRequests: true,
          healthCheck: { enabled: true, path: '/', intervalSeconds: 0.2, timeoutSeconds: 0.2, healthyThreshold: 1, unhealthyThreshold: 2 },
        }),
      ],
    });
    const g = lb.sy.groups.get('g')!;
    await waitFor(() => [...g.targets.values()].every((t) => t.state === 'healthy'), 5000, 'both healthy');
  });

  after(async () => {
    await lb?.close();
    await a?.close();
    await b?.close();
  });

  it('requests keep succeeding on the other target', async () => {
    const workers = 4;
    let stop = false;
    let done = 0;
    let killedAt = -1;
    const failures: string[] = [];
    const servedAfterKill = new Set<string>();
    const agents: http.Agent[] = [];
    const loops: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      loops.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            const startedAfterKill = killedAt >= 0;
            try {
              const r = await request(lb.port(), { path: `/w${w}/${i}`, agent, timeoutMs: 5000 });
              if (r.status !== 200) failures.push(`${r.status} ${r.text}`);
              else if (startedAfterKill) servedAfterKill.add(r.json<Echo>().name);
            } catch (e) {
              failures.push((e as Error).message);
            }
            done++;
          }
        })(),
      );
    }
    try {
      await waitFor(() => done >= 100 && a.requests.length > 10, 5000, 'load on both targets');
      await a.close();
      killedAt = done;
      await waitFor(() => done >= killedAt + 300, 10_000, 'load after the kill');
    } finally {
      stop = true;
      await Promise.all(loops);
      for (const ag of agents) ag.destroy();
    }
    assert.deepEqual(failures, []);
    assert.deepEqual([...servedAfterKill], ['b']);
    const t = lb.sy.groups.get('g')!.targets.get(`127.0.0.1:${a.port}`)!;
    assert.equal(t.state, 'unhealthy');
  });
});
