/**
 * The cluster primary's view of what its workers counted: the last `collected` answer of each
 * live worker, plus the totals of workers that have exited, so that counters never go down
 * when a worker is replaced (Prometheus would read a drop as a counter reset).
 *
 * Owns: adding up the workers' prom-client registries (`AggregatorRegistry.aggregate`, which
 * sums counters, histograms and gauges by label set) together with the primary's own registry
 * (reloads, target health), and adding up the dashboard's per-listener totals. The metrics the
 * primary owns are taken from the primary only: a worker's copies (its reload counter, its view
 * of target health) are dropped. Gauges of an exited worker (its open connections) are dropped
 * too; its counters and histograms are kept. Requests a worker counted after its last answer
 * and before it died are lost (at most one pull interval). No I/O; the caller pulls.
 */
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { RESPONSE_TIME_BUCKETS, type ListenerSnapshot, type RemoteMetrics } from '../observability/metrics.js';
import type { CollectedMessage, ListenerTotals } from './messages.js';

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/** Metrics only the primary knows: its reloads and its health checker's verdicts. */
export const PRIMARY_METRICS: ReadonlySet<string> = new Set(['switchyard_reloads_total', 'switchyard_healthy_targets', 'switchyard_unhealthy_targets']);

interface WorkerTotals {
  readonly metrics: readonly MetricJson[];
  readonly listeners: readonly ListenerTotals[];
}

export class ClusterMetrics implements RemoteMetrics {
  /** Worker slot → its last answer. */
  readonly #live: Map<number, WorkerTotals>;
  /** The exited workers' counters and histograms, already added up (one registry's JSON). */
  #retired: MetricJson[];
  readonly #retiredListeners: Map<string, ListenerTotals>;

  constructor() {
    this.#live = new Map();
    this.#retired = [];
    this.#retiredListeners = new Map();
  }

  /** Records a worker's answer (it replaces that worker's previous one: totals, not deltas). */
  update(worker: number, m: CollectedMessage): void {
    this.#live.set(worker, { metrics: m.metrics.filter((x) => !PRIMARY_METRICS.has(x.name)), listeners: m.listeners });
  }

  /** Requests a worker has finished, from its last answer (GET /api/v1/workers). */
  requestsOf(worker: number): number {
    let n = 0;
    for (const l of this.#live.get(worker)?.listeners ?? []) n += l.requests;
    return n;
  }

  /** Open connections of a worker, from its last answer. */
  connectionsOf(worker: number): number {
    let n = 0;
    for (const l of this.#live.get(worker)?.listeners ?? []) n += l.activeConnections;
    return n;
  }

  /** A worker exited: its counters stay in the totals, its gauges leave them. */
  retire(worker: number): void {
    const last = this.#live.get(worker);
    this.#live.delete(worker);
    if (last === undefined) return;
    const kept = last.metrics.filter((m) => String(m.type) !== 'gauge');
    this.#retired = aggregateJson([this.#retired, kept]);
    for (const l of last.listeners) {
      const prev = this.#retiredListeners.get(l.name);
      this.#retiredListeners.set(l.name, addListenerTotals(prev, { ...l, activeConnections: 0 }));
    }
  }

  render(own: Registry): Promise<string> {
    return own.getMetricsAsJSON().then((mine) => {
      const all: (readonly MetricJson[])[] = [mine, this.#retired];
      for (const w of this.#live.values()) all.push(w.metrics);
      return AggregatorRegistry.aggregate(all as MetricJson[][]).metrics();
    });
  }

  snapshot(): ListenerSnapshot[] {
    const byName = new Map<string, ListenerTotals>(this.#retiredListeners);
    for (const w of this.#live.values()) {
      for (const l of w.listeners) byName.set(l.name, addListenerTotals(byName.get(l.name), l));
    }
    const out: ListenerSnapshot[] = [];
    for (const l of byName.values()) out.push({ ...l, byClass: [...l.byClass], latencyCounts: Float64Array.from(l.latencyCounts) });
    return out;
  }
}

/** A listener snapshot as plain data (for IPC: a Float64Array does not survive JSON). */
export function listenerTotalsOf(s: ListenerSnapshot): ListenerTotals {
  return { ...s, byClass: [...s.byClass], latencyCounts: Array.from(s.latencyCounts) };
}

function addListenerTotals(a: ListenerTotals | undefined, b: ListenerTotals): ListenerTotals {
  if (a === undefined) return b;
  const n = Math.max(a.latencyCounts.length, b.latencyCounts.length, RESPONSE_TIME_BUCKETS.length + 1);
  const latencyCounts = new Array<number>(n);
  for (let i = 0; i < n; i++) latencyCounts[i] = (a.latencyCounts[i] ?? 0) + (b.latencyCounts[i] ?? 0);
  const byClass = new Array<number>(Math.max(a.byClass.length, b.byClass.length));
  for (let i = 0; i < byClass.length; i++) byClass[i] = (a.byClass[i] ?? 0) + (b.byClass[i] ?? 0);
  return {
    name: a.name,
    byClass,
    requests: a.requests + b.requests,
    lbErrors: a.lbErrors + b.lbErrors,
    activeConnections: a.activeConnections + b.activeConnections,
    newConnections: a.newConnections + b.newConnections,
    latencyCounts,
    latencySum: a.latencySum + b.latencySum,
    latencyCount: a.latencyCount + b.latencyCount,
  };
}

/**
 * Sums registries' JSON into one registry's JSON, synchronously: what `AggregatorRegistry`
 * does, read back from the registry it builds (its metrics' `get()` return plain values).
 */
function aggregateJson(parts: readonly (readonly MetricJson[])[]): MetricJson[] {
  const reg = AggregatorRegistry.aggregate(parts as MetricJson[][]);
  const out: MetricJson[] = [];
  for (const m of reg.getMetricsAsArray()) {
    const v = (m as unknown as { get(): MetricJson }).get();
    out.push(v);
  }
  return out;
}
