/**
 * Stickiness across reloads: cookies stay valid through a reload that keeps the secret;
 * a new `stickinessSecret` makes outstanding cookies ignored (clients are re-balanced and
 * re-pinned); stickiness can be switched off and on again by a reload.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../../src/config/types.js';
import { startHttpTarget, startSwitchyard, listener, group, request, type HttpTarget, type Running, type Reply } from '../harness/index.js';
import { StickyKind } from '../../../src/targets/stickiness/cookie-codec.js';
import { answeredBy, entriesOf, mustSetCookie, OTHER_SECRET, SECRET, setCookieOf } from './sticky-harness.js';

describe('stickiness and reloads', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;

  const config = (secret: string, enabled: boolean, durationSeconds = 600): Config => ({
    settings: { stickinessSecret: secret },
    listeners: [listener('web', { forward: { targetGroup: 'g' } })],
    targetGroups: [group('g', [a.port, b.port], { algorithm: 'round_robin', stickiness: { enabled, durationSeconds } })],
  });

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    lb = await startSwitchyard(config(SECRET, true));
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
  });

  const get = (cookie: string | null): Promise<Reply> => request(lb.port(), { headers: cookie === null ? {} : { cookie } });
  const apply = async (c: Config): Promise<void> => {
    const r = await lb.sy.apply(c);
    assert.ok(r.ok, JSON.stringify(r));
  };

  it('keeps cookies valid through a reload with the same secret', async () => {
    const first = await get(null);
    const cookie = `SWITCHYARD=${mustSetCookie(first, 'SWITCHYARD').value}`;
    await apply(config(SECRET, true, 900));
    for (let i = 0; i < 4; i++) assert.equal(answeredBy(await get(cookie)), answeredBy(first));
  });

  it('a new secret makes outstanding cookies ignored; the new ones are signed with it', async () => {
    await apply(config(SECRET, true));
    const cookie = `SWITCHYARD=${mustSetCookie(await get(null), 'SWITCHYARD').value}`;
    await apply(config(OTHER_SECRET, true));
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get(cookie);
      seen.add(answeredBy(r));
      const e = entriesOf(StickyKind.TARGET, mustSetCookie(r, 'SWITCHYARD').value, OTHER_SECRET);
      assert.equal(e[0]!.target.endsWith(`:${answeredBy(r) === 'a' ? a.port : b.port}`), true);
    }
    assert.equal(seen.size, 2);
  });

  it('can be switched off and on by a reload', async () => {
    await apply(config(SECRET, false));
    const off = await get(null);
    assert.equal(setCookieOf(off, 'SWITCHYARD'), null);
    await apply(config(SECRET, true));
    const on = await get(null);
    const cookie = `SWITCHYARD=${mustSetCookie(on, 'SWITCHYARD').value}`;
    for (let i = 0; i < 4; i++) assert.equal(answeredBy(await get(cookie)), answeredBy(on));
  });
});
