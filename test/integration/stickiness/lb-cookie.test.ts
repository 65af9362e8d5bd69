/**
 * lb_cookie stickiness over real sockets (SPEC §4): the first response sets SWITCHYARD, and
 * every request carrying it reaches the same target, where round robin would alternate; a
 * tampered, truncated, expired, foreign or garbage cookie is ignored (200, normal balancing)
 * and re-issued; the cookie is opaque; a non-sticky group never sets or reads it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpTarget, startSwitchyard, listener, group, request, type HttpTarget, type Running } from '../harness/index.js';
import { StickyKind } from '../../../src/targets/stickiness/cookie-codec.js';
import { SECRET, OTHER_SECRET, answeredBy, codec, entriesOf, mustSetCookie, nowSeconds, setCookieOf } from './sticky-harness.js';

describe('lb_cookie stickiness', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;
  const idOf = (t: HttpTarget): string => `127.0.0.1:${t.port}`;
  const byId = new Map<string, string>();

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    byId.set(idOf(a), 'a');
    byId.set(idOf(b), 'b');
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [listener('web', { forward: { targetGroup: 'g' } }), listener('plain', { forward: { targetGroup: 'p' } })],
      targetGroups: [
        group('g', [a.port, b.port], { algorithm: 'round_robin', stickiness: { enabled: true, type: 'lb_cookie', durationSeconds: 3600 } }),
        group('p', [a.port, b.port], { algorithm: 'round_robin' }),
      ],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
  });

  const get = (cookie?: string, listenerName = 'web') =>
    request(lb.port(listenerName), { path: '/s', headers: cookie === undefined ? {} : { cookie } });

  it('sets SWITCHYARD on the first response, with the documented attributes, naming the target that answered', async () => {
    const r = await get();
    assert.equal(r.status, 200);
    const c = mustSetCookie(r, 'SWITCHYARD');
    assert.equal(c.attributes, 'Path=/; Max-Age=3600; HttpOnly; SameSite=Lax');
    const entries = entriesOf(StickyKind.TARGET, c.value);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.group, 'g');
    assert.equal(byId.get(entries[0]!.target), answeredBy(r));
    assert.ok(Math.abs(entries[0]!.expiresAt - (nowSeconds() + 3600)) <= 2);
  });

  it('keeps every request with the cookie on one target, where round robin alternates', async () => {
    // Without the cookie, round robin alternates.
    const free: string[] = [];
    for (let i = 0; i < 4; i++) free.push(answeredBy(await get()));
    for (let i = 1; i < free.length; i++) assert.notEqual(free[i], free[i - 1], free.join(','));

    // One cookie per target (round robin hands out both), each followed 15 times.
    const pinned = new Set<string>();
    for (let k = 0; k < 2; k++) {
      const first = await get();
      const value = mustSetCookie(first, 'SWITCHYARD').value;
      const target = answeredBy(first);
      pinned.add(target);
      for (let i = 0; i < 15; i++) {
        const r = await get(`SWITCHYARD=${value}`);
        assert.equal(r.status, 200);
        assert.equal(answeredBy(r), target, `request ${i} with the ${target} cookie left its target`);
        assert.equal(setCookieOf(r, 'SWITCHYARD'), null, 'an honoured, fresh cookie is not re-issued');
      }
    }
    assert.deepEqual([...pinned].sort(), ['a', 'b']);
  });

  it('is opaque: the value does not reveal the target, even base64-decoded', async () => {
    const value = mustSetCookie(await get(), 'SWITCHYARD').value;
    assert.match(value, /^1\.[A-Za-z0-9_-]+$/);
    const decoded = Buffer.from(value.slice(2), 'base64url').toString('latin1');
    for (const needle of ['127.0.0.1', String(a.port), String(b.port), 'g\u0000']) {
      assert.ok(!value.includes(needle) && !decoded.includes(needle), `cookie reveals ${JSON.stringify(needle)}`);
    }
  });

  it('ignores tampered, truncated, expired, foreign-secret, wrong-kind and garbage cookies: 200, normal balancing, cookie re-issued', async () => {
    const good = mustSetCookie(await get(), 'SWITCHYARD').value;
    const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const now = nowSeconds();
    const bad: Record<string, string> = {
      tampered: flip(good, Math.floor(good.length / 2)),
      'tampered tag': flip(good, 3),
      truncated: good.slice(0, -5),
      expired: codec().encode(StickyKind.TARGET, [{ group: 'g', target: idOf(a), expiresAt: now - 5, appHash: '' }]),
      'foreign secret': codec(OTHER_SECRET).encode(StickyKind.TARGET, [{ group: 'g', target: idOf(a), expiresAt: now + 3600, appHash: '' }]),
      'wrong kind (a SWITCHYARDTG value)': codec().encode(StickyKind.GROUP, [{ group: 'g', target: idOf(a), expiresAt: now + 3600, appHash: '' }]),
      garbage: 'not-a-cookie',
      'empty payload': '1.',
      'other version': '9.' + good.slice(2),
      'long junk': 'x'.repeat(4000),
    };
    for (const [what, value] of Object.entries(bad)) {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const r = await get(`SWITCHYARD=${value}`);
        assert.equal(r.status, 200, what);
        const target = answeredBy(r);
        seen.add(target);
        // Re-issued: a valid cookie naming the target that answered.
        const reissued = entriesOf(StickyKind.TARGET, mustSetCookie(r, 'SWITCHYARD').value);
        assert.equal(reissued.length, 1, what);
        assert.equal(byId.get(reissued[0]!.target), target, what);
      }
      assert.equal(seen.size, 2, `${what}: round robin should have spread the requests, saw ${[...seen].join(',')}`);
    }
  });

  it("keeps other groups' entries when it re-issues the cookie", async () => {
    const now = nowSeconds();
    const other = { group: 'elsewhere', target: '10.9.9.9:80', expiresAt: now + 500, appHash: '' };
    const value = codec().encode(StickyKind.TARGET, [other]);
    const r = await get(`SWITCHYARD=${value}`);
    const entries = entriesOf(StickyKind.TARGET, mustSetCookie(r, 'SWITCHYARD').value);
    assert.deepEqual(
      entries.map((e) => e.group),
      ['g', 'elsewhere'],
    );
    assert.deepEqual(entries[1], other);
  });

  it('refreshes an honoured cookie once half its duration has passed', async () => {
    const now = nowSeconds();
    const old = codec().encode(StickyKind.TARGET, [{ group: 'g', target: idOf(b), expiresAt: now + 1000, appHash: '' }]);
    const r = await get(`SWITCHYARD=${old}`);
    assert.equal(answeredBy(r), 'b');
    const c = mustSetCookie(r, 'SWITCHYARD');
    assert.equal(c.maxAge, 3600);
    const e = entriesOf(StickyKind.TARGET, c.value)[0]!;
    assert.equal(e.target, idOf(b));
    assert.ok(e.expiresAt >= now + 3599);

    const young = codec().encode(StickyKind.TARGET, [{ group: 'g', target: idOf(b), expiresAt: now + 3000, appHash: '' }]);
    const r2 = await get(`SWITCHYARD=${young}`);
    assert.equal(answeredBy(r2), 'b');
    assert.equal(setCookieOf(r2, 'SWITCHYARD'), null);
  });

  it('a group without stickiness neither sets nor follows the cookie', async () => {
    const value = codec().encode(StickyKind.TARGET, [{ group: 'p', target: idOf(a), expiresAt: nowSeconds() + 3600, appHash: '' }]);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get(`SWITCHYARD=${value}`, 'plain');
      assert.equal(r.status, 200);
      assert.equal(r.headers['set-cookie'], undefined);
      seen.add(answeredBy(r));
    }
    assert.equal(seen.size, 2);
  });
});
