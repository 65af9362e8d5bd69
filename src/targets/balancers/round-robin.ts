/**
 * `round_robin`: smooth weighted round robin, the algorithm of nginx's
 * `ngx_http_upstream_get_peer`. Weights 5,1,1 give `a a b a c a a`: each target gets exactly its
 * weight's share of every cycle of `sum(weights)` picks, and heavy targets are interleaved
 * with light ones instead of served in bursts.
 *
 * Owns: the rotation state of one target group. Three representations, chosen in `refresh()`:
 * - all weights equal: a plain index cursor (the common case);
 * - small integer weights: the whole cycle precomputed into a schedule, so a pick is O(1);
 * - otherwise (long cycles, fractional weights): the live nginx loop, O(targets) per pick.
 * No I/O; never throws.
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

/** Tuning for `RoundRobinBalancer`; every field is optional. */
export interface RoundRobinOptions {
  /**
   * Longest cycle (sum of weights divided by their GCD) that is precomputed into a schedule;
   * longer cycles use the live loop. Default 4096 (16 KiB of schedule).
   */
  readonly maxScheduleLength?: number;
}

const DEFAULT_MAX_SCHEDULE_LENGTH = 4096;
/** Cap on `cycle length × targets`, the cost of building a schedule in `refresh()`. */
const MAX_SCHEDULE_BUILD_STEPS = 1 << 20;

const MODE_EMPTY = 0;
const MODE_CURSOR = 1;
const MODE_SCHEDULE = 2;
const MODE_LIVE = 3;
type Mode = typeof MODE_EMPTY | typeof MODE_CURSOR | typeof MODE_SCHEDULE | typeof MODE_LIVE;

const EMPTY_SCHEDULE = new Uint32Array(0);
const EMPTY_WEIGHTS = new Float64Array(0);

/**
 * Smooth weighted round robin.
 *
 * - After each `refresh()` the rotation starts at a random point of the cycle (as Envoy's round
 *   robin does), so workers and groups do not all send their first request to the same target
 *   and frequent refreshes do not favour the head of the cycle. In the live representation the
 *   current weights are carried over by target id instead.
 * - With `exclude`, excluded targets are skipped and the rotation continues from the target
 *   returned, so the remaining targets keep their relative order and shares.
 */
export class RoundRobinBalancer<T extends BalancerTarget = BalancerTarget> implements Balancer<T> {
  readonly #random: Random;
  readonly #maxScheduleLength: number;
  #mode: Mode;
  #targets: readonly T[];
  /** Normalised weights (live representation only; otherwise empty). */
  #weights: Float64Array;
  /** Smooth-WRR current weights (live representation only; otherwise empty). */
  #current: Float64Array;
  /** Ids matching `#current`, to carry it across refreshes. */
  #ids: readonly string[];
  /** One cycle of target indexes (schedule representation only; otherwise empty). */
  #schedule: Uint32Array;
  /** Next position in `#targets` (cursor) or `#schedule` (schedule). */
  #cursor: number;

  constructor(deps: BalancerDeps, options: RoundRobinOptions = {}) {
    this.#random = deps.random;
    this.#maxScheduleLength = options.maxScheduleLength ?? DEFAULT_MAX_SCHEDULE_LENGTH;
    this.#mode = MODE_EMPTY;
    this.#targets = [];
    this.#weights = EMPTY_WEIGHTS;
    this.#current = EMPTY_WEIGHTS;
    this.#ids = [];
    this.#schedule = EMPTY_SCHEDULE;
    this.#cursor = 0;
  }

