/**
 * `switchyard explain --cookie` and stickiness (src/cli/explain.ts): the SWITCHYARD,
 * SWITCHYARD_APP and SWITCHYARDTG cookies given are judged with the data path's own codec and
 * decision — valid and followed, expired, tampered or foreign, naming another group — and a
 * config without stickinessSecret says it cannot check them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runExplain, type ExplainReport } from '../../../src/cli/explain.js';
import { StickyCodec, StickyKind } from '../../../src/targets/stickiness/cookie-codec.js';

const SECRET = 'explain-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'switchyard-explain-sticky-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (secret: string): string => `
settings: { stickinessSecret: "${secret}" }
listeners:
  - name: web
    protocol: HTTP
    port: 8080
    rules:
      - priority: 10
        match: { path: ["/app/*"] }
        forward: { targetGroup: app }
    defaultAction:
      forward:
        targetGroups: [{ name: blue, weight: 1 }, { name: green, weight: 1 }]
        stickiness: { enabled: true, durationSeconds: 300 }
targetGroups:
  - name: blue
    targets: [{ host: 127.0.0.1, port: 9001 }, { host: 127.0.0.1, port: 9002 }]
    stickiness: { enabled: true, type: lb_cookie, durationSeconds: 3600 }
  - name: green
    targets: [{ host: 127.0.0.1, port: 9011 }]
  - name: app
    targets: [{ host: 127.0.0.1, port: 9021 }, { host: 127.0.0.1, port: 9022 }]
    stickiness: { enabled: true, type: app_cookie, cookieName: JSESSIONID }
`;
const withSecret = join(dir, 'sticky.yaml');
const withoutSecret = join(dir, 'no-secret.yaml');
writeFileSync(withSecret, config(SECRET));
writeFileSync(withoutSecret, config(''));

const codec = new StickyCodec(Buffer.from(SECRET));
const now = (): number => Math.floor(Date.now() / 1000);
const target = (group: string, id: string, expiresIn = 1000, appHash = '') =>
  codec.encode(group === 'app' ? StickyKind.APP : StickyKind.TARGET, [{ group, target: id, expiresAt: now() + expiresIn, appHash }]);
const tg = (group: string, expiresIn = 200) => codec.encode(StickyKind.GROUP, [{ group, target: '', expiresAt: now() + expiresIn, appHash: '' }]);

/** The value with its middle character changed (still canonical base64url). */
const flip = (v: string): string => {
  const i = Math.floor(v.length / 2);
  return v.slice(0, i) + (v[i] === 'A' ? 'B' : 'A') + v.slice(i + 1);
};

async function run(file: string, ...args: string[]): Promise<{ text: string; json: ExplainReport }> {
  const out: string[] = [];
  const err: string[] = [];
  assert.equal(await runExplain([file, ...args], (s) => out.push(s), (s) => err.push(s), {}), 0, err.join('\n'));
  const jout: string[] = [];
  await runExplain([file, ...args, '--json'], (s) => jout.push(s), () => undefined, {});
  return { text: out.join('\n'), json: JSON.parse(jout.join('\n')) as ExplainReport };
}

function forward(r: ExplainReport) {
  assert.ok(r.action?.kind === 'forward');
  return r.action;
}

