/**
 * Config for protections and limits: WAF rule shape and its semantic checks (regexes compile,
 * names unique, at least one condition, CIDRs valid), defaults (inspectBodyBytes, rule action
 * from the WAF's mode, maxConnections 0), and maxConnections only on HTTP/HTTPS listeners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../src/config/defaults.js';
import { validateConfig, locateNowhere } from '../../../src/config/validate.js';
import type { Config, WafConfig } from '../../../src/config/types.js';

function withWaf(waf: WafConfig, extra: Partial<Config['listeners'][number]> = {}): Config {
  return {
    listeners: [{ name: 'web', protocol: 'HTTP', port: 0, protection: { waf }, defaultAction: { fixedResponse: { statusCode: 200 } }, ...extra }],
  };
}

const errors = (c: unknown): string[] => validateConfig(c, locateNowhere).map((e) => `${e.path}: ${e.message}`);

test('a valid WAF and maxConnections pass; defaults fill the rest', () => {
  const c = withWaf({ mode: 'count', rules: [{ name: 'a', path: ['^/x'] }, { name: 'b', match: { method: ['POST'] }, body: ['y'], action: 'block' }] }, { maxConnections: 5 });
  assert.deepEqual(errors(c), []);
  const l = withDefaults(c).listeners[0]!;
  assert.equal(l.maxConnections, 5);
  assert.equal(l.protection?.waf?.inspectBodyBytes, 8192);
  assert.deepEqual(
    l.protection?.waf?.rules.map((r) => [r.name, r.action, r.caseSensitive]),
    [
      ['a', 'count', false],
      ['b', 'block', false],
    ],
  );
  assert.equal(withDefaults({ listeners: [{ name: 'w', protocol: 'HTTP', port: 0, defaultAction: { fixedResponse: { statusCode: 200 } } }] }).listeners[0]!.maxConnections, 0);
});

test('WAF rules: invalid regex, duplicate name, no condition, bad CIDR, unknown key', () => {
  const e = errors(
    withWaf({
      rules: [
        { name: 'a', path: ['(unclosed'] },
        { name: 'a' },
        { name: 'c', header: { 'X-A': ['[z-a]'] } },
        { name: 'd', match: { sourceIp: ['10.0.0.0/99'] } },
        { name: 'e', pathh: ['x'] } as never,
      ],
    }),
  );
  const has = (re: RegExp): void => assert.ok(e.some((x) => re.test(x)), `${re} in\n${e.join('\n')}`);
  has(/rules\/0\/path\/0: invalid regular expression/);
  has(/rules\/1: a WAF rule needs at least one condition/);
  has(/rules\/1\/name: duplicate WAF rule name "a"/);
  has(/rules\/2\/header\/X-A\/0: invalid regular expression/);
  has(/rules\/3\/match\/sourceIp\/0: invalid IP address/);
  has(/rules\/4\/pathh: unknown key/);
});

test('inspectBodyBytes is bounded, mode and action are enums', () => {
  assert.ok(errors(withWaf({ inspectBodyBytes: 2_000_000 })).some((x) => x.includes('inspectBodyBytes')));
  assert.ok(errors(withWaf({ mode: 'deny' as never })).some((x) => x.includes('mode')));
  assert.ok(errors(withWaf({ rules: [{ name: 'a', path: ['x'], action: 'drop' as never }] })).some((x) => x.includes('action')));
});

test('maxConnections only on HTTP/HTTPS listeners', () => {
  const e = errors({
    listeners: [{ name: 'db', protocol: 'TCP', port: 0, maxConnections: 3, defaultAction: { forward: { targetGroup: 't' } } }],
    targetGroups: [{ name: 't', protocol: 'TCP', targets: [{ host: '127.0.0.1', port: 1 }] }],
  });
  assert.ok(e.some((x) => x.startsWith('/listeners/0/maxConnections:')), e.join('\n'));
});
