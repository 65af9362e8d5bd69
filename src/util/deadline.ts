/**
 * A deadline that is moved on the hot path without touching a timer.
 *
 * A keep-alive connection re-arms its timeouts on every request (idle → request head → idle, or
 * a pooled target connection: parked → in use → parked). With one `setTimeout` + `clearTimeout`
 * per change that is several timer objects created, inserted and collected per request. Here
 * `set` and `clear` only write a number; one timer per owner checks the deadline at least every
 * `periodMs` and re-schedules itself for what is left. With the owner's shortest timeout as the
 * period, a new deadline is never earlier than the pending check, so moving it costs nothing; a
 * shorter one (settings changed by a reload) re-schedules the check. An idle owner costs one
 * timer callback per period.
 */
export class Deadline {
  /** performance.now() value at which the deadline expires; 0 when none is set. */
  #at: number;
  #timer: NodeJS.Timeout | null;
  /** performance.now() value at which the pending check runs. */
  #checkAt: number;
  readonly #periodMs: number;
  readonly #onExpire: () => void;
  readonly #check: () => void;

  constructor(periodMs: number, onExpire: () => void) {
    this.#at = 0;
    this.#timer = null;
    this.#checkAt = 0;
    this.#periodMs = Math.max(1, periodMs);
    this.#onExpire = onExpire;
    this.#check = () => this.#onTimer();
  }

  /** Expires `ms` from now (replacing any deadline set before). */
  set(ms: number): void {
    const at = performance.now() + ms;
    this.#at = at;
    if (this.#timer === null) this.#schedule(ms);
    else if (at < this.#checkAt) {
      clearTimeout(this.#timer);
      this.#schedule(ms);
    }
  }

  /** No deadline; the pending check (if any) finds nothing and lapses. */
  clear(): void {
    this.#at = 0;
  }

  get armed(): boolean {
    return this.#at !== 0;
  }

  /** Clears the deadline and the timer (the owner is closing). */
  stop(): void {
    this.#at = 0;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(ms: number): void {
    const delay = ms < this.#periodMs ? ms : this.#periodMs;
    this.#checkAt = performance.now() + delay;
    this.#timer = setTimeout(this.#check, delay);
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = null;
    if (this.#at === 0) return;
    const left = this.#at - performance.now();
    // Timers may fire up to a millisecond early (whole-millisecond clock): not yet is re-checked.
    if (left >= 1) {
      this.#schedule(left);
      return;
    }
    this.#at = 0;
    this.#onExpire();
  }
}