describe('switchyard explain: sticky cookies', () => {
  it('follows a valid SWITCHYARDTG and SWITCHYARD: the group without a draw, the target without the algorithm', async () => {
    const { text, json } = await run(withSecret, 'GET http://h:8080/x', '--cookie', `SWITCHYARDTG=${tg('blue')}`, '--cookie', `SWITCHYARD=${target('blue', '127.0.0.1:9002')}`);
    const f = forward(json);
    assert.equal(f.stickiness, 'group stickiness, 300 s (cookie SWITCHYARDTG)');
    assert.equal(f.stickyCookie?.verdict, 'honoured');
    assert.equal(f.stickyCookie?.names, 'blue');
    const blue = f.targetGroups.find((g) => g.name === 'blue')!;
    assert.equal(blue.stickiness, 'lb_cookie, 3600 s (cookie SWITCHYARD)');
    assert.equal(blue.stickyCookie?.verdict, 'honoured');
    assert.equal(blue.pick, '127.0.0.1:9002');
    assert.ok(blue.stickyCookie!.expiresInSeconds! > 990);
    assert.match(text, /^ {2}group cookie {4}SWITCHYARDTG names blue \(valid \d+ s more\): that group, no draw$/m);
    assert.match(text, /^ {2}cookie {6}SWITCHYARD names 127\.0\.0\.1:9002 \(valid \d+ s more\), which is usable: the request goes there/m);
    assert.match(text, /127\.0\.0\.1:9002 .*← picked \(sticky cookie\)$/m);
    assert.doesNotMatch(text, /not evaluated/);
  });

  it('says why a cookie is not followed: expired, tampered, foreign, gone, another group', async () => {
    const other = new StickyCodec(Buffer.from('another secret')).encode(StickyKind.TARGET, [{ group: 'blue', target: '127.0.0.1:9001', expiresAt: now() + 100, appHash: '' }]);
    const cases: [string, string, RegExp][] = [
      [target('blue', '127.0.0.1:9001', -30), 'expired', /named 127\.0\.0\.1:9001, but expired 3\d s ago: the algorithm picks another target and the cookie is rewritten/],
      [flip(target('blue', '127.0.0.1:9001')), 'invalid', /ignored: bad signature \(tampered with, or signed with another stickinessSecret\)/],
      [other, 'invalid', /bad signature/],
      [target('blue', '127.0.0.1:9001').slice(0, 12), 'invalid', /malformed or truncated/],
      [target('blue', '127.0.0.1:9999'), 'target gone', /names 127\.0\.0\.1:9999, but that target is gone/],
      [target('green', '127.0.0.1:9011'), 'no entry', /valid but has no entry for group blue/],
    ];
    for (const [value, verdict, detail] of cases) {
      const { json } = await run(withSecret, 'GET http://h:8080/x', '--cookie', `SWITCHYARDTG=${tg('blue')}`, '--cookie', `SWITCHYARD=${value}`);
      const blue = forward(json).targetGroups.find((g) => g.name === 'blue')!;
      assert.equal(blue.stickyCookie?.verdict, verdict, value);
      assert.match(blue.stickyCookie!.detail, detail);
      assert.equal(blue.pick, null);
    }
    const { json } = await run(withSecret, 'GET http://h:8080/x', '--cookie', `SWITCHYARDTG=${tg('blue', -5)}`);
    assert.equal(forward(json).stickyCookie?.verdict, 'expired');
    const none = await run(withSecret, 'GET http://h:8080/x');
    assert.equal(forward(none.json).stickyCookie?.verdict, 'no cookie');
    assert.match(none.text, /no SWITCHYARDTG cookie: the weighted draw decides, and the response sets it/);
  });

  it('app_cookie: followed only with the application cookie value it was issued for', async () => {
    const value = target('app', '127.0.0.1:9022', 1000, codec.appHash('s-1'));
    const ok = await run(withSecret, 'GET http://h:8080/app/1', '--cookie', 'JSESSIONID=s-1', '--cookie', `SWITCHYARD_APP=${value}`);
    const g = forward(ok.json).targetGroups[0]!;
    assert.equal(g.stickyCookie?.verdict, 'honoured');
    assert.equal(g.pick, '127.0.0.1:9022');
    const stolen = await run(withSecret, 'GET http://h:8080/app/1', '--cookie', 'JSESSIONID=s-2', '--cookie', `SWITCHYARD_APP=${value}`);
    assert.match(forward(stolen.json).targetGroups[0]!.stickyCookie!.detail, /issued for another JSESSIONID value/);
    const bare = await run(withSecret, 'GET http://h:8080/app/1', '--cookie', `SWITCHYARD_APP=${value}`);
    assert.match(forward(bare.json).targetGroups[0]!.stickyCookie!.detail, /the request has no JSESSIONID cookie/);
  });

  it('without a configured stickinessSecret, cookies cannot be checked and explain says so', async () => {
    const { json, text } = await run(withoutSecret, 'GET http://h:8080/x', '--cookie', `SWITCHYARD=${target('blue', '127.0.0.1:9001')}`, '--cookie', `SWITCHYARDTG=${tg('blue')}`);
    const f = forward(json);
    assert.equal(f.stickyCookie?.verdict, 'not checked');
    assert.equal(f.targetGroups.find((g) => g.name === 'blue')!.stickyCookie?.verdict, 'not checked');
    assert.match(text, /not checked: settings\.stickinessSecret is empty/);
  });
});
