/**
 * Group stickiness over real sockets (SPEC §4): on a weighted forward, SWITCHYARDTG keeps a
 * client on the target group it was first given, so a 50/50 canary split does not bounce it;
 * two sticky forwards keep their entries side by side in the one cookie; a group that lost
 * all its targets, or has weight 0, is not followed; forwards without group stickiness (or
 * with a single group) never set it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpTarget, startSwitchyard, listener, group, request, type HttpTarget, type Running, type Reply } from '../harness/index.js';
import { StickyKind } from '../../../src/targets/stickiness/cookie-codec.js';
import { answeredBy, codec, entriesOf, mustSetCookie, nowSeconds, SECRET, setCookieOf } from './sticky-harness.js';

describe('group stickiness (SWITCHYARDTG)', () => {
  const targets: Record<string, HttpTarget> = {};
  let lb: Running;

  before(async () => {
    for (const n of ['blue', 'green', 'red', 'yellow', 'grey']) targets[n] = await startHttpTarget(n);
    const port = (n: string): number => targets[n]!.port;
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [
        listener('web', { forward: { targetGroups: [{ name: 'blue', weight: 50 }, { name: 'green', weight: 50 }], stickiness: { enabled: true, durationSeconds: 300 } } }, [
          {
            priority: 10,
            match: { path: ['/other/*'] },
            forward: { targetGroups: [{ name: 'red', weight: 1 }, { name: 'yellow', weight: 1 }, { name: 'grey', weight: 0 }], stickiness: { enabled: true, durationSeconds: 300 } },
          },
          { priority: 20, match: { path: ['/loose/*'] }, forward: { targetGroups: [{ name: 'blue', weight: 1 }, { name: 'green', weight: 1 }] } },
          { priority: 30, match: { path: ['/single/*'] }, forward: { targetGroup: 'blue', stickiness: { enabled: true } } },
        ]),
      ],
      targetGroups: ['blue', 'green', 'red', 'yellow', 'grey'].map((n) => group(n, [port(n)])),
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of Object.values(targets)) await t.close();
  });

  const get = (path: string, cookie?: string): Promise<Reply> => request(lb.port(), { path, headers: cookie === undefined ? {} : { cookie } });

  it('keeps a client on one side of a 50/50 split across 50 requests, where the draw alone spreads them', async () => {
    const free = new Set<string>();
    for (let i = 0; i < 50; i++) free.add(answeredBy(await get('/x')));
    assert.deepEqual([...free].sort(), ['blue', 'green']);

    const first = await get('/x');
    const c = mustSetCookie(first, 'SWITCHYARDTG');
    assert.equal(c.attributes, 'Path=/; Max-Age=300; HttpOnly; SameSite=Lax');
    const side = answeredBy(first);
    const [e] = entriesOf(StickyKind.GROUP, c.value);
    assert.equal(e!.group, side);
    for (let i = 0; i < 50; i++) {
      const r = await get(`/x/${i}`, `SWITCHYARDTG=${c.value}`);
      assert.equal(r.status, 200);
      assert.equal(answeredBy(r), side, `request ${i} bounced off ${side}`);
      assert.equal(setCookieOf(r, 'SWITCHYARDTG'), null);
    }
  });

  it('two sticky forwards keep their entries side by side in one cookie', async () => {
    const r1 = await get('/x');
    const main = answeredBy(r1);
    let cookie = mustSetCookie(r1, 'SWITCHYARDTG').value;
    const r2 = await get('/other/1', `SWITCHYARDTG=${cookie}`);
    const other = answeredBy(r2);
    assert.ok(['red', 'yellow'].includes(other));
    cookie = mustSetCookie(r2, 'SWITCHYARDTG').value;
    assert.deepEqual(entriesOf(StickyKind.GROUP, cookie).map((e) => e.group).sort(), [main, other].sort());
    for (let i = 0; i < 20; i++) {
      assert.equal(answeredBy(await get(`/x/${i}`, `SWITCHYARDTG=${cookie}`)), main);
      assert.equal(answeredBy(await get(`/other/${i}`, `SWITCHYARDTG=${cookie}`)), other);
    }
  });

  it('does not follow a group of weight 0, an expired entry, or a tampered cookie', async () => {
    const now = nowSeconds();
    const values = {
      'weight 0': codec().encode(StickyKind.GROUP, [{ group: 'grey', target: '', expiresAt: now + 300, appHash: '' }]),
      expired: codec().encode(StickyKind.GROUP, [{ group: 'red', target: '', expiresAt: now - 1, appHash: '' }]),
      tampered: codec().encode(StickyKind.GROUP, [{ group: 'red', target: '', expiresAt: now + 300, appHash: '' }]).slice(0, -2) + 'AA',
    };
    for (const [what, value] of Object.entries(values)) {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const r = await get(`/other/${i}`, `SWITCHYARDTG=${value}`);
        assert.equal(r.status, 200, what);
        seen.add(answeredBy(r));
        assert.equal(entriesOf(StickyKind.GROUP, mustSetCookie(r, 'SWITCHYARDTG').value)[0]!.group, answeredBy(r), what);
      }
      assert.deepEqual([...seen].sort(), ['red', 'yellow'], what);
    }
  });

  it('leaves a group that lost all its targets, and rewrites the cookie', async () => {
    const now = nowSeconds();
    const toRed = codec().encode(StickyKind.GROUP, [{ group: 'red', target: '', expiresAt: now + 300, appHash: '' }]);
    assert.equal(answeredBy(await get('/other/a', `SWITCHYARDTG=${toRed}`)), 'red');
    const red = lb.sy.groups.get('red')!;
    const id = `127.0.0.1:${targets['red']!.port}`;
    red.deregister(id);
    try {
      const r = await get('/other/b', `SWITCHYARDTG=${toRed}`);
      assert.equal(r.status, 200);
      assert.equal(answeredBy(r), 'yellow');
      const moved = mustSetCookie(r, 'SWITCHYARDTG').value;
      assert.equal(entriesOf(StickyKind.GROUP, moved)[0]!.group, 'yellow');
      // And it stays there once red is back.
      red.register('127.0.0.1', targets['red']!.port, 1);
      for (let i = 0; i < 10; i++) assert.equal(answeredBy(await get(`/other/c${i}`, `SWITCHYARDTG=${moved}`)), 'yellow');
    } finally {
      red.register('127.0.0.1', targets['red']!.port, 1);
    }
  });

  it('forwards without group stickiness, or with a single group, never set SWITCHYARDTG', async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal(setCookieOf(await get(`/loose/${i}`), 'SWITCHYARDTG'), null);
      const single = await get(`/single/${i}`);
      assert.equal(answeredBy(single), 'blue');
      assert.equal(single.headers['set-cookie'], undefined);
    }
  });
});
