/**
 * Load sharing end to end (SPEC §4): round robin alternates between a group's targets, and a
 * weighted forward never sends anything to a weight-0 group.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpTarget, startSwitchyard, listener, group, request, type HttpTarget, type Running, type Echo } from '../harness/index.js';

describe('balancing', () => {
  let a: HttpTarget, b: HttpTarget, blue: HttpTarget, green: HttpTarget;
  let lb: Running;

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    blue = await startHttpTarget('blue');
    green = await startHttpTarget('green');
    lb = await startSwitchyard({
      listeners: [
        listener('rr', { forward: { targetGroup: 'pair' } }),
        listener('weighted', { forward: { targetGroups: [{ name: 'blue', weight: 1 }, { name: 'green', weight: 0 }] } }),
      ],
      targetGroups: [group('pair', [a.port, b.port], { algorithm: 'round_robin' }), group('blue', [blue.port]), group('green', [green.port])],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b, blue, green]) await t?.close();
  });

  it('round robin alternates between two targets', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await request(lb.port('rr'), { path: `/rr/${i}` });
      assert.equal(r.status, 200);
      seen.push(r.json<Echo>().name);
    }
    for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1], `no alternation at ${i}: ${seen.join(',')}`);
    assert.equal(seen.filter((n) => n === 'a').length, 10);
    assert.equal(a.requests.length, 10);
    assert.equal(b.requests.length, 10);
  });

  it('a weight-0 target group never gets a request', async () => {
    for (let i = 0; i < 100; i++) {
      const r = await request(lb.port('weighted'), { path: `/w/${i}` });
      assert.equal(r.status, 200);
      assert.equal(r.json<Echo>().name, 'blue');
    }
    assert.equal(green.requests.length, 0);
    assert.equal(blue.requests.length, 100);
  });
});
