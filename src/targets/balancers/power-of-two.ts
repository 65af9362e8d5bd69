/**
 * `power_of_two` ("power of two random choices", P2C): draw two different targets at random,
 * in proportion to their weights, and send the request to the one with fewer requests in
 * flight per unit of weight; on a tie, to the first drawn.
 *
 * Why: scanning every target for the least loaded one (`least_outstanding_requests`) herds:
 * many load balancer processes with the same view all pick the same idle target. Two random
 * choices keep most of the benefit (the expected worst backlog falls from O(log n / log log n)
 * to O(log log n), Mitzenmacher 2001) at O(1) per pick, as Envoy's least-request (P2C),
 * HAProxy's `random(2)` and nginx's `random two least_conn` do.
 *
 * Weights: both draws are weighted, and at equal load the first draw wins, so with nothing in
 * flight the shares are exactly those of `weighted_random`; comparing in-flight per weight keeps
 * a heavy target from being starved for carrying its larger share.
 *
 * Owns: the pairwise choice over the shared WeightedTable (built in `refresh()`). `inFlight` is the
 * caller's counter, read live at each pick. No I/O; never throws.
 */
import type { Balancer, BalancerDeps, BalancerTarget, PickContext } from './balancer.js';
import { randomIndex } from './balancer.js';
import type { Random } from '../../util/random.js';
import { WeightedTable } from './weighted-table.js';

/** Rejection draws tried on the retry path before scanning for the non-excluded targets. */
const REJECTION_TRIES = 4;

/** Two weighted random candidates; the one with fewer requests in flight per weight wins. */
export class PowerOfTwoBalancer<T extends BalancerTarget = BalancerTarget> implements Balancer<T> {
  readonly #random: Random;
  readonly #table: WeightedTable<T>;

  constructor(deps: BalancerDeps) {
    this.#random = deps.random;
    this.#table = new WeightedTable<T>();
  }

  refresh(usable: readonly T[]): void {
    this.#table.rebuild(usable);
  }

  pick(_ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#table.targets;
    const n = targets.length;
    if (n === 0) return undefined;
    if (n === 1) {
      const only = targets[0]!;
      return exclude !== null && exclude.has(only.id) ? undefined : only;
    }
    if (exclude !== null && exclude.size > 0) return this.#pickExcluding(exclude);
    const a = this.#drawFirst();
    return this.#better(a, this.#drawOther(a));
  }

  /** One weighted draw over every target. */
  #drawFirst(): number {
    return this.#table.draw(this.#random);
  }

  /** One weighted draw over every target but `a` (n ≥ 2). */
  #drawOther(a: number): number {
    const table = this.#table;
    const n = table.targets.length;
    if (table.uniform) {
      const b = randomIndex(this.#random, n - 1);
      return b >= a ? b + 1 : b;
    }
    // Map [0, total − w_a) around a's segment of the cumulative weights.
    const wa = table.weights[a]!;
    const start = table.cumulative[a]! - wa;
    let r = this.#random() * (table.total - wa);
    if (!(r < start)) r += wa;
    const b = table.search(r);
    // Only an out-of-contract random (NaN, ≥ 1) or rounding lands on a itself.
    return b === a ? (a + 1 === n ? 0 : a + 1) : b;
  }

  /**
   * The retry path: the same rule over the targets not in `exclude`. Each candidate is first
   * drawn by rejection (redraw while excluded: cheap when, as usual, one target is excluded),
   * then, if that keeps failing, by a scan over the rest. Both give exactly the weighted
   * distribution over the non-excluded targets. No allocation.
   */
  #pickExcluding(exclude: ReadonlySet<string>): T | undefined {
    const targets = this.#table.targets;
    let a = -1;
    for (let k = 0; k < REJECTION_TRIES && a < 0; k++) {
      const i = this.#drawFirst();
      if (!exclude.has(targets[i]!.id)) a = i;
    }
    if (a < 0) {
      a = this.#table.drawExcluding(this.#random, exclude, -1);
      if (a < 0) return undefined;
    }
    let b = -1;
    for (let k = 0; k < REJECTION_TRIES && b < 0; k++) {
      const j = this.#drawOther(a);
      if (!exclude.has(targets[j]!.id)) b = j;
    }
    if (b < 0) {
      b = this.#table.drawExcluding(this.#random, exclude, a);
      if (b < 0) return targets[a]; // a is the only target left.
    }
    return this.#better(a, b);
  }

  /** a unless b has strictly fewer in flight per unit of weight (a cross product: exact). */
  #better(a: number, b: number): T {
    const { targets, weights } = this.#table;
    const ta = targets[a]!;
    const tb = targets[b]!;
    return tb.inFlight * weights[a]! < ta.inFlight * weights[b]! ? tb : ta;
  }
}
