/**
 * The dashboard's data (GET /api/v1/stats): live request rates, status classes, latency
 * percentiles and target health, computed from the metrics counters.
 *
 * Owns: a ring of per-listener counter snapshots taken every second while the admin server
 * runs, and the report built from the newest totals minus the oldest snapshot in the window
 * (rates and percentiles over the last `windowMs`), so any client — the page, curl — gets live
 * numbers without keeping state itself. Control plane only: reads counters, never touches a
 * request. The timer is unref()ed.
 */
import { performance } from 'node:perf_hooks';
import { CODE_CLASSES, RESPONSE_TIME_BUCKETS, histogramQuantile, type ListenerSnapshot } from '../../observability/metrics.js';
import type { Switchyard } from '../../control/switchyard.js';

/** What the sampler reads from a running Switchyard. */
export type StatsSource = Pick<Switchyard, 'metrics' | 'listeners' | 'groups' | 'generation'>;

export interface StatsOptions {
  /** Sampling period, ms. Default 1000. */
  readonly intervalMs?: number;
  /** Window for rates and percentiles, ms. Default 5000. */
  readonly windowMs?: number;
  /** Monotonic clock, ms. Default performance.now. */
  readonly now?: () => number;
}

export interface ListenerStats {
  readonly name: string;
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  /** Requests per second over the window. */
  readonly requestsPerSecond: number;
  /** Per status class (1xx…5xx, none), requests per second over the window. */
  readonly statusClassesPerSecond: Record<string, number>;
  /** Totals since start. */
  readonly requests: number;
  readonly statusClasses: Record<string, number>;
  /** Responses Switchyard generated with a 4xx/5xx status, since start. */
  readonly lbErrors: number;
  readonly activeConnections: number;
  /** Target response time over the window, seconds; null when no response in the window. */
  readonly latencySeconds: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null; readonly count: number };
}

export interface TargetGroupStats {
  readonly name: string;
  readonly algorithm: string;
  readonly failOpen: boolean;
  readonly healthy: number;
  readonly unhealthy: number;
  readonly targets: readonly { id: string; state: string; reason: string; weight: number; effectiveWeight: number; inFlight: number }[];
}

export interface StatsReport {
  readonly time: string;
  readonly generation: number;
  /** Seconds actually covered by the rates (less than the window just after start). */
  readonly windowSeconds: number;
  readonly listeners: readonly ListenerStats[];
  readonly targetGroups: readonly TargetGroupStats[];
}

interface Sample {
  readonly t: number;
  readonly listeners: ReadonlyMap<string, ListenerSnapshot>;
}

const NO_COUNTS = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
const ZERO: ListenerSnapshot = {
  name: '',
  byClass: CODE_CLASSES.map(() => 0),
  requests: 0,
  lbErrors: 0,
  activeConnections: 0,
  newConnections: 0,
  latencyCounts: NO_COUNTS,
  latencySum: 0,
  latencyCount: 0,
};

export class StatsSampler {
  readonly #src: StatsSource;
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #ring: Sample[];
  #timer: NodeJS.Timeout | null;

  constructor(src: StatsSource, o: StatsOptions = {}) {
    this.#src = src;
    this.#intervalMs = o.intervalMs ?? 1000;
    this.#windowMs = o.windowMs ?? 5000;
    this.#now = o.now ?? (() => performance.now());
    this.#ring = [];
    this.#timer = null;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Records the current totals (the timer calls this; tests may call it directly). */
  sample(): void {
    this.#ring.push(this.#take());
    const oldest = this.#now() - this.#windowMs;
    // Keep one sample at or before the window start, so the window is covered fully.
    while (this.#ring.length > 1 && this.#ring[1]!.t <= oldest) this.#ring.shift();
  }

  report(): StatsReport {
    const cur = this.#take();
    const oldest = cur.t - this.#windowMs;
    // The newest sample at or before the window start; else the oldest there is.
    let base: Sample | null = null;
    for (const s of this.#ring) {
      if (s.t >= cur.t) break;
      if (base === null || s.t <= oldest) base = s;
      else break;
    }
    const dt = base === null ? 0 : (cur.t - base.t) / 1000;
    const listeners: ListenerStats[] = [];
    for (const l of this.#src.listeners.values()) {
      const now = cur.listeners.get(l.name) ?? ZERO;
      const then = base?.listeners.get(l.name) ?? ZERO;
      const rate = (a: number, b: number): number => (dt > 0 ? round((a - b) / dt, 3) : 0);
      const statusClasses: Record<string, number> = {};
      const statusClassesPerSecond: Record<string, number> = {};
      CODE_CLASSES.forEach((c, i) => {
        statusClasses[c] = now.byClass[i]!;
        statusClassesPerSecond[c] = rate(now.byClass[i]!, then.byClass[i]!);
      });
      const window = new Float64Array(now.latencyCounts.length);
      let count = 0;
      for (let i = 0; i < window.length; i++) {
        window[i] = now.latencyCounts[i]! - (then.latencyCounts[i] ?? 0);
        count += window[i]!;
      }
      const q = (p: number): number | null => {
        const v = histogramQuantile(p, RESPONSE_TIME_BUCKETS, window);
        return v === null ? null : round(v, 6);
      };
      listeners.push({
        name: l.name,
        protocol: l.listener.protocol,
        host: l.listener.host,
        port: l.port,
        requestsPerSecond: rate(now.requests, then.requests),
        statusClassesPerSecond,
        requests: now.requests,
        statusClasses,
        lbErrors: now.lbErrors,
        activeConnections: now.activeConnections,
        latencySeconds: { p50: q(0.5), p90: q(0.9), p99: q(0.99), count },
      });
    }
    const targetGroups: TargetGroupStats[] = [];
    for (const g of this.#src.groups.values()) {
      let healthy = 0;
      let unhealthy = 0;
      const targets: TargetGroupStats['targets'][number][] = [];
      for (const t of g.targets.values()) {
        const state = t.state;
        if (state === 'healthy') healthy++;
        else if (state === 'unhealthy') unhealthy++;
        targets.push({ id: t.id, state, reason: t.reason, weight: t.configuredWeight, effectiveWeight: round(t.weight, 3), inFlight: t.inFlight });
      }
      targetGroups.push({ name: g.name, algorithm: g.spec.algorithm, failOpen: g.failOpen, healthy, unhealthy, targets });
    }
    return { time: new Date().toISOString(), generation: this.#src.generation, windowSeconds: round(dt, 3), listeners, targetGroups };
  }

  #take(): Sample {
    const listeners = new Map<string, ListenerSnapshot>();
    for (const s of this.#src.metrics.snapshot()) listeners.set(s.name, s);
    return { t: this.#now(), listeners };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
