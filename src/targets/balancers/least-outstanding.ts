/**
 * `least_outstanding_requests`: each pick goes to the target with the fewest requests in flight
 * relative to its weight (lowest `inFlight / weight`), so a slow target stops receiving new
 * requests while its backlog lasts.
 *
 * Owns: the tie-breaking state of one target group. `inFlight` is the caller's counter, read
 * live at each pick (the target group increments it before `onRequestStart` and decrements it
 * before `onRequestEnd`), so this algorithm keeps no per-request state of its own.
 * No I/O; never throws.
 *
 * Ties matter: at low load every target has 0 in flight. They are broken so that equal loads
 * spread the way `round_robin` would spread them:
 * - equal weights: a rotating start index, so tied targets take turns;
 * - different weights: smooth weighted round robin among the tied targets only, so with no
 *   concurrency at all (every request finished before the next pick) traffic still follows the
 *   weights exactly.
 *
 * Cost: with equal weights, a scan from the rotating start that stops at the first idle target
 * (O(1) at low load, one pass when every target is busy); with unequal weights, two passes
 * (about 0.6 µs at 100 targets, see `bench/micro/balancers.bench.ts`). Scanning cannot drift
 * from the caller's counters; if groups grow to thousands of weighted targets, an ordered
 * structure updated in `onRequestStart`/`onRequestEnd` would be the next step.
 */
import {
  type Balancer,
  type BalancerDeps,
  type BalancerTarget,
  type PickContext,
  carryCurrentWeights,
  randomIndex,
  weightedCandidates,
} from './balancer.js';
import type { Random } from '../../util/random.js';

const EMPTY = new Float64Array(0);

/** Fewest in-flight requests per unit of weight; ties spread by (weighted) round robin. */
export class LeastOutstandingBalancer<T extends BalancerTarget = BalancerTarget>
  implements Balancer<T>
{
  readonly #random: Random;
  #targets: readonly T[];
  #weighted: boolean;
  /** Normalised weights (weighted mode only; otherwise empty). */
  #weights: Float64Array;
  /** Smooth-WRR current weights for tie-breaking (weighted mode only; otherwise empty). */
  #current: Float64Array;
  /** Ids matching `#current`, to carry it across refreshes. */
  #ids: readonly string[];
  /** Where the next tie-breaking scan starts (equal-weights mode). */
  #cursor: number;

  constructor(deps: BalancerDeps) {
    this.#random = deps.random;
    this.#targets = [];
    this.#weighted = false;
    this.#weights = EMPTY;
    this.#current = EMPTY;
    this.#ids = [];
    this.#cursor = 0;
  }

  refresh(usable: readonly T[]): void {
    const { targets, weights, allEqual } = weightedCandidates(usable);
    const n = targets.length;
    const wasWeighted = this.#weighted;
    this.#targets = targets;
    this.#cursor = n > 0 ? randomIndex(this.#random, n) : 0;
    if (allEqual || n === 0) {
      this.#weighted = false;
      this.#weights = EMPTY;
      this.#current = EMPTY;
      this.#ids = [];
      return;
    }
    this.#current = wasWeighted
      ? carryCurrentWeights(this.#ids, this.#current, targets)
      : new Float64Array(n);
    this.#weighted = true;
    this.#weights = weights;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(targets[i]!.id);
    this.#ids = ids;
  }

  pick(_ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined {
    const ex = exclude !== null && exclude.size > 0 ? exclude : null;
    return this.#weighted ? this.#pickWeighted(ex) : this.#pickEqual(ex);
  }

  #pickEqual(exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const n = targets.length;
    if (n === 0) return undefined;
    const start = this.#cursor;
    let best = -1;
    let bestInFlight = Infinity;
    if (exclude === null) {
      // Scan from the cursor, wrapping once. In-flight counts are never negative, so a target
      // with none ends the scan: at low load a pick is O(1).
      for (let i = start; i < n && bestInFlight > 0; i++) {
        const f = targets[i]!.inFlight;
        if (f < bestInFlight) {
          best = i;
          bestInFlight = f;
        }
      }
      for (let i = 0; i < start && bestInFlight > 0; i++) {
        const f = targets[i]!.inFlight;
        if (f < bestInFlight) {
          best = i;
          bestInFlight = f;
        }
      }
      // Only a non-numeric inFlight (a caller bug) leaves no answer; take the cursor's target.
      if (best < 0) best = start;
    } else {
      let i = start;
      for (let step = 0; step < n && bestInFlight > 0; step++) {
        const t = targets[i]!;
        if (!exclude.has(t.id) && (best < 0 || t.inFlight < bestInFlight)) {
          best = i;
          bestInFlight = t.inFlight;
        }
        i = i + 1 === n ? 0 : i + 1;
      }
      if (best < 0) return undefined;
    }
    this.#cursor = best + 1 === n ? 0 : best + 1;
    return targets[best];
  }

  #pickWeighted(exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const weights = this.#weights;
    const n = targets.length;
    // Pass 1: the lowest inFlight/weight, compared as a cross product (exact for integers).
    let minIndex = -1;
    let minInFlight = 0;
    let minWeight = 0;
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      if (exclude !== null && exclude.has(t.id)) continue;
      const w = weights[i]!;
      if (minIndex < 0 || t.inFlight * minWeight < minInFlight * w) {
        minIndex = i;
        minInFlight = t.inFlight;
        minWeight = w;
      }
    }
    if (minIndex < 0) return undefined;
    // Pass 2: smooth weighted round robin among the targets at that ratio.
    const current = this.#current;
    let best = -1;
    let bestCurrent = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      if (exclude !== null && exclude.has(t.id)) continue;
      const w = weights[i]!;
      if (t.inFlight * minWeight !== minInFlight * w) continue;
      const c = current[i]! + w;
      current[i] = c;
      total += w;
      if (best < 0 || c > bestCurrent) {
        best = i;
        bestCurrent = c;
      }
    }
    // Only a non-numeric inFlight (a caller bug) leaves no tie; fall back to pass 1's answer.
    if (best < 0) return targets[minIndex];
    current[best] = bestCurrent - total;
    return targets[best];
  }
}
