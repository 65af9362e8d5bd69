/**
 * The active health check threshold logic for one target: a pure state machine.
 *
 * Owns: consecutive success/failure counters and the verdict they imply, with the cloud load
 * balancer rule: a target (new or not) becomes healthy after `healthyThreshold` consecutive
 * passes and unhealthy after `unhealthyThreshold` consecutive failures. Must not do I/O, read
 * clocks or touch Target objects: `record` returns whether the verdict flipped, so the caller
 * logs and refreshes exactly once per transition.
 */

export type HealthVerdict = 'initial' | 'healthy' | 'unhealthy';
export type HealthTransition = 'became-healthy' | 'became-unhealthy';

export interface HealthThresholds {
  /** Consecutive passes to become healthy (1–10). */
  readonly healthyThreshold: number;
  /** Consecutive failures to become unhealthy (1–10). */
  readonly unhealthyThreshold: number;
}

export class HealthStateMachine {
  #verdict: HealthVerdict;
  #successes: number;
  #failures: number;
  #healthyThreshold: number;
  #unhealthyThreshold: number;

  /** `verdict` resumes a known verdict (e.g. a checker restarted on reload); default `initial`. */
  constructor(thresholds: HealthThresholds, verdict: HealthVerdict = 'initial') {
    this.#verdict = verdict;
    this.#successes = 0;
    this.#failures = 0;
    this.#healthyThreshold = thresholds.healthyThreshold;
    this.#unhealthyThreshold = thresholds.unhealthyThreshold;
  }

  get verdict(): HealthVerdict {
    return this.#verdict;
  }

  /** Consecutive passes so far (0 after a failure). */
  get successes(): number {
    return this.#successes;
  }

  /** Consecutive failures so far (0 after a pass). */
  get failures(): number {
    return this.#failures;
  }

  get healthyThreshold(): number {
    return this.#healthyThreshold;
  }

  get unhealthyThreshold(): number {
    return this.#unhealthyThreshold;
  }

  /** New thresholds (reload); the counters are kept and apply from the next record. */
  setThresholds(thresholds: HealthThresholds): void {
    this.#healthyThreshold = thresholds.healthyThreshold;
    this.#unhealthyThreshold = thresholds.unhealthyThreshold;
  }

  /** Records one probe outcome; returns the transition it caused, or null. */
  record(ok: boolean): HealthTransition | null {
    if (ok) {
      this.#failures = 0;
      if (this.#successes < this.#healthyThreshold) this.#successes++;
      if (this.#verdict !== 'healthy' && this.#successes >= this.#healthyThreshold) {
        this.#verdict = 'healthy';
        return 'became-healthy';
      }
      return null;
    }
    this.#successes = 0;
    if (this.#failures < this.#unhealthyThreshold) this.#failures++;
    if (this.#verdict !== 'unhealthy' && this.#failures >= this.#unhealthyThreshold) {
      this.#verdict = 'unhealthy';
      return 'became-unhealthy';
    }
    return null;
  }
}
