/**
 * Hot reload over real sockets (SPEC §1, §6): 100 reloads in a row under a steady, bounded load
 * lose no request; a request is served wholly by the config it started under; a WebSocket on a
 * route the reload does not touch stays open; listeners are opened and closed as the new config
 * says; an invalid config is refused and the old one keeps serving.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Switchyard } from '../../../src/control/switchyard.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { parseConfigText } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import {
  startHttpTarget,
  startRawTarget,
  request,
  waitFor,
  RawClient,
  parseRequest,
  header,
  type HttpTarget,
  type RawTarget,
  type Echo,
} from '../harness/index.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

interface Ports {
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly slow: number;
  readonly ws: number;
}

/**
 * Two valid configs that differ in a fixed response, the target list of `g` (t1+t2 or t2+t3),
 * where /slow goes, and whether the `extra` listener exists. The /ws route is the same in both.
 */
function yaml(variant: 'A' | 'B', p: Ports, o: { extra?: boolean } = {}): string {
  return `
accessLog: { path: "off" }
settings: { shutdownTimeoutSeconds: 5 }
listeners:
  - name: web
    protocol: HTTP
    host: 127.0.0.1
    port: 0
    rules:
      - priority: 1
        match: { path: ["/which"] }
        fixedResponse: { statusCode: 200, contentType: text/plain, body: "${variant}" }
      - priority: 2
        match: { path: ["/ws"] }
        forward: { targetGroup: ws }
      - priority: 3
        match: { path: ["/slow"] }
${variant === 'A' ? '        forward: { targetGroup: slow }' : '        fixedResponse: { statusCode: 200, body: "slow route moved" }'}
    defaultAction: { forward: { targetGroup: g } }
${o.extra ? `  - name: extra
    protocol: HTTP
    host: 127.0.0.1
    port: 0
    defaultAction: { fixedResponse: { statusCode: 200, body: "extra" } }
` : ''}targetGroups:
  - name: g
    healthCheck: { enabled: false }
    deregistrationDelaySeconds: 5
    targets: ${variant === 'A' ? `[{ host: 127.0.0.1, port: ${p.t1} }, { host: 127.0.0.1, port: ${p.t2} }]` : `[{ host: 127.0.0.1, port: ${p.t2} }, { host: 127.0.0.1, port: ${p.t3} }]`}
  - name: ws
    healthCheck: { enabled: false }
    targets: [{ host: 127.0.0.1, port: ${p.ws} }]
${variant === 'A' ? `  - name: slow
    healthCheck: { enabled: false }
    targets: [{ host: 127.0.0.1, port: ${p.slow} }]
` : ''}`;
}

