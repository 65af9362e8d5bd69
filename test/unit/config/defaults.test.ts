/**
 * Tests for src/config/defaults.ts: every default of SPEC §2 is filled in, forward shorthands
 * are normalised, and the result is deeply frozen without freezing the input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS, withDefaults } from '../../../src/config/defaults.js';
import { parseConfigText } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';
import type { Config } from '../../../src/config/types.js';

const minimal: Config = {
  listeners: [
    {
      name: 'web',
      protocol: 'HTTP',
      port: 8080,
      rules: [
        { priority: 1, forward: { targetGroups: [{ name: 'a', weight: 3 }, { name: 'b' }] } },
        { priority: 2, redirect: { protocol: 'HTTPS', port: 443, statusCode: 301 } },
        { priority: 3, match: { path: ['/x'] }, fixedResponse: { statusCode: 503 } },
      ],
      defaultAction: { forward: { targetGroup: 'a' } },
    },
  ],
  targetGroups: [
    { name: 'a', targets: [{ host: '127.0.0.1', port: 9001 }] },
    { name: 'b', algorithm: 'consistent_hash' },
    { name: 'pg', protocol: 'TCP', stickiness: { type: 'app_cookie', cookieName: 'x' } },
  ],
};

test('settings, admin and accessLog defaults', () => {
  const r = withDefaults(minimal);
  assert.deepEqual(r.settings, {
    workers: 1,
    idleTimeoutSeconds: 60,
    requestHeaderTimeoutSeconds: 10,
    shutdownTimeoutSeconds: 30,
    maxRequestHeaderBytes: 65536,
    maxRequestHeaderCount: 100,
    maxUriBytes: 16384,
    maxRequestBodyBytes: 0,
    xForwardedFor: 'append',
    preserveHostHeader: true,
    mergeSlashes: false,
    desyncMitigation: 'defensive',
    stickinessSecret: '',
  });
  assert.deepEqual(r.admin, { host: '127.0.0.1', port: 9090, token: '' });
  assert.deepEqual(r.accessLog, { path: 'stdout' });
});

test('listener defaults and action normalisation', () => {
  const l = withDefaults(minimal).listeners[0]!;
  assert.equal(l.host, '0.0.0.0');
  assert.equal(l.protection, null);
  assert.deepEqual(l.certificates, []);
  assert.deepEqual(l.tls, {
    minVersion: 'TLSv1.2',
    alpn: ['h2', 'http/1.1'],
    clientCa: null,
    clientCertMode: 'verify',
    policy: null,
    handshakeTimeoutSeconds: 10,
  });
  assert.deepEqual(l.defaultAction, {
    kind: 'forward',
    forward: {
      targetGroups: [{ name: 'a', weight: 1 }],
      stickiness: { enabled: false, durationSeconds: 86400 },
      requestHeaders: { set: {}, remove: [] },
      rewritePath: null,
    },
  });
  const [fwd, redirect, fixed] = l.rules;
  assert.deepEqual(fwd?.match, {});
  assert.deepEqual(fwd?.action.kind === 'forward' && fwd.action.forward.targetGroups, [
    { name: 'a', weight: 3 },
    { name: 'b', weight: 1 },
  ]);
  assert.deepEqual(redirect?.action, {
    kind: 'redirect',
    redirect: { protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', statusCode: 301 },
  });
  assert.deepEqual(fixed?.action, {
    kind: 'fixedResponse',
    fixedResponse: { statusCode: 503, contentType: 'text/plain', body: '' },
  });
});

test('target group defaults', () => {
  const [a, b, pg] = withDefaults(minimal).targetGroups;
  assert.deepEqual(a, {
    name: 'a',
    protocol: 'HTTP',
    protocolVersion: 'HTTP1',
    algorithm: 'round_robin',
    hashOn: null,
    targets: [{ host: '127.0.0.1', port: 9001, weight: 1 }],
    healthCheck: {
      enabled: true,
      protocol: 'HTTP',
      path: '/',
      port: 'traffic-port',
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThreshold: 3,
      unhealthyThreshold: 2,
      matcher: '200-399',
    },
    stickiness: { enabled: false, type: 'lb_cookie', durationSeconds: 86400, cookieName: null },
    slowStartSeconds: 0,
    deregistrationDelaySeconds: 30,
    connectTimeoutMs: 3000,
    responseTimeoutMs: 60000,
    retryIdempotentRequests: false,
    proxyProtocol: 'off',
    tls: { verify: true, ca: null, servername: null },
  });
  assert.deepEqual(b?.hashOn, { sourceIp: true });
  assert.deepEqual(b?.targets, []);
  assert.equal(pg?.healthCheck.protocol, 'TCP', 'TCP groups get a TCP connect check by default');
  assert.equal(pg?.stickiness.cookieName, 'x');
});

test('protection defaults: burst follows the rate, key is sourceIp', () => {
  const r = withDefaults({
    ...minimal,
    listeners: [{ ...minimal.listeners[0]!, protection: { rateLimit: { requestsPerSecond: 5 }, waf: {} } }],
  });
  assert.deepEqual(r.listeners[0]?.protection, {
    rateLimit: { requestsPerSecond: 5, burst: 5, key: 'sourceIp' },
    ipAllow: [],
    ipDeny: [],
    waf: { rules: [], builtin: false, mode: 'block', inspectBodyBytes: 8192 },
  });
});

test('the result is deeply frozen and the input is not', () => {
  const input = structuredClone(minimal) as Config;
  const r = withDefaults(input);
  assert.ok(Object.isFrozen(r));
  assert.ok(Object.isFrozen(r.listeners[0]!.rules[0]!.action));
  assert.ok(Object.isFrozen(r.targetGroups[0]!.targets[0]));
  assert.ok(Object.isFrozen(r.listeners[0]!.rules[2]!.match.path));
  assert.ok(!Object.isFrozen(input));
  assert.ok(!Object.isFrozen(input.listeners[0]!.rules![2]!.match!.path));
});

test('a loaded config resolves', () => {
  const text = 'listeners:\n  - { name: a, protocol: HTTP, port: 0, defaultAction: { forward: { targetGroup: g } } }\ntargetGroups:\n  - { name: g }\n';
  const loaded = parseConfigText(text, 'x.yaml', {});
  assert.ok(loaded.ok);
  assert.equal(withDefaults(loaded.config).listeners[0]?.port, 0);
});

test('the schema publishes the same defaults', () => {
  const defs = configSchema.definitions!;
  const tg = defs['targetGroup']!.properties!;
  assert.equal(tg['connectTimeoutMs']?.default, DEFAULTS.targetGroup.connectTimeoutMs);
  assert.equal(defs['healthCheck']!.properties!['intervalSeconds']?.default, 5);
  assert.equal(configSchema.properties!['settings']!.properties!['maxUriBytes']?.default, 16384);
});
