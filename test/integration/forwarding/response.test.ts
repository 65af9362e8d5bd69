/**
 * The response a client receives (SPEC §4 "Response"): the target's status and headers pass
 * unchanged (duplicates kept) except hop-by-hop ones, nothing is added, 1xx and trailers are
 * relayed to HTTP/1.1 clients, HTTP/1.0 clients get a framing they understand, and concurrent
 * exchanges never mix up responses.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startHttpTarget,
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  request,
  RawClient,
  header,
  headerValues,
  within,
  type HttpTarget,
  type RawTarget,
  type Running,
  type Echo,
} from '../harness/index.js';

describe('forwarding: response to the client', () => {
  let raw: RawTarget;
  let echo: HttpTarget;
  let lb: Running;

  before(async () => {
    raw = await startRawTarget({
      onRequest: (r, conn) => {
        const s = conn.socket;
        switch (r.target) {
          case '/headers':
            s.write(
              'HTTP/1.1 201 Made It\r\n' +
                'Set-Cookie: a=1; Path=/\r\n' +
                'X-Custom: One\r\n' +
                'Set-Cookie: b=2; HttpOnly\r\n' +
                'Connection: X-Hop\r\n' +
                'X-Hop: secret\r\n' +
                'Keep-Alive: timeout=5\r\n' +
                'Proxy-Connection: keep-alive\r\n' +
                'Content-Length: 4\r\n\r\nbody',
            );
            break;
          case '/non-ascii':
            // UTF-8 in a filename and a raw latin1 byte: relayed byte for byte.
            s.write(Buffer.from('HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename="r\xc3\xa9sum\xc3\xa9.pdf"\r\nX-Latin: caf\xe9\r\nContent-Length: 2\r\n\r\nok', 'latin1'));
            break;
          case '/trailers':
            s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n4\r\ndata\r\n0\r\nX-Checksum: abc123\r\n\r\n');
            break;
          case '/early-hints':
            s.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
            s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal');
            break;
          case '/chunked':
            s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunky\r\n0\r\n\r\n');
            break;
          default:
            s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }
      },
    });
    echo = await startHttpTarget('echo');
    lb = await startSwitchyard({
      listeners: [listener('raw', { forward: { targetGroup: 'raw' } }), listener('echo', { forward: { targetGroup: 'echo' } })],
      targetGroups: [group('raw', [raw.port]), group('echo', [echo.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await raw?.close();
    await echo?.close();
  });

  async function get(path: string, version = '1.1', extra = ''): Promise<{ r: Awaited<ReturnType<RawClient['readResponse']>>; c: RawClient }> {
    const c = await RawClient.connect(lb.port('raw'));
    c.write(`GET ${path} HTTP/${version}\r\nHost: a\r\n${extra}\r\n`);
    return { r: await c.readResponse(), c };
  }

  it('header values with bytes above 0x7F reach the client byte for byte (UTF-8 and latin1)', async () => {
    const c = await RawClient.connect(lb.port());
    try {
      c.write('GET /non-ascii HTTP/1.1\r\nHost: a\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.status, 200);
      assert.equal(header(r, 'content-disposition'), 'attachment; filename="r\xc3\xa9sum\xc3\xa9.pdf"');
      assert.equal(header(r, 'x-latin'), 'caf\xe9');
    } finally {
      c.destroy();
    }
  });

  it('status, reason and headers pass unchanged; hop-by-hop ones are removed; nothing is added', async () => {
    const { r, c } = await get('/headers');
    c.destroy();
    assert.equal(r.startLine, 'HTTP/1.1 201 Made It');
    assert.deepEqual(headerValues(r, 'set-cookie'), ['a=1; Path=/', 'b=2; HttpOnly']);
    assert.equal(header(r, 'x-custom'), 'One');
    for (const h of ['connection', 'x-hop', 'keep-alive', 'proxy-connection', 'server', 'date', 'transfer-encoding']) {
      assert.deepEqual(headerValues(r, h), [], `${h} in\n${r.head}`);
    }
    assert.deepEqual(r.headers.map(([n]) => n.toLowerCase()).sort(), ['content-length', 'set-cookie', 'set-cookie', 'x-custom']);
    assert.equal(r.body.toString(), 'body');
  });

  it('trailers of a chunked response are relayed', async () => {
    const { r, c } = await get('/trailers', '1.1', 'TE: trailers\r\n');
    c.destroy();
    assert.equal(r.framing, 'chunked');
    assert.equal(r.body.toString(), 'data');
    assert.deepEqual(r.trailers, [['X-Checksum', 'abc123']]);
  });

  it('a 103 interim response is relayed before the final one', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('GET /early-hints HTTP/1.1\r\nHost: a\r\n\r\n');
      const interim = await c.readResponse();
      assert.equal(interim.status, 103);
      assert.equal(header(interim, 'link'), '</style.css>; rel=preload');
      const final = await c.readResponse();
      assert.equal(final.status, 200);
      assert.equal(final.body.toString(), 'final');
    } finally {
      c.destroy();
    }
  });

  it('HTTP/1.0 client: a chunked response is de-chunked and close-delimited', async () => {
    const { r, c } = await get('/chunked', '1.0'); // the body ends with the close
    c.destroy();
    assert.equal(r.framing, 'close');
    assert.equal(r.body.toString(), 'chunky');
    assert.deepEqual(headerValues(r, 'transfer-encoding'), []);
  });

  it('HTTP/1.0 client with Connection: keep-alive keeps its connection for a length-delimited response', async () => {
    const c = await RawClient.connect(lb.port('raw'));
    try {
      c.write('GET /ok HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
      const r = await c.readResponse();
      assert.equal(r.body.toString(), 'ok');
      assert.equal(header(r, 'connection')?.toLowerCase(), 'keep-alive');
      c.write('GET /ok HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
      assert.equal((await c.readResponse()).body.toString(), 'ok');
    } finally {
      c.destroy();
    }
  });

  it('Expect: 100-continue is honoured end to end', async () => {
    const result = await within(
      new Promise<{ got100: boolean; echo: Echo }>((resolve, reject) => {
        let got100 = false;
        const req = http.request(
          { host: '127.0.0.1', port: lb.port('echo'), method: 'POST', path: '/continue', agent: false, headers: { expect: '100-continue', 'content-length': 5 } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (b: Buffer) => chunks.push(b));
            res.on('end', () => resolve({ got100, echo: JSON.parse(Buffer.concat(chunks).toString()) as Echo }));
          },
        );
        req.on('continue', () => {
          got100 = true;
          req.end('hello');
        });
        req.on('error', reject);
      }),
      5000,
    );
    assert.ok(result.got100);
    assert.equal(result.echo.bodyLength, 5);
  });

  it('200 concurrent requests on separate connections each get their own response', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    try {
      const all = await Promise.all(
        Array.from({ length: 200 }, (_, i) => request(lb.port('echo'), { method: i % 3 === 0 ? 'POST' : 'GET', path: `/c/${i}`, agent, ...(i % 3 === 0 ? { body: 'x'.repeat(i) } : {}) })),
      );
      for (const [i, r] of all.entries()) {
        assert.equal(r.status, 200);
        const e = r.json<Echo>();
        assert.equal(e.url, `/c/${i}`);
        if (i % 3 === 0) assert.equal(e.bodyLength, i);
      }
    } finally {
      agent.destroy();
    }
  });
});
