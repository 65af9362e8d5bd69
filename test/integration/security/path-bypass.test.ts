/**
 * Path handling is consistent with routing (docs/decisions/0002), through the whole proxy: a
 * rule that denies `/admin` cannot be bypassed by percent-encoding, dot-segments, encoded
 * separators or absolute-form targets. Every request either meets the rule (403 from the
 * rule's fixed response), is refused (400), or reaches the target with a path that is not the
 * denied one — and the target always receives exactly the normalised path the rules saw.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpTarget, startSwitchyard, listener, group, RawClient, type HttpTarget, type Running } from '../harness/index.js';

/** One GET on a fresh connection (`Connection: close`): status and body. */
async function get(lb: Running, requestTarget: string, host = 'a.example'): Promise<{ status: number; body: string }> {
  const c = await RawClient.connect(lb.port());
  try {
    c.write(`GET ${requestTarget} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const r = await c.readResponse();
    return { status: r.status, body: r.body.toString() };
  } finally {
    c.destroy();
  }
}

describe('no rule can be bypassed by encoding', () => {
  let target: HttpTarget;
  let lb: Running;

  before(async () => {
    target = await startHttpTarget('t');
    lb = await startSwitchyard({
      listeners: [
        listener('web', { forward: { targetGroup: 'g' } }, [
          { priority: 10, match: { path: ['/admin', '/admin/*'] }, fixedResponse: { statusCode: 403, body: 'denied by rule' } },
          { priority: 20, match: { host: ['admin.example'] }, fixedResponse: { statusCode: 403, body: 'denied by host rule' } },
        ]),
      ],
      targetGroups: [group('g', [target.port])],
    });
  });

  after(async () => {
    await lb?.close();
    await target?.close();
  });

  const send = (requestTarget: string, host = 'a.example'): Promise<{ status: number; body: string }> => get(lb, requestTarget, host);

  const DENIED = [
    '/admin',
    '/admin/',
    '/admin/users',
    '/admin?x=1',
    '/%61dmin',
    '/%61%64%6D%69%6E/users',
    '/admi%6e',
    '/public/../admin',
    '/public/%2e%2e/admin',
    '/public/%2E%2E/admin/x',
    '/public/.%2e/admin',
    '/public/%2e./admin',
    '/./admin',
    '/%2e/admin',
    '/a/b/../../admin/x',
    '/admin/./x',
    '/admin/x/..',
    'http://a.example/%61dmin',
    'HTTP://A.EXAMPLE/public/../admin',
  ];
  for (const t of DENIED) {
    it(`${t} meets the /admin rule`, async () => {
      const before = target.requests.length;
      const r = await send(t);
      assert.equal(r.status, 403, `${r.status} ${r.body}`);
      assert.equal(r.body, 'denied by rule');
      assert.equal(target.requests.length, before, 'nothing reached the target');
    });
  }

  const REFUSED = [
    '/admin%2f',
    '/admin%2Fusers',
    '/public/..%2fadmin',
    '/public/..%2Fadmin',
    '/public/..%5cadmin',
    '/public/..%5Cadmin',
    '/public\\..\\admin',
    '/public/..\\admin',
    '/admin%00',
    '/%00/admin',
    '/../admin',
    '/%2e%2e/admin',
    '/public/..;/admin',
    '/public/.;/admin',
    '/admin#x',
    '/adm%zzin',
    '/adm%6',
  ];
  for (const t of REFUSED) {
    it(`${JSON.stringify(t)} is refused (400)`, async () => {
      const before = target.requests.length;
      const r = await send(t);
      assert.equal(r.status, 400, `${r.status} ${r.body}`);
      assert.equal(target.requests.length, before, 'nothing reached the target');
    });
  }

  const FORWARDED: readonly (readonly [string, string])[] = [
    // Escapes of reserved or non-ASCII bytes stay encoded (uppercased), never decoded twice.
    ['/%2561dmin', '/%2561dmin'],
    ['/%2561%2564min/x', '/%2561%2564min/x'],
    ['/admin%20', '/admin%20'],
    ['/%c0%afadmin', '/%C0%AFadmin'],
    ['/administrator', '/administrator'],
    ['/public/./a/../b', '/public/b'],
    ['/public/%7euser', '/public/~user'],
  ];
  for (const [sent, received] of FORWARDED) {
    it(`${sent} reaches the target as ${received}, exactly the path the rules saw`, async () => {
      const r = await send(sent);
      assert.equal(r.status, 200, `${r.status} ${r.body}`);
      assert.equal(JSON.parse(r.body).url, received);
    });
  }

  it('host rules: case, port, a trailing dot and absolute-form all meet the rule', async () => {
    for (const [t, host] of [
      ['/', 'admin.example'],
      ['/', 'ADMIN.Example'],
      ['/', 'admin.example.'],
      ['/', 'admin.example:8080'],
      ['http://admin.example/', 'admin.example'],
    ] as const) {
      const r = await send(t, host);
      assert.equal(r.status, 403, `${t} Host ${host}: ${r.status}`);
      assert.equal(r.body, 'denied by host rule');
    }
    // A Host that disagrees with the absolute-form authority never reaches a rule or a target.
    assert.equal((await send('http://admin.example/', 'a.example')).status, 400);
    assert.equal((await send('http://a.example/', 'admin.example')).status, 400);
  });
});

describe('settings.mergeSlashes', () => {
  let target: HttpTarget;
  let merging: Running;
  let keeping: Running;

  before(async () => {
    target = await startHttpTarget('t');
    const config = (mergeSlashes: boolean): Parameters<typeof startSwitchyard>[0] => ({
      settings: { mergeSlashes },
      listeners: [
        listener('web', { forward: { targetGroup: 'g' } }, [
          { priority: 10, match: { path: ['/admin', '/admin/*'] }, fixedResponse: { statusCode: 403, body: 'denied by rule' } },
        ]),
      ],
      targetGroups: [group('g', [target.port])],
    });
    merging = await startSwitchyard(config(true));
    keeping = await startSwitchyard(config(false));
  });

  after(async () => {
    await merging?.close();
    await keeping?.close();
    await target?.close();
  });

  for (const t of ['//admin', '///admin/users', '/public//..//admin', '//%61dmin']) {
    it(`on: ${t} meets the /admin rule; off: it reaches the target as sent`, async () => {
      const before = target.requests.length;
      const r = await get(merging, t);
      assert.equal(r.status, 403, `${r.status} ${r.body}`);
      assert.equal(target.requests.length, before, 'nothing reached the target');
      const kept = await get(keeping, t);
      assert.equal(kept.status, 200, `${kept.status} ${kept.body}`);
    });
  }

  it('on: the target receives the merged path the rules saw', async () => {
    const r = await get(merging, '//public///a//b?x=1');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).url, '/public/a/b?x=1');
    const kept = await get(keeping, '//public///a//b?x=1');
    assert.equal(JSON.parse(kept.body).url, '//public///a//b?x=1');
  });
});
