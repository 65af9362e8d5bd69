/**
 * Tests for src/targets/stickiness/sticky-cookies.ts: the Set-Cookie lines Switchyard writes,
 * compiled group settings, and reading the application's own Set-Cookie (value, deletion).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appCookieChange, compileTargetStickiness, renderSetCookie, unquote } from '../../../../src/targets/stickiness/sticky-cookies.js';
import { StickyKind } from '../../../../src/targets/stickiness/cookie-codec.js';
import { validateConfig, locateNowhere } from '../../../../src/config/validate.js';

const NOW_MS = Date.parse('2030-01-01T00:00:00Z');

describe('sticky cookies on the wire', () => {
  it('renders the documented attributes, Secure on HTTPS, and deletion', () => {
    assert.equal(renderSetCookie('SWITCHYARD', '1.abc', 86400, false), 'SWITCHYARD=1.abc; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax');
    assert.equal(renderSetCookie('SWITCHYARDTG', 'v', 300.7, true), 'SWITCHYARDTG=v; Path=/; Max-Age=300; HttpOnly; SameSite=Lax; Secure');
    assert.equal(renderSetCookie('SWITCHYARD_APP', '', -5, false), 'SWITCHYARD_APP=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
  });

  it('compiles a group setting once: names, kind, duration; null when disabled', () => {
    assert.equal(compileTargetStickiness({ enabled: false, type: 'lb_cookie', durationSeconds: 1, cookieName: null }), null);
    assert.deepEqual(compileTargetStickiness({ enabled: true, type: 'lb_cookie', durationSeconds: 60, cookieName: null }), {
      kind: StickyKind.TARGET,
      cookieName: 'SWITCHYARD',
      appCookieName: null,
      durationSeconds: 60,
    });
    assert.deepEqual(compileTargetStickiness({ enabled: true, type: 'app_cookie', durationSeconds: 60, cookieName: 'JSESSIONID' }), {
      kind: StickyKind.APP,
      cookieName: 'SWITCHYARD_APP',
      appCookieName: 'JSESSIONID',
      durationSeconds: 60,
    });
  });

  it("reads the application's Set-Cookie: the last one for the name wins; empty or expired means deleted", () => {
    const raw = (...lines: string[]): string[] => lines.flatMap((l) => ['Set-Cookie', l]);
    assert.equal(appCookieChange(['Content-Type', 'text/plain'], 'JSESSIONID', NOW_MS), null);
    assert.equal(appCookieChange(raw('OTHER=1', 'JSESSIONIDX=2', 'garbage'), 'JSESSIONID', NOW_MS), null);
    assert.deepEqual(appCookieChange(raw('JSESSIONID=abc; Path=/; HttpOnly'), 'JSESSIONID', NOW_MS), { deleted: false, value: 'abc' });
    assert.deepEqual(appCookieChange(['set-cookie', ' JSESSIONID = "q v" ;Secure'], 'JSESSIONID', NOW_MS), { deleted: false, value: '"q v"' });
    assert.deepEqual(appCookieChange(raw('JSESSIONID=a', 'JSESSIONID=b'), 'JSESSIONID', NOW_MS), { deleted: false, value: 'b' });
    for (const gone of [
      'JSESSIONID=; Path=/',
      'JSESSIONID=""',
      'JSESSIONID=x; Max-Age=0',
      'JSESSIONID=x; max-age=-1',
      'JSESSIONID=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'JSESSIONID=x; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=0',
    ]) {
      assert.deepEqual(appCookieChange(raw(gone), 'JSESSIONID', NOW_MS), { deleted: true }, gone);
    }
    assert.deepEqual(appCookieChange(raw('JSESSIONID=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60'), 'JSESSIONID', NOW_MS), { deleted: false, value: 'x' });
    assert.deepEqual(appCookieChange(raw('JSESSIONID=x; Expires=Wed, 01 Jan 2031 00:00:00 GMT'), 'JSESSIONID', NOW_MS), { deleted: false, value: 'x' });
  });

  it('unquotes a request cookie value', () => {
    assert.equal(unquote('"1.abc"'), '1.abc');
    assert.equal(unquote('1.abc'), '1.abc');
    assert.equal(unquote('"'), '"');
    assert.equal(unquote(null), null);
  });

  it("validation refuses an app cookie name in Switchyard's SWITCHYARD namespace", () => {
    const doc = {
      listeners: [{ name: 'web', protocol: 'HTTP', port: 8080, defaultAction: { forward: { targetGroup: 'g' } } }],
      targetGroups: [{ name: 'g', targets: [{ host: '127.0.0.1', port: 9001 }], stickiness: { enabled: true, type: 'app_cookie', cookieName: 'SWITCHYARD_APP' } }],
    };
    const errors = validateConfig(doc, locateNowhere);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]!.path, '/targetGroups/0/stickiness/cookieName');
    assert.match(errors[0]!.message, /SWITCHYARD are Switchyard's own/);
  });
});
