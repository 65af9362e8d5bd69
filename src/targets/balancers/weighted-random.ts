/**
 * `weighted_random`: each pick draws a target with probability weight / total weight.
 *
 * Owns: a cumulative-weight table built in `refresh()` and one binary search per pick over it,
 * using the injected `random`. No I/O; never throws.
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

const EMPTY = new Float64Array(0);

/** Random choice in proportion to weight (weight 0 gets nothing unless all are 0). */
export class WeightedRandomBalancer<T extends BalancerTarget = BalancerTarget>
  implements Balancer<T>
{
  readonly #random: Random;
  #targets: readonly T[];
  #weights: Float64Array;
  /** `cumulative[i]` = weights[0] + … + weights[i]; strictly increasing. */
  #cumulative: Float64Array;
  #total: number;
  /** All weights equal: a pick is one uniform index, no search. */
  #uniform: boolean;

  constructor(deps: BalancerDeps) {
    this.#random = deps.random;
    this.#targets = [];
    this.#weights = EMPTY;
    this.#cumulative = EMPTY;
    this.#total = 0;
    this.#uniform = true;
  }

  refresh(usable: readonly T[]): void {
    const { targets, weights, allEqual } = weightedCandidates(usable);
    const cumulative = new Float64Array(targets.length);
    let sum = 0;
    for (let i = 0; i < targets.length; i++) {
      sum += weights[i]!;
      cumulative[i] = sum;
    }
    this.#targets = targets;
    this.#weights = weights;
    this.#cumulative = cumulative;
    this.#total = sum;
    this.#uniform = allEqual;
  }

  pick(_ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const n = targets.length;
    if (n === 0) return undefined;
    const first = this.#uniform
      ? targets[randomIndex(this.#random, n)]!
      : targets[this.#search(this.#random() * this.#total)]!;
    if (exclude === null || exclude.size === 0 || !exclude.has(first.id)) return first;
    // Redraw over the non-excluded weight. With the first draw this is still exactly
    // proportional: w/W + (E/W)·(w/W') = w/W', where E is the excluded weight and W' = W − E.
    const weights = this.#weights;
    let remaining = 0;
    for (let i = 0; i < n; i++) {
      if (!exclude.has(targets[i]!.id)) remaining += weights[i]!;
    }
    if (remaining === 0) return undefined;
    const r = this.#random() * remaining;
    let last: T | undefined;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      if (exclude.has(t.id)) continue;
      sum += weights[i]!;
      if (r < sum) return t;
      last = t;
    }
    return last; // Only reached when `random` returned ≥ 1 or rounding left r = sum.
  }

  /** Index of the first cumulative weight greater than `r`, clamped into range. */
  #search(r: number): number {
    const cumulative = this.#cumulative;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
