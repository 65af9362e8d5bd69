/**
 * app_cookie stickiness over real sockets (SPEC §4): when a target sets the application's
 * cookie, Switchyard adds SWITCHYARD_APP naming that target; requests carrying both the
 * application cookie (with the value it was issued for) and SWITCHYARD_APP reach that target.
 * SWITCHYARD_APP alone, or with another application cookie value, is not followed; the
 * application deleting its cookie deletes SWITCHYARD_APP; the application cookie passes
 * through untouched.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startHttpTarget, startSwitchyard, listener, group, request, type HttpTarget, type Running, type Reply } from '../harness/index.js';
import { StickyKind } from '../../../src/targets/stickiness/cookie-codec.js';
import { answeredBy, codec, entriesOf, mustSetCookie, nowSeconds, SECRET, setCookieOf } from './sticky-harness.js';

/** An application that starts a session (JSESSIONID) when the request has none; /logout ends it. */
function appTarget(name: string): Promise<HttpTarget> {
  let sessions = 0;
  return startHttpTarget(name, {
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      const headers: Record<string, string | string[]> = { 'x-target': name, 'content-type': 'text/plain' };
      const has = /(?:^|;\s*)JSESSIONID=/.test(req.headers.cookie ?? '');
      if (req.url === '/logout') headers['set-cookie'] = ['JSESSIONID=; Path=/; Max-Age=0', 'other=1; Path=/'];
      else if (req.url === '/rotate') headers['set-cookie'] = [`JSESSIONID=${name}-rotated-${++sessions}; Path=/`];
      else if (!has) headers['set-cookie'] = [`JSESSIONID=${name}-${++sessions}; Path=/; HttpOnly`];
      res.writeHead(200, headers);
      res.end(name);
    },
  });
}

