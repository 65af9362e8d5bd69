/**
 * Config for TCP/UDP listeners: defaults (idle timeouts, flow limit, PROXY protocol off, no
 * health checks for UDP groups), the keys that only make sense on some protocols, and that
 * Switchyard no longer refuses TCP/UDP listeners and groups as "not available yet".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../src/config/defaults.js';
import { validateConfig, locateNowhere } from '../../../src/config/validate.js';
import type { Config } from '../../../src/config/types.js';
import { Switchyard } from '../../../src/control/switchyard.js';
import { silentLogger } from '../../../src/observability/logger.js';

const base: Config = {
  listeners: [
    { name: 'web', protocol: 'HTTP', port: 0, host: '127.0.0.1', defaultAction: { forward: { targetGroup: 'web' } } },
    { name: 'db', protocol: 'TCP', port: 0, host: '127.0.0.1', defaultAction: { forward: { targetGroup: 'pg' } } },
    { name: 'dns', protocol: 'UDP', port: 0, host: '127.0.0.1', defaultAction: { forward: { targetGroup: 'resolvers' } } },
  ],
  targetGroups: [
    { name: 'web', targets: [{ host: '127.0.0.1', port: 9001 }] },
    { name: 'pg', protocol: 'TCP', targets: [{ host: '127.0.0.1', port: 5432 }] },
    { name: 'resolvers', protocol: 'UDP', targets: [{ host: '127.0.0.1', port: 53 }] },
  ],
};

test('defaults: TCP idle 350 s, UDP idle 30 s and 10000 flows, nothing on HTTP listeners', () => {
  const [web, db, dns] = withDefaults(base).listeners;
  assert.equal(web?.idleTimeoutSeconds, null);
  assert.equal(web?.maxFlows, null);
  assert.equal(db?.idleTimeoutSeconds, 350);
  assert.equal(db?.maxFlows, null);
  assert.equal(dns?.idleTimeoutSeconds, 30);
  assert.equal(dns?.maxFlows, 10000);
});

test('defaults: PROXY protocol off; health checks TCP for TCP groups, off for UDP groups unless enabled', () => {
  const [web, pg, resolvers] = withDefaults(base).targetGroups;
  assert.equal(pg?.proxyProtocol, 'off');
  assert.equal(web?.healthCheck.enabled, true);
  assert.equal(pg?.healthCheck.enabled, true);
  assert.equal(pg?.healthCheck.protocol, 'TCP');
  assert.equal(resolvers?.healthCheck.enabled, false);
  const enabled = withDefaults({
    ...base,
    targetGroups: [...base.targetGroups!.slice(0, 2), { name: 'resolvers', protocol: 'UDP', healthCheck: { enabled: true, port: 8053 } }],
  }).targetGroups[2];
  assert.equal(enabled?.healthCheck.enabled, true);
  assert.equal(enabled?.healthCheck.protocol, 'TCP');
});

test('explicit values are kept', () => {
  const r = withDefaults({
    ...base,
    listeners: [
      base.listeners[0]!,
      { ...base.listeners[1]!, idleTimeoutSeconds: 5 },
      { ...base.listeners[2]!, idleTimeoutSeconds: 2, maxFlows: 7 },
    ],
    targetGroups: [base.targetGroups![0]!, { ...base.targetGroups![1]!, proxyProtocol: 'v2' }, base.targetGroups![2]!],
  });
  assert.equal(r.listeners[1]?.idleTimeoutSeconds, 5);
  assert.equal(r.listeners[2]?.idleTimeoutSeconds, 2);
  assert.equal(r.listeners[2]?.maxFlows, 7);
  assert.equal(r.targetGroups[1]?.proxyProtocol, 'v2');
});

test('the base config is valid', () => {
  assert.deepEqual(validateConfig(base, locateNowhere), []);
});

test('idleTimeoutSeconds only on TCP/UDP listeners, maxFlows only on UDP, proxyProtocol only on TCP groups', () => {
  const doc = {
    ...base,
    listeners: [
      { ...base.listeners[0]!, idleTimeoutSeconds: 5, maxFlows: 3 },
      { ...base.listeners[1]!, maxFlows: 3 },
      { ...base.listeners[2]!, idleTimeoutSeconds: 0 },
    ],
    targetGroups: [
      { ...base.targetGroups![0]!, proxyProtocol: 'v1' },
      { ...base.targetGroups![1]!, proxyProtocol: 'v3' },
      { ...base.targetGroups![2]!, proxyProtocol: 'v2' },
    ],
  };
  const errors = validateConfig(doc, locateNowhere).map((e) => `${e.path}: ${e.message}`);
  const expect = (path: string, re: RegExp): void => {
    assert.ok(
      errors.some((e) => e.startsWith(`${path}: `) && re.test(e)),
      `expected an error at ${path} matching ${re}; got:\n${errors.join('\n')}`,
    );
  };
  expect('/listeners/0/idleTimeoutSeconds', /only allowed on TCP\/UDP listeners, not HTTP \(use settings.idleTimeoutSeconds\)/);
  expect('/listeners/0/maxFlows', /only allowed on UDP listeners, not HTTP/);
  expect('/listeners/1/maxFlows', /only allowed on UDP listeners, not TCP/);
  expect('/listeners/2/idleTimeoutSeconds', /must be > 0/);
  expect('/targetGroups/0/proxyProtocol', /only sent to TCP target groups, not HTTP/);
  expect('/targetGroups/1/proxyProtocol', /not one of the allowed values/);
  expect('/targetGroups/2/proxyProtocol', /only sent to TCP target groups, not UDP/);
  assert.equal(errors.length, 7, errors.join('\n'));
});

test('Switchyard starts TCP and UDP listeners (no longer "not available yet")', async () => {
  const sy = await Switchyard.start({ config: base, adminPort: null, accessLogPath: 'off', logger: silentLogger() });
  try {
    assert.deepEqual(
      [...sy.listeners.values()].map((l) => [l.name, l.listener.protocol, l.port > 0, l.connectionCount]),
      [
        ['web', 'HTTP', true, 0],
        ['db', 'TCP', true, 0],
        ['dns', 'UDP', true, 0],
      ],
    );
  } finally {
    await sy.close();
  }
});

test('protection on a TCP/UDP listener is refused as not available yet, never silently ignored', async () => {
  const config: Config = { ...base, listeners: [{ ...base.listeners[1]!, protection: { ipAllow: ['10.0.0.0/8'] } }] };
  await assert.rejects(
    Switchyard.start({ config, adminPort: null, accessLogPath: 'off', logger: silentLogger() }),
    (err: { errors?: readonly { path: string; message: string }[] }) =>
      err.errors?.some((e) => e.path === '/listeners/0/protection' && /not available yet/.test(e.message)) === true,
  );
});
