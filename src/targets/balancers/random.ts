/**
 * `random`: every usable target is equally likely, whatever its weight.
 *
 * Weights are deliberately ignored here: `weighted_random` is the algorithm that draws in
 * proportion to weight. The weight rules still decide *which* targets are usable (a weight-0
 * target gets nothing unless every target has weight 0), so slow start at weight 0 and
 * operator-zeroed targets behave the same under every algorithm.
 *
 * Owns: one uniform draw per pick from the injected `random`. No I/O; never throws.
 */
import {
  type Balancer,
  type BalancerDeps,
  type BalancerTarget,
  type PickContext,
  randomIndex,
  weightedCandidates,
} from './balancer.js';
import type { Random } from '../../util/random.js';

/** Uniform random choice among the usable targets (weights ignored, except weight 0). */
export class RandomBalancer<T extends BalancerTarget = BalancerTarget> implements Balancer<T> {
  readonly #random: Random;
  #targets: readonly T[];

  constructor(deps: BalancerDeps) {
    this.#random = deps.random;
    this.#targets = [];
  }

  refresh(usable: readonly T[]): void {
    this.#targets = weightedCandidates(usable).targets;
  }

  pick(_ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const n = targets.length;
    if (n === 0) return undefined;
    const first = targets[randomIndex(this.#random, n)]!;
    if (exclude === null || exclude.size === 0 || !exclude.has(first.id)) return first;
    // Redraw among the rest. Together with the first draw this is still exactly uniform over
    // the non-excluded targets: 1/n + (e/n)·(1/m) = 1/m, where m = n − e.
    let remaining = 0;
    for (let i = 0; i < n; i++) {
      if (!exclude.has(targets[i]!.id)) remaining++;
    }
    if (remaining === 0) return undefined;
    let k = randomIndex(this.#random, remaining);
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      if (exclude.has(t.id)) continue;
      if (k === 0) return t;
      k--;
    }
    return undefined;
  }
}
