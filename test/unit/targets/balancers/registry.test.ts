import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsistentHashBalancer } from '../../../../src/targets/balancers/consistent-hash.js';
import { LeastOutstandingBalancer } from '../../../../src/targets/balancers/least-outstanding.js';
import { PowerOfTwoBalancer } from '../../../../src/targets/balancers/power-of-two.js';
import { RandomBalancer } from '../../../../src/targets/balancers/random.js';
import {
  type BalancerName,
  balancerNames,
  createBalancer,
  isBalancerName,
} from '../../../../src/targets/balancers/registry.js';
import { RoundRobinBalancer } from '../../../../src/targets/balancers/round-robin.js';
import { WeightedRandomBalancer } from '../../../../src/targets/balancers/weighted-random.js';

const deps = { random: () => 0 };

describe('balancer registry', () => {
  it('lists the implemented algorithms', () => {
    assert.deepEqual(balancerNames, [
      'round_robin',
      'least_outstanding_requests',
      'random',
      'weighted_random',
      'power_of_two',
      'consistent_hash',
    ]);
    assert.ok(Object.isFrozen(balancerNames));
  });

  it('creates the class registered under each name', () => {
    assert.ok(createBalancer('round_robin', deps) instanceof RoundRobinBalancer);
    assert.ok(createBalancer('least_outstanding_requests', deps) instanceof LeastOutstandingBalancer);
    assert.ok(createBalancer('random', deps) instanceof RandomBalancer);
    assert.ok(createBalancer('weighted_random', deps) instanceof WeightedRandomBalancer);
    assert.ok(createBalancer('power_of_two', deps) instanceof PowerOfTwoBalancer);
    assert.ok(createBalancer('consistent_hash', deps) instanceof ConsistentHashBalancer);
  });

  it('creates an independent instance per call', () => {
    const one = createBalancer('round_robin', deps);
    const two = createBalancer('round_robin', deps);
    assert.notEqual(one, two);
    const usable = [
      { id: 'a', weight: 1, inFlight: 0 },
      { id: 'b', weight: 1, inFlight: 0 },
    ];
    one.refresh(usable);
    two.refresh(usable);
    assert.equal(one.pick({ hashKey: '' }, null)?.id, 'a');
    assert.equal(two.pick({ hashKey: '' }, null)?.id, 'a');
  });

  it('throws a RangeError naming the registered algorithms for an unknown name', () => {
    assert.throws(() => createBalancer('maglev' as BalancerName, deps), {
      name: 'RangeError',
      message: /unknown balancer algorithm "maglev"; registered: round_robin, /,
    });
    assert.throws(() => createBalancer('toString' as BalancerName, deps), RangeError);
  });

  it('isBalancerName accepts only registered names', () => {
    for (const name of balancerNames) assert.equal(isBalancerName(name), true);
    for (const name of ['maglev', 'least_conn', 'ROUND_ROBIN', '', '__proto__', 'constructor']) {
      assert.equal(isBalancerName(name), false, name);
    }
  });
});
