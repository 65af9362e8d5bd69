/**
 * TargetGroupRuntime's part in consistent hashing and explain: `hashOn` is compiled only for
 * consistent_hash groups (and follows reloads), `pick(exclude, hashKey)` hands the key to the
 * balancer, and `healthChecks: false` keeps a group from probing even when its spec enables
 * health checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDefaults, type ResolvedTargetGroup } from '../../../src/config/defaults.js';
import type { TargetGroupConfig } from '../../../src/config/types.js';
import { TargetGroupRuntime } from '../../../src/targets/target-group.js';

function spec(g: Partial<TargetGroupConfig>): ResolvedTargetGroup {
  const resolved = withDefaults({
    listeners: [{ name: 'web', protocol: 'HTTP', port: 1, defaultAction: { forward: { targetGroup: 'g' } } }],
    targetGroups: [{ name: 'g', targets: [1, 2, 3, 4].map((i) => ({ host: '127.0.0.1', port: 9000 + i })), ...g }],
  });
  return resolved.targetGroups[0]!;
}

describe('TargetGroupRuntime hash keys', () => {
  it('compiles hashOn only for consistent_hash, and follows reloads', () => {
    const g = new TargetGroupRuntime(spec({ algorithm: 'consistent_hash', hashOn: { header: 'X-User-Id' }, healthCheck: { enabled: false } }));
    try {
      assert.deepEqual(g.hashOn, { kind: 'header', name: 'X-User-Id', lowerName: 'x-user-id' });
      g.update(spec({ algorithm: 'round_robin', hashOn: { header: 'X-User-Id' }, healthCheck: { enabled: false } }));
      assert.equal(g.hashOn, null);
      g.update(spec({ algorithm: 'consistent_hash', healthCheck: { enabled: false } }));
      assert.deepEqual(g.hashOn, { kind: 'sourceIp' });
    } finally {
      g.close();
    }
  });

  it('pick passes the key: the same key gets the same target, keys spread', () => {
    const g = new TargetGroupRuntime(spec({ algorithm: 'consistent_hash', healthCheck: { enabled: false } }));
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const key = `10.0.0.${i}`;
        const t = g.pick(null, key)!;
        assert.equal(g.pick(null, key), t);
        assert.notEqual(g.pick(new Set([t.id]), key), t);
        seen.add(t.id);
      }
      assert.equal(seen.size, 4);
    } finally {
      g.close();
    }
  });

  it('healthChecks: false starts no checker, even across an update', () => {
    const g = new TargetGroupRuntime(spec({ healthCheck: { enabled: true } }), { healthChecks: false });
    try {
      assert.equal(g.healthChecker, null);
      g.update(spec({ healthCheck: { enabled: false } }));
      g.update(spec({ healthCheck: { enabled: true, path: '/health' } }));
      assert.equal(g.healthChecker, null);
      // Targets never get a verdict: all initial, so the group fails open over all of them.
      assert.equal(g.failOpen, true);
      assert.equal(g.usableTargets.length, 4);
    } finally {
      g.close();
    }
  });
});