  refresh(usable: readonly T[]): void {
    const { targets, weights, total, allEqual } = weightedCandidates(usable);
    const wasLive = this.#mode === MODE_LIVE;
    const prevIds = this.#ids;
    const prevCurrent = this.#current;
    this.#targets = targets;
    this.#weights = EMPTY_WEIGHTS;
    this.#current = EMPTY_WEIGHTS;
    this.#ids = [];
    this.#schedule = EMPTY_SCHEDULE;
    this.#cursor = 0;
    const n = targets.length;
    if (n === 0) {
      this.#mode = MODE_EMPTY;
      return;
    }
    if (allEqual) {
      this.#mode = MODE_CURSOR;
      this.#cursor = randomIndex(this.#random, n);
      return;
    }
    const divisor = integerGcd(weights);
    const cycle = divisor > 0 ? total / divisor : Infinity;
    if (cycle <= this.#maxScheduleLength && cycle * n <= MAX_SCHEDULE_BUILD_STEPS) {
      this.#mode = MODE_SCHEDULE;
      this.#schedule = buildSchedule(weights, divisor, cycle);
      this.#cursor = randomIndex(this.#random, cycle);
      return;
    }
    this.#mode = MODE_LIVE;
    this.#weights = weights;
    this.#current = wasLive
      ? carryCurrentWeights(prevIds, prevCurrent, targets)
      : new Float64Array(n);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(targets[i]!.id);
    this.#ids = ids;
  }

  pick(_ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined {
    const ex = exclude !== null && exclude.size > 0 ? exclude : null;
    switch (this.#mode) {
      case MODE_CURSOR:
        return this.#pickCursor(ex);
      case MODE_SCHEDULE:
        return this.#pickSchedule(ex);
      case MODE_LIVE:
        return this.#pickLive(ex);
      default:
        return undefined;
    }
  }

  #pickCursor(exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const n = targets.length;
    let c = this.#cursor;
    for (let step = 0; step < n; step++) {
      const t = targets[c]!;
      c = c + 1 === n ? 0 : c + 1;
      if (exclude === null || !exclude.has(t.id)) {
        this.#cursor = c;
        return t;
      }
    }
    return undefined;
  }

  #pickSchedule(exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const schedule = this.#schedule;
    const length = schedule.length;
    let c = this.#cursor;
    // Excluded entries passed over are consumed: the excluded target (normally the one that
    // just failed) loses those turns, and everyone else keeps the schedule's order.
    for (let step = 0; step < length; step++) {
      const t = targets[schedule[c]!]!;
      c = c + 1 === length ? 0 : c + 1;
      if (exclude === null || !exclude.has(t.id)) {
        this.#cursor = c;
        return t;
      }
    }
    return undefined;
  }

  /** nginx's loop; excluded targets neither gain nor pay current weight (like its `tried`). */
  #pickLive(exclude: ReadonlySet<string> | null): T | undefined {
    const targets = this.#targets;
    const weights = this.#weights;
    const current = this.#current;
    let best = -1;
    let bestCurrent = 0;
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      if (exclude !== null && exclude.has(targets[i]!.id)) continue;
      const w = weights[i]!;
      const c = current[i]! + w;
      current[i] = c;
      total += w;
      if (best < 0 || c > bestCurrent) {
        best = i;
        bestCurrent = c;
      }
    }
    if (best < 0) return undefined;
    current[best] = bestCurrent - total;
    return targets[best];
  }
}

/** GCD of the weights when all are integers, else 0 (no schedule possible). */
function integerGcd(weights: Float64Array): number {
  let g = 0;
  for (let i = 0; i < weights.length; i++) {
    let b = weights[i]!;
    if (!Number.isSafeInteger(b)) return 0;
    let a = g;
    while (b !== 0) {
      const r = a % b;
      a = b;
      b = r;
    }
    g = a;
  }
  return g;
}

/**
 * One full cycle of smooth WRR, run from all-zero current weights. After `cycle` picks every
 * current weight is back to 0, so the sequence repeats exactly; weights divided by their GCD
 * give the same sequence, only shorter.
 */
function buildSchedule(weights: Float64Array, divisor: number, cycle: number): Uint32Array {
  const n = weights.length;
  const reduced = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    reduced[i] = weights[i]! / divisor;
    total += reduced[i]!;
  }
  const current = new Float64Array(n);
  const schedule = new Uint32Array(cycle);
  for (let k = 0; k < cycle; k++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      current[i] = current[i]! + reduced[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best] = current[best]! - total;
    schedule[k] = best;
  }
  return schedule;
}
