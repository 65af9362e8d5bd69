/**
 * Slow start (SPEC §4, `slowStartSeconds`): a weight modifier that ramps a newly healthy
 * target's effective weight linearly from a small fraction to its configured weight.
 *
 * Owns: deciding which targets ramp and setting their `weight` in `apply()`, which the target
 * group calls from `refresh()` (on membership or health changes, and on a coarse timer while a
 * ramp is running) — never per request. Follows the ALB rules: a target ramps when it becomes
 * healthy while at least one other healthy target is not ramping (a group coming up from
 * nothing does not ramp; neither do the targets a group is created with, on their first
 * healthy verdict); it stops ramping when the period ends or it stops being healthy. Algorithms
 * that ignore weights (`random`) ignore slow start too. No I/O, no timers; the clock is passed
 * in.
 */

/** Share of the configured weight a ramping target starts with (Envoy's min_weight_percent). */
export const SLOW_START_MIN_FRACTION = 0.1;

/** What slow start needs from a target (Target satisfies it). */
export interface SlowStartTarget {
  readonly id: string;
  readonly configuredWeight: number;
  /** Effective weight, written by `apply()`. */
  weight: number;
  /** When the target last became healthy, ms on the same clock as `nowMs`; 0 = never. */
  readonly healthySinceMs: number;
}

/**
 * Fraction of its configured weight a target gets `elapsedMs` into a ramp of `durationMs`:
 * linear from SLOW_START_MIN_FRACTION to 1.
 */
export function slowStartFraction(elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0 || elapsedMs >= durationMs) return 1;
  if (!(elapsedMs > 0)) return SLOW_START_MIN_FRACTION;
  return SLOW_START_MIN_FRACTION + (1 - SLOW_START_MIN_FRACTION) * (elapsedMs / durationMs);
}

interface Decision {
  /** The `healthySinceMs` this decision was made for (a new value means a new healthy period). */
  since: number;
  /** Ramp start (ms) when ramping, else -1. */
  from: number;
}

export class SlowStart {
  #durationMs: number;
  readonly #decisions: Map<string, Decision>;
  /** Targets whose next healthy period must not ramp (the group's initial targets). */
  readonly #exempt: Set<string>;

  constructor(durationSeconds: number) {
    this.#durationMs = durationSeconds * 1000;
    this.#decisions = new Map();
    this.#exempt = new Set();
  }

  /** A reload may change the period; ramps in progress follow the new one. */
  setDuration(durationSeconds: number): void {
    this.#durationMs = durationSeconds * 1000;
  }

  /** `id`'s first healthy verdict will not start a ramp (targets present when a group starts). */
  exempt(id: string): void {
    this.#exempt.add(id);
  }

  /** Drops what is known about a target that left the group. */
  forget(id: string): void {
    this.#decisions.delete(id);
    this.#exempt.delete(id);
  }

  /**
   * Sets `weight` on every target of `healthy` (the group's healthy, non-draining targets):
   * the configured weight, scaled down while the target ramps. Returns true when some target
   * is still ramping (the caller then refreshes again in a while).
   */
  apply(healthy: readonly SlowStartTarget[], nowMs: number): boolean {
    const duration = this.#durationMs;
    // Settled targets that are not ramping are the anchor a new ramp needs.
    let anchors = 0;
    for (let i = 0; i < healthy.length; i++) {
      const t = healthy[i]!;
      const d = this.#decisions.get(t.id);
      if (d !== undefined && d.since === t.healthySinceMs && !this.#ramping(d, nowMs)) anchors++;
    }
    let anyRamping = false;
    for (let i = 0; i < healthy.length; i++) {
      const t = healthy[i]!;
      let d = this.#decisions.get(t.id);
      if (d === undefined || d.since !== t.healthySinceMs) {
        const exempt = this.#exempt.delete(t.id);
        const ramps = !exempt && duration > 0 && anchors > 0 && t.healthySinceMs > 0 && nowMs - t.healthySinceMs < duration;
        d = { since: t.healthySinceMs, from: ramps ? t.healthySinceMs : -1 };
        this.#decisions.set(t.id, d);
      }
      if (this.#ramping(d, nowMs)) {
        t.weight = t.configuredWeight * slowStartFraction(nowMs - d.from, duration);
        anyRamping = true;
      } else {
        t.weight = t.configuredWeight;
      }
    }
    return anyRamping;
  }

  #ramping(d: Decision, nowMs: number): boolean {
    return d.from >= 0 && nowMs - d.from < this.#durationMs;
  }
}
