/**
 * `weighted_random`: each pick draws a target with probability weight / total weight.
 *
 * Owns: nothing beyond the shared WeightedTable (built in `refresh()`, one binary search per
 * pick) and the retry path. Uses the injected `random`. No I/O; never throws.
 */
import type { Balancer, BalancerDeps, BalancerTarget, PickContext } from './balancer.js';
import type { Random } from '../../util/random.js';
import { WeightedTable } from './weighted-table.js';

/** Random choice in proportion to weight (weight 0 gets nothing unless all are 0). */
export class WeightedRandomBalancer<T extends BalancerTarget = BalancerTarget>
  implements Balancer<T>
{
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
    const table = this.#table;
    const targets = table.targets;
    if (targets.length === 0) return undefined;
    const first = targets[table.draw(this.#random)]!;
    if (exclude === null || exclude.size === 0 || !exclude.has(first.id)) return first;
    // Redraw over the non-excluded weight. With the first draw this is still exactly
    // proportional: w/W + (E/W)·(w/W') = w/W', where E is the excluded weight and W' = W − E.
    const i = table.drawExcluding(this.#random, exclude, -1);
    return i < 0 ? undefined : targets[i];
  }
}
