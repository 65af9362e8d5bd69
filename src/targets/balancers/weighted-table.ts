/**
 * The weighted draw that `weighted_random` and `power_of_two` share: the usable targets with
 * their normalised weights and running sums, built in `rebuild()` (never per pick), and draws
 * by binary search over the running sums (a plain index when all weights are equal).
 *
 * Owns: the table and the draws. No I/O, no allocation per draw; never throws.
 */
import { type BalancerTarget, randomIndex, weightedCandidates } from './balancer.js';
import type { Random } from '../../util/random.js';

const EMPTY = new Float64Array(0);

export class WeightedTable<T extends BalancerTarget> {
  targets: readonly T[];
  weights: Float64Array;
  /** `cumulative[i]` = weights[0] + … + weights[i]; strictly increasing. */
  cumulative: Float64Array;
  total: number;
  /** Every weight is equal: a draw is one uniform index, no search. */
  uniform: boolean;

  constructor() {
    this.targets = [];
    this.weights = EMPTY;
    this.cumulative = EMPTY;
    this.total = 0;
    this.uniform = true;
  }

  rebuild(usable: readonly T[]): void {
    const { targets, weights, allEqual } = weightedCandidates(usable);
    const cumulative = new Float64Array(targets.length);
    let sum = 0;
    for (let i = 0; i < targets.length; i++) {
      sum += weights[i]!;
      cumulative[i] = sum;
    }
    this.targets = targets;
    this.weights = weights;
    this.cumulative = cumulative;
    this.total = sum;
    this.uniform = allEqual;
  }

  /** One weighted draw over every target (n ≥ 1): its index. */
  draw(random: Random): number {
    return this.uniform ? randomIndex(random, this.targets.length) : this.search(random() * this.total);
  }

  /**
   * A weighted draw over the targets that are neither in `exclude` nor at index `skip`, by
   * scanning; -1 when there are none. O(n), for the retry path.
   */
  drawExcluding(random: Random, exclude: ReadonlySet<string>, skip: number): number {
    const targets = this.targets;
    const weights = this.weights;
    let remaining = 0;
    for (let i = 0; i < targets.length; i++) {
      if (i !== skip && !exclude.has(targets[i]!.id)) remaining += weights[i]!;
    }
    if (remaining === 0) return -1;
    const r = random() * remaining;
    let last = -1;
    let sum = 0;
    for (let i = 0; i < targets.length; i++) {
      if (i === skip || exclude.has(targets[i]!.id)) continue;
      sum += weights[i]!;
      if (r < sum) return i;
      last = i;
    }
    return last; // Only reached when `random` returned ≥ 1 or rounding left r = sum.
  }

  /** Index of the first cumulative weight greater than `r`, clamped into range. */
  search(r: number): number {
    const cumulative = this.cumulative;
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