function parse(text: string): Config {
  const r = parseConfigText(text, 'test.yaml', {});
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** A WebSocket-ish target: answers the handshake with 101, then echoes every byte. */
function startEchoWebSocketTarget(): Promise<RawTarget> {
  const upgraded = new WeakSet<object>();
  return startRawTarget({
    raw: (conn, chunk) => {
      if (upgraded.has(conn)) {
        conn.socket.write(chunk);
        return;
      }
      const req = parseRequest(conn.data);
      if (req === null) return;
      upgraded.add(conn);
      const accept = createHash('sha1').update(header(req, 'sec-websocket-key') + GUID).digest('base64');
      conn.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    },
  });
}

async function openWebSocket(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.write(
    `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const r = await c.readResponse();
  assert.equal(r.status, 101);
  return c;
}

async function echoes(c: RawClient, text: string): Promise<void> {
  const before = c.unread.length;
  c.write(text);
  await c.until(() => c.unread.subarray(before).toString('latin1').includes(text), 3000, `echo of ${text}`);
}

/** Resolves true when a TCP connection to `port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('hot reload', () => {
  let dir: string;
  let file: string;
  let t1: HttpTarget, t2: HttpTarget, t3: HttpTarget, slow: HttpTarget;
  let ws: RawTarget;
  let ports: Ports;
  let sy: Switchyard;
  const releases: (() => void)[] = [];

  const port = (): number => sy.listeners.get('web')!.port;
  const reloadViaAdmin = async (text: string): Promise<void> => {
    await writeFile(file, text);
    const r = await request(sy.adminPort!, { method: 'POST', path: '/api/v1/reload' });
    assert.equal(r.status, 200, r.text);
  };
  const reloadViaApply = async (text: string): Promise<void> => {
    const r = await sy.apply(parse(text));
    assert.ok(r.ok, JSON.stringify(r));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-reload-'));
    file = join(dir, 'switchyard.yaml');
    t1 = await startHttpTarget('t1');
    t2 = await startHttpTarget('t2');
    t3 = await startHttpTarget('t3');
    slow = await startHttpTarget('slow', {
      handler: (_req, res) => {
        releases.push(() => {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13' });
          res.end('slow finished');
        });
      },
    });
    ws = await startEchoWebSocketTarget();
    ports = { t1: t1.port, t2: t2.port, t3: t3.port, slow: slow.port, ws: ws.port };
    await writeFile(file, yaml('A', ports));
    sy = await Switchyard.start({ configFile: file, adminPort: 0, accessLogPath: 'off', logger: silentLogger() });
  });

  after(async () => {
    for (const r of releases) r();
    await sy?.close();
    await Promise.all([t1, t2, t3, slow].map((t) => t?.close()));
    await ws?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('100 reloads in a row under a steady load lose no request', async () => {
    const A = yaml('A', ports);
    const B = yaml('B', ports);
    const web = port();
    const workers = 4;
    let stop = false;
    let done = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const agents: http.Agent[] = [];
    const loops: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      // One keep-alive connection per worker, reused across every reload.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      loops.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            const path = i % 3 === 0 ? '/which' : `/load/${w}/${i}`;
            try {
              const r = await request(web, { path, agent, timeoutMs: 5000 });
              if (r.status !== 200) failures.push(`${path}: ${r.status} ${r.text}`);
              else seen.add(path === '/which' ? `which:${r.text}` : `target:${r.json<Echo>().name}`);
            } catch (e) {
              failures.push(`${path}: ${(e as Error).message}`);
            }
            done++;
          }
        })(),
      );
    }
    const generation = sy.generation;
    const newConnections = (): number => sy.metrics.snapshot().find((l) => l.name === 'web')?.newConnections ?? 0;
    const connectionsBefore = newConnections();
    try {
      await waitFor(() => done >= workers * 5, 5000, 'load running');
      for (let i = 0; i < 100; i++) {
        const text = i % 2 === 0 ? B : A;
        if (i % 4 < 2) await reloadViaApply(text);
        else await reloadViaAdmin(text);
        // Let requests run against this config before the next reload.
        const mark = done;
        await waitFor(() => done >= mark + workers, 5000, 'requests between reloads');
      }
    } finally {
      stop = true;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
    }
    assert.deepEqual(failures, []);
    assert.equal(sy.generation, generation + 100);
    assert.ok(done >= 100 * workers, `requests done: ${done}`);
    // Both configs really served: both fixed responses and all three targets were seen.
    for (const s of ['which:A', 'which:B', 'target:t1', 'target:t2', 'target:t3']) assert.ok(seen.has(s), `${s} in ${[...seen].join(', ')}`);
    assert.equal(port(), web, 'the unchanged listener kept its socket');
    assert.equal(newConnections() - connectionsBefore, workers, 'every client kept its one keep-alive connection through all reloads');
    const metrics = await request(sy.adminPort!, { path: '/metrics' });
    assert.match(metrics.text, /^switchyard_reloads_total\{result="ok"\} 100$/m);
    // Back to A for the tests below.
    await reloadViaAdmin(A);
  });

  it('a request is served wholly by the config it started under', async () => {
    const inflight = request(port(), { path: '/slow', timeoutMs: 10_000 });
    await waitFor(() => releases.length > 0, 5000, 'slow request at its target');
    // B sends /slow elsewhere and drops the slow group.
    await reloadViaApply(yaml('B', ports));
    const moved = await request(port(), { path: '/slow' });
    assert.equal(moved.text, 'slow route moved', 'new requests follow the new config');
    releases.shift()!();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.text, 'slow finished', 'the request that started under A finished under A');
    await reloadViaApply(yaml('A', ports));
  });

  it('a WebSocket on a route the reload does not touch stays open', async () => {
    const c = await openWebSocket(port());
    try {
      await echoes(c, 'before-reload');
      await reloadViaApply(yaml('B', ports));
      await echoes(c, 'after-reload-1');
      await reloadViaAdmin(yaml('A', ports, { extra: true }));
      await reloadViaAdmin(yaml('A', ports));
      await echoes(c, 'after-reload-3');
      assert.equal(c.closed, false);
      assert.equal(ws.connections.filter((x) => !x.closed).length >= 1, true);
    } finally {
      c.destroy();
    }
  });

  it('a listener added by a reload accepts; removed by the next, it stops', async () => {
    assert.equal(sy.listeners.has('extra'), false);
    await reloadViaAdmin(yaml('A', ports, { extra: true }));
    const extra = sy.listeners.get('extra')!.port;
    const r = await request(extra, { path: '/' });
    assert.equal(r.text, 'extra');
    const status = (await request(sy.adminPort!, { path: '/api/v1/status' })).json<{ listeners: { name: string; port: number }[] }>();
    assert.deepEqual(status.listeners.map((l) => l.name).sort(), ['extra', 'web']);
    await reloadViaApply(yaml('A', ports));
    assert.equal(sy.listeners.has('extra'), false);
    await waitFor(() => refused(extra), 3000, 'the removed listener refuses connections');
    assert.equal((await request(port(), { path: '/which' })).text, 'A', 'the other listener is untouched');
  });

  it('an invalid config through PUT is refused with its errors; the old config keeps serving', async () => {
    const generation = sy.generation;
    const bad = yaml('B', ports).replace('priority: 2', 'priority: 1').replace('targetGroup: g }', 'targetGroup: nope }');
    const r = await request(sy.adminPort!, { method: 'PUT', path: '/api/v1/config', body: bad });
    assert.equal(r.status, 400, r.text);
    const body = r.json<{ errors: { path: string; message: string }[] }>();
    assert.ok(body.errors.length >= 2, r.text);
    assert.ok(body.errors.some((e) => /priorit/i.test(e.message)), r.text);
    assert.ok(body.errors.some((e) => /nope/.test(e.message)), r.text);
    assert.equal(sy.generation, generation);
    assert.equal((await request(port(), { path: '/which' })).text, 'A');
    const name = (await request(port(), { path: '/x' })).json<Echo>().name;
    assert.ok(['t1', 't2'].includes(name), name);
  });
});
