/**
 * The balancer registry: algorithm name (SPEC §2 `targetGroups[].algorithm`) → factory.
 * Adding an algorithm is one new file plus one entry here; the shared conformance suite
 * (`test/conformance/balancer.case.ts`) then runs against it.
 *
 * Owns: the name → factory map. No I/O. `createBalancer` throws only for a name that is not
 * registered, which is a programmer error (config validation rejects unknown names first).
 */
import type { AlgorithmName } from '../../config/types.js';
import type { Balancer, BalancerDeps, BalancerFactory, BalancerTarget } from './balancer.js';
import { ConsistentHashBalancer } from './consistent-hash.js';
import { LeastOutstandingBalancer } from './least-outstanding.js';
import { PowerOfTwoBalancer } from './power-of-two.js';
import { RandomBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedRandomBalancer } from './weighted-random.js';

/** The algorithms implemented (every `AlgorithmName` of SPEC §2). */
export type BalancerName = Extract<
  AlgorithmName,
  | 'round_robin'
  | 'least_outstanding_requests'
  | 'random'
  | 'weighted_random'
  | 'power_of_two'
  | 'consistent_hash'
>;

const factories: { readonly [K in BalancerName]: BalancerFactory } = {
  round_robin: (deps) => new RoundRobinBalancer(deps),
  least_outstanding_requests: (deps) => new LeastOutstandingBalancer(deps),
  random: (deps) => new RandomBalancer(deps),
  weighted_random: (deps) => new WeightedRandomBalancer(deps),
  power_of_two: (deps) => new PowerOfTwoBalancer(deps),
  consistent_hash: (deps) => new ConsistentHashBalancer(deps),
};

/** Every registered algorithm name, in a stable order (for validation messages and tests). */
export const balancerNames: readonly BalancerName[] = Object.freeze(
  Object.keys(factories) as BalancerName[],
);

/** Whether `name` has a registered balancer (narrows a config string for `createBalancer`). */
export function isBalancerName(name: string): name is BalancerName {
  return Object.hasOwn(factories, name);
}

/**
 * A fresh balancer for one target group. Throws `RangeError` for an unregistered name; that
 * is a programmer error, since config validation only admits registered names.
 */
export function createBalancer<T extends BalancerTarget = BalancerTarget>(
  name: BalancerName,
  deps: BalancerDeps,
): Balancer<T> {
  if (!isBalancerName(name)) {
    throw new RangeError(
      `unknown balancer algorithm ${JSON.stringify(name)}; registered: ${balancerNames.join(', ')}`,
    );
  }
  return factories[name]<T>(deps);
}
