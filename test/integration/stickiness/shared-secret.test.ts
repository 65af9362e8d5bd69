/**
 * Several load balancer nodes (SPEC §4): two Switchyard instances with the same
 * `stickinessSecret` and targets honour each other's cookies (target and group level); with
 * different secrets — or none, so each generates its own key and says so in a warning — they
 * ignore each other's cookies and re-issue their own.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Switchyard } from '../../../src/control/switchyard.js';
import type { Config } from '../../../src/config/types.js';
import { startHttpTarget, listener, group, request, type HttpTarget, type Reply } from '../harness/index.js';
import { answeredBy, mustSetCookie, OTHER_SECRET, SECRET, setCookieOf } from './sticky-harness.js';

describe('two Switchyard nodes and one secret', () => {
  const targets: HttpTarget[] = [];
  const nodes: Switchyard[] = [];
  const logs: string[] = [];
  let same1: Switchyard, same2: Switchyard, foreign: Switchyard, generated: Switchyard;

  const config = (secret: string | null): Config => ({
    ...(secret === null ? {} : { settings: { stickinessSecret: secret } }),
    listeners: [
      listener('web', { forward: { targetGroup: 'g' } }, [
        {
          priority: 1,
          match: { path: ['/split/*'] },
          forward: { targetGroups: [{ name: 'blue', weight: 1 }, { name: 'green', weight: 1 }], stickiness: { enabled: true, durationSeconds: 600 } },
        },
      ]),
    ],
    targetGroups: [
      group('g', [targets[0]!.port, targets[1]!.port, targets[2]!.port], { algorithm: 'round_robin', stickiness: { enabled: true } }),
      group('blue', [targets[3]!.port]),
      group('green', [targets[4]!.port]),
    ],
  });

  const start = async (secret: string | null, logger = pino({ level: 'silent' })): Promise<Switchyard> => {
    const sy = await Switchyard.start({ config: config(secret), adminPort: null, accessLogPath: 'off', logger });
    nodes.push(sy);
    return sy;
  };

  before(async () => {
    for (const n of ['t1', 't2', 't3', 'blue', 'green']) targets.push(await startHttpTarget(n));
    same1 = await start(SECRET);
    same2 = await start(SECRET);
    foreign = await start(OTHER_SECRET);
    generated = await start(null, pino({ level: 'info' }, { write: (s: string) => void logs.push(s) }));
  });

  after(async () => {
    for (const sy of nodes) await sy.close();
    for (const t of targets) await t.close();
  });

  const get = (sy: Switchyard, cookie: string | null, path = '/'): Promise<Reply> =>
    request(sy.listeners.get('web')!.port, { path, headers: cookie === null ? {} : { cookie } });

  it("honours the other node's SWITCHYARD cookie, both ways", async () => {
    for (const [issuer, follower] of [
      [same1, same2],
      [same2, same1],
    ] as const) {
      for (let k = 0; k < 3; k++) {
        const first = await get(issuer, null);
        const target = answeredBy(first);
        const cookie = `SWITCHYARD=${mustSetCookie(first, 'SWITCHYARD').value}`;
        for (let i = 0; i < 6; i++) {
          const r = await get(follower, cookie);
          assert.equal(answeredBy(r), target, `the other node sent request ${i} elsewhere`);
          assert.equal(setCookieOf(r, 'SWITCHYARD'), null);
        }
      }
    }
  });

  it("honours the other node's SWITCHYARDTG cookie", async () => {
    const first = await get(same1, null, '/split/a');
    const side = answeredBy(first);
    const cookie = `SWITCHYARDTG=${mustSetCookie(first, 'SWITCHYARDTG').value}`;
    for (let i = 0; i < 30; i++) assert.equal(answeredBy(await get(same2, cookie, `/split/${i}`)), side);
  });

  it('with another secret, or a generated one, the cookie is ignored (normal balancing) and re-issued', async () => {
    for (const other of [foreign, generated]) {
      const first = await get(same1, null);
      const cookie = `SWITCHYARD=${mustSetCookie(first, 'SWITCHYARD').value}`;
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const r = await get(other, cookie);
        assert.equal(r.status, 200);
        seen.add(answeredBy(r));
        // Re-issued under the node's own key: the first node does not follow it either.
        const own = `SWITCHYARD=${mustSetCookie(r, 'SWITCHYARD').value}`;
        assert.notEqual(setCookieOf(await get(same1, own), 'SWITCHYARD'), null, 'the first node re-issues instead of following');
      }
      assert.equal(seen.size, 3, `round robin over three targets, saw ${[...seen].join(',')}`);
    }
  });

  it('warns once that a generated secret is per start and must be shared by several nodes', () => {
    const warnings = logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && /stickinessSecret/.test(l.msg));
    assert.equal(warnings.length, 1, JSON.stringify(logs));
    assert.match(warnings[0]!.msg, /several Switchyard nodes must share one stickinessSecret/);
  });
});
