/**
 * Stickiness failover over real sockets (SPEC §4): when the sticky target is stopped, refuses
 * connections, is unhealthy or draining, the request goes to another target, the cookie is
 * rewritten to name it, and the client stays there afterwards — even once the old target is
 * back. A retry after a refused connection re-issues the cookie for the target that answered.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  refusedPort,
  startHttpTarget,
  startSwitchyard,
  listener,
  group,
  request,
  waitFor,
  type HttpTarget,
  type Running,
  type Reply,
} from '../harness/index.js';
import { StickyKind } from '../../../src/targets/stickiness/cookie-codec.js';
import { answeredBy, codec, entriesOf, mustSetCookie, nowSeconds, SECRET, setCookieOf, taggedTargetOn } from './sticky-harness.js';

const sticky = { enabled: true, type: 'lb_cookie', durationSeconds: 3600 } as const;
const id = (port: number): string => `127.0.0.1:${port}`;
const get = (lb: Running, cookie: string | null, path = '/'): Promise<Reply> => request(lb.port(), { path, headers: cookie === null ? {} : { cookie } });
const targetIn = (r: Reply, name = 'SWITCHYARD', kind = StickyKind.TARGET): string => entriesOf(kind, mustSetCookie(r, name).value)[0]!.target;

describe('stickiness failover: a stopped sticky target (health checks off)', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;

  before(async () => {
    a = await startHttpTarget('a');
    b = await startHttpTarget('b');
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [listener('web', { forward: { targetGroup: 'g' } })],
      targetGroups: [group('g', [a.port, b.port], { stickiness: sticky })],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
  });

  it('moves the client to the other target with a rewritten cookie, and keeps it there after the old one is back', async () => {
    // A cookie for whichever target answers first; make it name `a` for a fixed story.
    let cookie = '';
    for (let i = 0; i < 4 && cookie === ''; i++) {
      const r = await get(lb, null);
      if (answeredBy(r) === 'a') cookie = mustSetCookie(r, 'SWITCHYARD').value;
    }
    assert.notEqual(cookie, '', 'round robin never reached a');
    // Keep-alive connections to `a` exist now; stop it (they close, new ones are refused).
    for (let i = 0; i < 3; i++) assert.equal(answeredBy(await get(lb, `SWITCHYARD=${cookie}`)), 'a');
    const aPort = a.port;
    await a.close();

    const moved = await get(lb, `SWITCHYARD=${cookie}`);
    assert.equal(moved.status, 200);
    assert.equal(answeredBy(moved), 'b');
    assert.equal(targetIn(moved), id(b.port), 'the cookie is rewritten to name the new target');
    const next = mustSetCookie(moved, 'SWITCHYARD').value;

    for (let i = 0; i < 5; i++) {
      const r = await get(lb, `SWITCHYARD=${next}`);
      assert.equal(answeredBy(r), 'b');
      assert.equal(setCookieOf(r, 'SWITCHYARD'), null);
    }
    // `a` comes back on its address: the client stays on `b`.
    const back = await taggedTargetOn('a', aPort);
    try {
      await waitFor(async () => answeredBy(await get(lb, null)) === 'a', 5000, 'a back in rotation');
      for (let i = 0; i < 6; i++) assert.equal(answeredBy(await get(lb, `SWITCHYARD=${next}`)), 'b');
    } finally {
      await back.close();
    }
  });
});

describe('stickiness failover: refused, unhealthy and draining sticky targets', () => {
  let live: HttpTarget, other: HttpTarget, c: HttpTarget;
  let deadPort: number;
  let lb: Running;

  before(async () => {
    live = await startHttpTarget('live');
    other = await startHttpTarget('other');
    c = await startHttpTarget('c');
    deadPort = await refusedPort();
    const checked = { enabled: true, path: '/', intervalSeconds: 60, timeoutSeconds: 2, healthyThreshold: 1, unhealthyThreshold: 1 };
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [
        listener('web', { forward: { targetGroup: 'refusing' } }, [
          { priority: 10, match: { path: ['/checked/*'] }, forward: { targetGroup: 'checked' } },
          { priority: 20, match: { path: ['/drain/*'] }, forward: { targetGroup: 'drain' } },
        ]),
      ],
      targetGroups: [
        group('refusing', [deadPort, live.port], { stickiness: sticky }),
        group('checked', [other.port, c.port], { stickiness: sticky, healthCheck: checked }),
        group('drain', [live.port, c.port], { stickiness: sticky }),
      ],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [live, other, c]) await t?.close();
  });

  it('a retry after the sticky target refused the connection re-issues the cookie for the target that answered', async () => {
    const toDead = codec().encode(StickyKind.TARGET, [{ group: 'refusing', target: id(deadPort), expiresAt: nowSeconds() + 3600, appHash: '' }]);
    for (let i = 0; i < 3; i++) {
      const r = await get(lb, `SWITCHYARD=${toDead}`);
      assert.equal(r.status, 200);
      assert.equal(answeredBy(r), 'live');
      assert.equal(targetIn(r), id(live.port));
    }
    const rewritten = mustSetCookie(await get(lb, `SWITCHYARD=${toDead}`), 'SWITCHYARD').value;
    for (let i = 0; i < 4; i++) {
      const r = await get(lb, `SWITCHYARD=${rewritten}`);
      assert.equal(answeredBy(r), 'live');
      assert.equal(setCookieOf(r, 'SWITCHYARD'), null);
    }
  });

  it('an unhealthy sticky target is not even tried: the cookie moves at once', async () => {
    const g = lb.sy.groups.get('checked')!;
    await waitFor(() => [...g.targets.values()].every((t) => t.state === 'healthy'), 5000, 'both targets healthy');
    const toOther = codec().encode(StickyKind.TARGET, [{ group: 'checked', target: id(other.port), expiresAt: nowSeconds() + 3600, appHash: '' }]);
    assert.equal(answeredBy(await get(lb, `SWITCHYARD=${toOther}`, '/checked/1')), 'other');
    // Stop `other`: the first request is refused (passive ejection) and retried on `c`.
    const otherPort = other.port;
    await other.close();
    const r = await get(lb, `SWITCHYARD=${toOther}`, '/checked/2');
    assert.equal(answeredBy(r), 'c');
    assert.equal(targetIn(r), id(c.port));
    assert.equal(g.targets.get(id(otherPort))!.state, 'unhealthy');
    // `other`'s address answers again, but it stays unhealthy until a check passes (60 s):
    // the old cookie is not followed and nothing is sent there.
    const back = await taggedTargetOn('other', otherPort);
    try {
      for (let i = 0; i < 4; i++) {
        const again = await get(lb, `SWITCHYARD=${toOther}`, `/checked/${3 + i}`);
        assert.equal(answeredBy(again), 'c');
        assert.equal(targetIn(again), id(c.port));
      }
      assert.equal(back.requests, 0);
    } finally {
      await back.close();
    }
  });

  it('a draining sticky target takes no new sticky request: the cookie is rewritten', async () => {
    const g = lb.sy.groups.get('drain')!;
    const toLive = codec().encode(StickyKind.TARGET, [{ group: 'drain', target: id(live.port), expiresAt: nowSeconds() + 3600, appHash: '' }]);
    assert.equal(answeredBy(await get(lb, `SWITCHYARD=${toLive}`, '/drain/1')), 'live');
    // Hold a request on `live` in flight so it stays draining rather than leaving at once.
    const slow = http.get({ host: '127.0.0.1', port: live.port, path: '/hold', agent: false });
    slow.on('error', () => undefined);
    g.deregister(id(live.port));
    try {
      const r = await get(lb, `SWITCHYARD=${toLive}`, '/drain/2');
      assert.equal(answeredBy(r), 'c');
      const moved = mustSetCookie(r, 'SWITCHYARD').value;
      assert.equal(entriesOf(StickyKind.TARGET, moved)[0]!.target, id(c.port));
      g.register('127.0.0.1', live.port, 1);
      for (let i = 0; i < 4; i++) assert.equal(answeredBy(await get(lb, `SWITCHYARD=${moved}`, `/drain/${3 + i}`)), 'c');
    } finally {
      slow.destroy();
      g.register('127.0.0.1', live.port, 1);
    }
  });
});

describe('stickiness failover: app_cookie', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;

  before(async () => {
    const app = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      const headers: Record<string, string | string[]> = { 'x-target': name };
      if (!/JSESSIONID=/.test(req.headers.cookie ?? '')) headers['set-cookie'] = `JSESSIONID=${name}-session; Path=/`;
      res.writeHead(200, headers);
      res.end(name);
    };
    a = await startHttpTarget('a', { handler: app('a') });
    b = await startHttpTarget('b', { handler: app('b') });
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [listener('web', { forward: { targetGroup: 'app' } })],
      targetGroups: [group('app', [a.port, b.port], { stickiness: { enabled: true, type: 'app_cookie', cookieName: 'JSESSIONID' } })],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
  });

  it('a session whose target left moves to another target, bound to the same application cookie, and stays', async () => {
    const first = await get(lb, null);
    const target = answeredBy(first);
    const jsession = mustSetCookie(first, 'JSESSIONID').value;
    const app = mustSetCookie(first, 'SWITCHYARD_APP').value;
    const [from, to] = target === 'a' ? [a, b] : [b, a];
    const g = lb.sy.groups.get('app')!;
    g.deregister(id(from.port));
    try {
      const r = await get(lb, `JSESSIONID=${jsession}; SWITCHYARD_APP=${app}`);
      assert.equal(answeredBy(r), to === a ? 'a' : 'b');
      const moved = mustSetCookie(r, 'SWITCHYARD_APP').value;
      const [e] = entriesOf(StickyKind.APP, moved);
      assert.equal(e!.target, id(to.port));
      assert.equal(e!.appHash, codec().appHash(jsession));
      g.register('127.0.0.1', from.port, 1);
      for (let i = 0; i < 4; i++) assert.equal(answeredBy(await get(lb, `JSESSIONID=${jsession}; SWITCHYARD_APP=${moved}`)), answeredBy(r));
    } finally {
      g.register('127.0.0.1', from.port, 1);
    }
  });
});
