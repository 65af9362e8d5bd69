/**
 * Runs the shared balancer conformance suite against every registered algorithm, through the
 * registry (so an algorithm that is registered but not listed here fails the coverage check).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancerNames, createBalancer, type BalancerName } from '../../src/targets/balancers/registry.js';
import { RoundRobinBalancer } from '../../src/targets/balancers/round-robin.js';
import { seededRandom } from '../../src/util/random.js';
import { type ConformanceOptions, type TestTarget, runBalancerConformance } from './balancer.case.js';

const expectations: { readonly [K in BalancerName]: ConformanceOptions } = {
  round_robin: { honoursWeights: true },
  least_outstanding_requests: { honoursWeights: true, prefersLeastInFlight: true },
  random: { honoursWeights: false },
  weighted_random: { honoursWeights: true },
  power_of_two: { honoursWeights: true, avoidsMostLoaded: true },
  consistent_hash: { honoursWeights: true, hashesKey: true },
};

describe('balancer conformance: setup', () => {
  it('covers every registered algorithm', () => {
    assert.deepEqual([...balancerNames].sort(), Object.keys(expectations).sort());
  });

  it('the injected seeded random is deterministic and in [0, 1)', () => {
    const a = seededRandom(123);
    const b = seededRandom(123);
    const c = seededRandom(124);
    let differs = false;
    for (let i = 0; i < 10_000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
      if (x !== c()) differs = true;
    }
    assert.ok(differs);
  });
});

for (const name of balancerNames) {
  runBalancerConformance(name, (deps) => createBalancer<TestTarget>(name, deps), expectations[name]);
}

// round_robin's live representation (used for long cycles and fractional weights) must meet
// the same contract as its schedule and cursor representations.
runBalancerConformance(
  'round_robin (live loop, no schedule)',
  (deps) => new RoundRobinBalancer<TestTarget>(deps, { maxScheduleLength: 0 }),
  expectations.round_robin,
);
