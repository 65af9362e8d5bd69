/**
 * The access log (SPEC §6): one JSON line per request with every documented field, for
 * forwarded requests, generated responses, target errors and malformed requests.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  refusedPort,
  RawClient,
  waitFor,
  type HttpTarget,
  type Running,
} from '../harness/index.js';

const FIELDS = {
  time: 'string',
  clientIp: 'string',
  clientPort: 'number',
  listener: 'string',
  rulePriority: 'number',
  targetGroup: 'string',
  target: 'string',
  method: 'string',
  host: 'string',
  path: 'string',
  status: 'number',
  bytesIn: 'number',
  bytesOut: 'number',
  requestMs: 'number',
  targetMs: 'number',
  responseMs: 'number',
  error: 'string',
} as const;

type Line = { [K in keyof typeof FIELDS]: (typeof FIELDS)[K] extends 'string' ? string : number };

describe('access log', () => {
  let dir: string;
  let file: string;
  let target: HttpTarget;
  let lb: Running;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-log-'));
    file = join(dir, 'access.log');
    target = await startHttpTarget('t');
    const dead = await refusedPort();
    lb = await startSwitchyard(
      {
        listeners: [
          listener('web', { fixedResponse: { statusCode: 404, body: 'no route' } }, [
            { priority: 5, match: { path: ['/fwd/*'] }, forward: { targetGroup: 'g' } },
            { priority: 7, match: { path: ['/dead'] }, forward: { targetGroup: 'dead' } },
          ]),
        ],
        targetGroups: [group('g', [target.port]), group('dead', [dead])],
      },
      { accessLogPath: file },
    );
  });

  after(async () => {
    await lb?.close();
    await target?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function lines(): Promise<Line[]> {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Line);
  }

  function assertShape(l: Line): void {
    for (const [k, type] of Object.entries(FIELDS)) assert.equal(typeof (l as Record<string, unknown>)[k], type, `field ${k} in ${JSON.stringify(l)}`);
    assert.ok(!Number.isNaN(Date.parse(l.time)));
    for (const k of ['requestMs', 'targetMs', 'responseMs', 'bytesIn', 'bytesOut'] as const) assert.ok(l[k] >= 0, `${k} >= 0`);
  }

  it('writes one line per request with every field', async () => {
    const c = await RawClient.connect(lb.port());
    const clientPort = c.socket.localPort!;
    const fwd = 'POST /fwd/a?q=1 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\nhello';
    const fixed = 'GET /nothing HTTP/1.1\r\nHost: example.test\r\n\r\n';
    const dead = 'GET /dead HTTP/1.1\r\nHost: example.test\r\n\r\n';
    const sizes: number[] = [];
    try {
      for (const req of [fwd, fixed, dead]) {
        c.write(req);
        const before = c.data.length - c.unread.length;
        const r = await c.readResponse();
        sizes.push(r.consumed);
        void before;
      }
    } finally {
      c.destroy();
    }
    const bad = await RawClient.connect(lb.port());
    bad.write('NONSENSE\r\n\r\n');
    await bad.waitClosed();
    bad.destroy();

    const all = await waitFor(async () => {
      const l = await lines();
      return l.length >= 4 ? l : null;
    }, 5000, 'four access log lines');
    assert.equal(all.length, 4);
    for (const l of all) assertShape(l);
    const [f, x, d, p] = all as [Line, Line, Line, Line];

    assert.equal(f.clientIp, '127.0.0.1');
    assert.equal(f.clientPort, clientPort);
    assert.equal(f.listener, 'web');
    assert.equal(f.rulePriority, 5);
    assert.equal(f.targetGroup, 'g');
    assert.equal(f.target, `127.0.0.1:${target.port}`);
    assert.equal(f.method, 'POST');
    assert.equal(f.host, 'example.test');
    assert.equal(f.path, '/fwd/a');
    assert.equal(f.status, 200);
    assert.equal(f.bytesIn, Buffer.byteLength(fwd));
    assert.equal(f.bytesOut, sizes[0]);
    assert.equal(f.error, '');

    assert.equal(x.rulePriority, 0, 'default action');
    assert.equal(x.status, 404);
    assert.equal(x.targetGroup, '');
    assert.equal(x.target, '');
    assert.equal(x.path, '/nothing');
    assert.equal(x.bytesIn, Buffer.byteLength(fixed));
    assert.equal(x.bytesOut, sizes[1]);
    assert.equal(x.error, '');

    assert.equal(d.rulePriority, 7);
    assert.equal(d.status, 502);
    assert.equal(d.targetGroup, 'dead');
    assert.equal(d.error, 'SY_ERR_TARGET_CONNECT_REFUSED');
    assert.equal(d.bytesOut, sizes[2]);

    assert.equal(p.status, 400);
    assert.equal(p.listener, 'web');
    assert.match(p.error, /^SY_ERR_CLIENT_/);
  });

  it('close() flushes what is buffered', async () => {
    const before = (await lines()).length;
    const c = await RawClient.connect(lb.port());
    c.write('GET /flush HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await c.readResponse();
    await c.waitClosed();
    c.destroy();
    await lb.close();
    const after = await lines();
    assert.equal(after.length, before + 1);
    assert.equal(after.at(-1)!.path, '/flush');
  });
});
