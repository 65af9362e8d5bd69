/**
 * `consistent_hash` end to end over real sockets (SPEC §2 `hashOn`): the same header value
 * always reaches the same target and different values spread; cookies and paths work the same
 * way; requests without the header are spread rather than piled onto one target; and a key
 * whose target refuses connections is retried on one stable other target. Also `power_of_two`
 * over real sockets, since both algorithms joined the data path together.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  request,
  refusedPort,
  type HttpTarget,
  type Running,
  type Echo,
} from '../harness/index.js';

describe('consistent_hash over real sockets', () => {
  let a: HttpTarget, b: HttpTarget, c: HttpTarget;
  let dead: number;
  let lb: Running;

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    c = await startHttpTarget('c');
    dead = await refusedPort();
    const ports = [a.port, b.port, c.port];
    lb = await startSwitchyard({
      listeners: [
        listener('header', { forward: { targetGroup: 'by-header' } }),
        listener('cookie', { forward: { targetGroup: 'by-cookie' } }),
        listener('path', { forward: { targetGroup: 'by-path' } }),
        listener('dead', { forward: { targetGroup: 'with-dead' } }),
        listener('p2c', { forward: { targetGroup: 'p2c' } }),
      ],
      targetGroups: [
        group('by-header', ports, { algorithm: 'consistent_hash', hashOn: { header: 'X-User-Id' } }),
        group('by-cookie', ports, { algorithm: 'consistent_hash', hashOn: { cookie: 'session' } }),
        group('by-path', ports, { algorithm: 'consistent_hash', hashOn: { path: true } }),
        group('with-dead', [...ports, dead], { algorithm: 'consistent_hash', hashOn: { header: 'X-User-Id' } }),
        group('p2c', ports, { algorithm: 'power_of_two' }),
      ],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b, c]) await t?.close();
  });

  async function targetFor(port: number, headers: Record<string, string>, path = '/'): Promise<string> {
    const r = await request(port, { path, headers });
    assert.equal(r.status, 200);
    return r.json<Echo>().name;
  }

  it('the same header value always reaches the same target; different values spread', async () => {
    const byUser = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 60; u++) {
        const name = await targetFor(lb.port('header'), { 'X-User-Id': `user-${u}` }, `/r${round}/${u}`);
        const first = byUser.get(`user-${u}`);
        if (first === undefined) byUser.set(`user-${u}`, name);
        else assert.equal(name, first, `user-${u} moved from ${first} to ${name}`);
      }
    }
    // 60 keys over 3 targets: every target gets some (a miss has probability ~1e-10).
    assert.deepEqual(new Set(byUser.values()), new Set(['a', 'b', 'c']));
  });

  it('cookie and path keys are consistent too', async () => {
    const cookieTargets = new Set<string>();
    const pathTargets = new Set<string>();
    for (let u = 0; u < 40; u++) {
      const viaCookie = await targetFor(lb.port('cookie'), { Cookie: `theme=dark; session=s${u}` });
      assert.equal(await targetFor(lb.port('cookie'), { Cookie: `session=s${u}` }), viaCookie);
      cookieTargets.add(viaCookie);
      const viaPath = await targetFor(lb.port('path'), {}, `/item/${u}`);
      // The query is not part of the key, and the path is normalised first.
      assert.equal(await targetFor(lb.port('path'), {}, `/item/./${u}?v=${u}`), viaPath);
      pathTargets.add(viaPath);
    }
    assert.equal(cookieTargets.size, 3);
    assert.equal(pathTargets.size, 3);
  });

  it('requests without the header are spread, not pinned to one target', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(await targetFor(lb.port('header'), {}));
    assert.equal(seen.size, 3);
  });

  it('a key whose target refuses connections is retried on one stable other target', async () => {
    const g = lb.sy.groups.get('with-dead')!;
    const deadId = `127.0.0.1:${dead}`;
    let deadKeys = 0;
    for (let u = 0; u < 40; u++) {
      const key = `user-${u}`;
      const first = await targetFor(lb.port('dead'), { 'X-User-Id': key });
      for (let k = 0; k < 2; k++) assert.equal(await targetFor(lb.port('dead'), { 'X-User-Id': key }), first, key);
      // The same key, asked of the group directly: the dead target for about a quarter of keys.
      if (g.pick(null, key)?.id === deadId) deadKeys++;
    }
    // 40 keys over 4 targets: none on the dead one has probability (3/4)^40 ≈ 1e-5.
    assert.ok(deadKeys > 0, 'no key hashed to the dead target; the retry path was not exercised');
  });

  it('power_of_two spreads sequential requests over every target', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const name = await targetFor(lb.port('p2c'), {}, `/p/${i}`);
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    assert.equal(seen.size, 3, JSON.stringify(Object.fromEntries(seen)));
  });
});