describe('app_cookie stickiness', () => {
  let a: HttpTarget, b: HttpTarget;
  let lb: Running;
  const byId = new Map<string, string>();

  before(async () => {
    a = await appTarget('a');
    b = await appTarget('b');
    byId.set(`127.0.0.1:${a.port}`, 'a');
    byId.set(`127.0.0.1:${b.port}`, 'b');
    lb = await startSwitchyard({
      settings: { stickinessSecret: SECRET },
      listeners: [listener('web', { forward: { targetGroup: 'app' } })],
      targetGroups: [
        group('app', [a.port, b.port], {
          algorithm: 'round_robin',
          stickiness: { enabled: true, type: 'app_cookie', cookieName: 'JSESSIONID', durationSeconds: 600 },
        }),
      ],
    });
  });

  after(async () => {
    await lb?.close();
    for (const t of [a, b]) await t?.close();
  });

  const get = (cookie: string | null, path = '/'): Promise<Reply> => request(lb.port(), { path, headers: cookie === null ? {} : { cookie } });
  const appSession = (r: Reply): string => {
    const c = setCookieOf(r, 'JSESSIONID');
    assert.ok(c !== null, 'the application set no session cookie');
    return c.value;
  };

  /** Starts a session: the application's cookie and Switchyard's, and who answered. */
  async function login(): Promise<{ jsession: string; app: string; target: string; reply: Reply }> {
    const r = await get(null);
    assert.equal(r.status, 200);
    return { jsession: appSession(r), app: mustSetCookie(r, 'SWITCHYARD_APP').value, target: answeredBy(r), reply: r };
  }

  it('adds SWITCHYARD_APP when the target sets the application cookie, and leaves that cookie untouched', async () => {
    const { jsession, app, target, reply } = await login();
    assert.equal(jsession, `${target}-1`);
    assert.ok((reply.headers['set-cookie'] ?? []).includes(`JSESSIONID=${jsession}; Path=/; HttpOnly`));
    assert.equal(mustSetCookie(reply, 'SWITCHYARD_APP').attributes, 'Path=/; Max-Age=600; HttpOnly; SameSite=Lax');
    const [e] = entriesOf(StickyKind.APP, app);
    assert.equal(byId.get(e!.target), target);
    assert.equal(e!.appHash, codec().appHash(jsession));
    assert.equal(setCookieOf(reply, 'SWITCHYARD'), null, 'app_cookie groups do not set the lb_cookie');
  });

  it('follows the application session: every request with both cookies reaches the target that issued it', async () => {
    for (let k = 0; k < 2; k++) {
      const { jsession, app, target } = await login();
      for (let i = 0; i < 10; i++) {
        const r = await get(`JSESSIONID=${jsession}; SWITCHYARD_APP=${app}`);
        assert.equal(answeredBy(r), target, `request ${i} left ${target}`);
        assert.equal(setCookieOf(r, 'SWITCHYARD_APP'), null, 'fresh and unchanged: not re-issued');
      }
    }
  });

  it('does not follow SWITCHYARD_APP with another application cookie value, nor without one', async () => {
    const { app, target } = await login();
    const seenStolen = new Set<string>();
    const seenBare = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const stolen = await get(`JSESSIONID=someone-else; SWITCHYARD_APP=${app}`);
      seenStolen.add(answeredBy(stolen));
      // Re-issued for the value the request carries, naming the target that answered.
      const [e] = entriesOf(StickyKind.APP, mustSetCookie(stolen, 'SWITCHYARD_APP').value);
      assert.equal(e!.appHash, codec().appHash('someone-else'));
      assert.equal(byId.get(e!.target), answeredBy(stolen));
    }
    // (Separate loops: interleaving two kinds of request would phase-lock with round robin.)
    for (let i = 0; i < 4; i++) {
      const bare = await get(`SWITCHYARD_APP=${app}`);
      seenBare.add(answeredBy(bare));
      // The application starts a new session there, and SWITCHYARD_APP follows it.
      const [f] = entriesOf(StickyKind.APP, mustSetCookie(bare, 'SWITCHYARD_APP').value);
      assert.equal(f!.appHash, codec().appHash(appSession(bare)));
    }
    assert.equal(seenStolen.size, 2, `balanced normally, not pinned to ${target}`);
    assert.equal(seenBare.size, 2, `balanced normally, not pinned to ${target}`);
  });

  it('re-binds SWITCHYARD_APP when the sticky target issues a new application cookie value', async () => {
    const { jsession, app, target } = await login();
    const r = await get(`JSESSIONID=${jsession}; SWITCHYARD_APP=${app}`, '/rotate');
    assert.equal(answeredBy(r), target);
    const rotated = appSession(r);
    assert.notEqual(rotated, jsession);
    const next = mustSetCookie(r, 'SWITCHYARD_APP').value;
    const [e] = entriesOf(StickyKind.APP, next);
    assert.equal(byId.get(e!.target), target);
    assert.equal(e!.appHash, codec().appHash(rotated));
    for (let i = 0; i < 4; i++) assert.equal(answeredBy(await get(`JSESSIONID=${rotated}; SWITCHYARD_APP=${next}`)), target);
  });

  it('deletes SWITCHYARD_APP when the application deletes its cookie', async () => {
    const { jsession, app, target } = await login();
    const r = await get(`JSESSIONID=${jsession}; SWITCHYARD_APP=${app}`, '/logout');
    assert.equal(answeredBy(r), target);
    const c = mustSetCookie(r, 'SWITCHYARD_APP');
    assert.equal(c.value, '');
    assert.equal(c.maxAge, 0);
  });

  it('an expired SWITCHYARD_APP is ignored and re-issued', async () => {
    const { jsession, target } = await login();
    const id = [...byId].find(([, n]) => n === target)![0];
    const expired = codec().encode(StickyKind.APP, [{ group: 'app', target: id, expiresAt: nowSeconds() - 1, appHash: codec().appHash(jsession) }]);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get(`JSESSIONID=${jsession}; SWITCHYARD_APP=${expired}`);
      seen.add(answeredBy(r));
      const [e] = entriesOf(StickyKind.APP, mustSetCookie(r, 'SWITCHYARD_APP').value);
      assert.equal(byId.get(e!.target), answeredBy(r));
      assert.ok(e!.expiresAt > nowSeconds());
    }
    assert.equal(seen.size, 2);
  });
});
