/**
 * Metrics (SPEC §6): the counters the data plane bumps, and their Prometheus exposition through
 * a prom-client Registry.
 *
 * Owns: the metric names and label sets, the hot-path counting (through the `ListenerHooks` an
 * HttpListener calls), the scrape-time collection (target health is read from the live target
 * groups then, never tracked per request), and the `snapshot()` the dashboard samples.
 *
 * Hot path: a request is counted by three Map lookups (listener, rule, target group) that end
 * in a small array of pre-bound cells, one per (status class, source), and one `count++`. A
 * cell and its label object are built the first time a label combination occurs; after that
 * nothing is allocated per request. prom-client's own `labels(...).inc()` hashes the label
 * values into a string on every call, so it is used only at scrape time: each metric's
 * `collect()` moves the cells' values into prom-client, which renders the text format. The
 * histogram has no prom-client setter for bucket counts, so it is a small collector of our own
 * that prom-client's Registry renders like its own (docs/decisions/0005-metrics-and-dashboard.md).
 * Never throws on the hot path; no I/O.
 */
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { ClientRequest } from '../listener/client-request.js';
import type { ListenerHooks } from '../listener/http-listener.js';
import type { ProxyErrorKind } from '../proxy/errors.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { SecurityMetrics } from './security-metrics.js';
import type { Classification } from '../proxy/framing.js';
import type { DesyncOutcome } from '../proxy/dispatch.js';
import type { ProtectionHit } from '../protection/protection.js';

/** Values of the `code_class` label; `none` = no response was sent (the client left first). */
export const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;
export type CodeClass = (typeof CODE_CLASSES)[number];
const CLASS_NONE = 5;

/** Values of the `source` label: who produced the status. */
export const SOURCES = ['lb', 'target'] as const;
const SOURCE_LB = 0;
const SOURCE_TARGET = 1;

/** `rule` label of a request refused before routing (bad head, limits): no rule ran. */
export const RULE_NONE = '';
/** `rule` label of the listener's default action. */
export const RULE_DEFAULT = 'default';
/** Internal rule key for "refused before routing" (priorities are 1–50000, default is 0). */
const RULE_KEY_NONE = -1;

/**
 * Upper bounds of `switchyard_target_response_seconds`, seconds: from sub-millisecond (a
 * loopback target) to the one-minute default response timeout.
 */
export const RESPONSE_TIME_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/** One pre-bound label set of `switchyard_requests_total`. */
class RequestCell {
  readonly labels: Readonly<Record<string, string>>;
  readonly codeClass: number;
  readonly source: number;
  count: number;
  reported: number;
  constructor(labels: Record<string, string>, codeClass: number, source: number) {
    this.labels = labels;
    this.codeClass = codeClass;
    this.source = source;
    this.count = 0;
    this.reported = 0;
  }
}

/** One pre-bound label set of the response-time histogram (per listener and target group). */
class LatencyCell {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative); the last entry is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  constructor(labels: Record<string, string>) {
    this.labels = labels;
    this.counts = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
    this.sum = 0;
    this.count = 0;
  }
}

/** Everything counted for one listener name. */
class ListenerCells {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** rule key → target group name → cells indexed by `codeClass * 2 + source`. */
  readonly rules: Map<number, Map<string, (RequestCell | undefined)[]>>;
  /** target group name → histogram cell. */
  readonly latency: Map<string, LatencyCell>;
  activeConnections: number;
  newConnections: number;
  newReported: number;
  constructor(name: string) {
    this.name = name;
    this.labels = { listener: name };
    this.rules = new Map();
    this.latency = new Map();
    this.activeConnections = 0;
    this.newConnections = 0;
    this.newReported = 0;
  }
}

/** Index into CODE_CLASSES for an HTTP status; 0 (nothing sent) is `none`. */
export function codeClassIndex(status: number): number {
  if (status >= 100 && status < 600) return ((status / 100) | 0) - 1;
  return CLASS_NONE;
}

/**
 * Who produced the status of a finished request: `target` when a target's response head was
 * relayed (even if the body was then cut), `lb` when Switchyard answered itself (errors, fixed
 * responses, redirects) or nothing was sent.
 */
export function sourceIndex(req: ClientRequest): number {
  return req.responseHeadMs !== 0 ? SOURCE_TARGET : SOURCE_LB;
}

/** The rule key of a finished request: its priority, 0 for the default action, -1 if unrouted. */
function ruleKey(req: ClientRequest): number {
  // Routing sets rulePriority and, for a forward, the target group; an error with neither was
  // answered by a check that runs before routing (SPEC §5 400/413/414/431/463/501/505).
  if (req.rulePriority === 0 && req.error !== '' && req.targetGroup === '') return RULE_KEY_NONE;
  return req.rulePriority;
}

function ruleLabel(key: number): string {
  if (key === RULE_KEY_NONE) return RULE_NONE;
  return key === 0 ? RULE_DEFAULT : String(key);
}

/** Per-listener totals at one moment (the dashboard samples these). */
export interface ListenerSnapshot {
  readonly name: string;
  /** Requests by code class (index as CODE_CLASSES), both sources. */
  readonly byClass: readonly number[];
  readonly requests: number;
  /** Responses Switchyard generated with a 4xx/5xx status. */
  readonly lbErrors: number;
  readonly activeConnections: number;
  readonly newConnections: number;
  /** Response-time observations per bucket (not cumulative), over every target group. */
  readonly latencyCounts: Float64Array;
  readonly latencySum: number;
  readonly latencyCount: number;
}

/**
 * What a cluster primary adds to its own metrics: the workers' (control/cluster-metrics.ts).
 * The primary itself counts only reloads and reads target health; the requests, connections
 * and latencies were counted in the workers.
 */
export interface RemoteMetrics {
  /** The Prometheus text of `own` (the primary's registry) plus every worker's registry. */
  render(own: Registry): Promise<string>;
  /** The workers' per-listener totals, added up. */
  snapshot(): ListenerSnapshot[];
}

/**
 * The metrics of one Switchyard instance. Implements `ListenerHooks`: pass it (or hooks that
 * call it) to every HttpListener.
 */
export class Metrics implements ListenerHooks {
  readonly registry: Registry;
  readonly #listeners: Map<string, ListenerCells>;
  readonly #groups: () => Iterable<TargetGroupRuntime>;
  readonly #reloads: Counter<'result'>;
  /** Set on a cluster primary (settings.workers > 1): `render()` and `snapshot()` add the workers'. */
  remote: RemoteMetrics | null;

  /** `groups` is read at scrape time for the healthy/unhealthy target gauges. */
  constructor(groups: () => Iterable<TargetGroupRuntime>) {
    this.registry = new Registry();
    this.#listeners = new Map();
    this.remote = null;
    this.#groups = groups;
    const registers = [this.registry];
    const cells = this.#listeners;

    new Counter({
      name: 'switchyard_requests_total',
      help: 'Requests finished, by listener, rule (priority, "default", or "" when refused before routing), target group, status class (1xx-5xx, none = no response sent) and source (lb = Switchyard answered itself, target = the target answered).',
      labelNames: ['listener', 'rule', 'target_group', 'code_class', 'source'],
      registers,
      collect(this: Counter<string>) {
        for (const l of cells.values()) {
          for (const byGroup of l.rules.values()) {
            for (const arr of byGroup.values()) {
              for (let i = 0; i < arr.length; i++) {
                const c = arr[i];
                if (c === undefined || c.count === c.reported) continue;
                this.inc(c.labels, c.count - c.reported);
                c.reported = c.count;
              }
            }
          }
        }
      },
    });

    const histogram = new CellHistogram(
      'switchyard_target_response_seconds',
      'Time from sending a request to a target to receiving its response head, seconds, by listener and target group.',
      cells,
    );
    this.registry.registerMetric(histogram as unknown as Metric);

    new Gauge({
      name: 'switchyard_active_connections',
      help: 'Client connections open now, by listener.',
      labelNames: ['listener'],
      registers,
      collect(this: Gauge<string>) {
        for (const l of cells.values()) this.set(l.labels, l.activeConnections);
      },
    });

    new Counter({
      name: 'switchyard_new_connections_total',
      help: 'Client connections accepted, by listener.',
      labelNames: ['listener'],
      registers,
      collect(this: Counter<string>) {
        for (const l of cells.values()) {
          if (l.newConnections === l.newReported) continue;
          this.inc(l.labels, l.newConnections - l.newReported);
          l.newReported = l.newConnections;
        }
      },
    });

    const readGroups = groups;
    const healthGauge = (name: string, help: string, count: (g: TargetGroupRuntime) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['target_group'],
        registers,
        collect(this: Gauge<string>) {
          // Rebuilt at every scrape, so a group that left the config leaves the output too.
          this.reset();
          for (const g of readGroups()) this.set({ target_group: g.name }, count(g));
        },
      });
    };
    healthGauge('switchyard_healthy_targets', 'Registered targets in state healthy, by target group.', (g) => countTargets(g, 'healthy'));
    healthGauge(
      'switchyard_unhealthy_targets',
      'Registered targets in state unhealthy (failed checks, or taken out after a refused connection), by target group.',
      (g) => countTargets(g, 'unhealthy'),
    );

    this.#reloads = new Counter({
      name: 'switchyard_reloads_total',
      help: 'Config reloads (SIGHUP, POST /api/v1/reload, PUT /api/v1/config) by result: ok, or rejected (the running config stayed).',
      labelNames: ['result'],
      registers,
    });
    this.#reloads.inc({ result: 'ok' }, 0);
    this.#reloads.inc({ result: 'rejected' }, 0);
    this.#security = new SecurityMetrics(this.registry);
  }

  /** Desync, protection and rejected-connection counters (security-metrics.ts). */
  readonly #security: SecurityMetrics;

  onDesync(listener: string, verdict: Classification, outcome: DesyncOutcome): void {
    this.#security.onDesync(listener, verdict, outcome);
  }

  onProtection(listener: string, scope: number, hit: ProtectionHit): void {
    this.#security.onProtection(listener, scope, hit);
  }

  onConnectionRejected(listener: string, reason: 'max_connections'): void {
    this.#security.onConnectionRejected(listener, reason);
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    if (this.remote !== null) return this.remote.render(this.registry);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts one reload attempt (control plane; not per request). */
  countReload(ok: boolean): void {
    this.#reloads.inc({ result: ok ? 'ok' : 'rejected' });
  }

  // --- ListenerHooks (hot path) ---------------------------------------------------------

  onRequestDone(listener: string, req: ClientRequest): void {
    const l = this.#listener(listener);
    const key = ruleKey(req);
    let byGroup = l.rules.get(key);
    if (byGroup === undefined) {
      byGroup = new Map();
      l.rules.set(key, byGroup);
    }
    const group = req.targetGroup;
    let arr = byGroup.get(group);
    if (arr === undefined) {
      arr = new Array<RequestCell | undefined>(CODE_CLASSES.length * 2).fill(undefined);
      byGroup.set(group, arr);
    }
    const cls = codeClassIndex(req.status);
    const src = sourceIndex(req);
    const i = cls * 2 + src;
    let cell = arr[i];
    if (cell === undefined) {
      cell = new RequestCell(
        { listener, rule: ruleLabel(key), target_group: group, code_class: CODE_CLASSES[cls]!, source: SOURCES[src]! },
        cls,
        src,
      );
      arr[i] = cell;
    }
    cell.count++;
  }

  onTargetResponse(req: ClientRequest, group: TargetGroupRuntime, seconds: number): void {
    const l = this.#listener(req.listener.name);
    let cell = l.latency.get(group.name);
    if (cell === undefined) {
      cell = new LatencyCell({ listener: l.name, target_group: group.name });
      l.latency.set(group.name, cell);
    }
    const bounds = RESPONSE_TIME_BUCKETS;
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]!) b++;
    cell.counts[b]!++;
    cell.sum += seconds;
    cell.count++;
  }

  onConnection(listener: string, delta: 1 | -1): void {
    const l = this.#listener(listener);
    l.activeConnections += delta;
    if (delta > 0) l.newConnections++;
  }

  /** An error answered before a request could be formed: counted as an unrouted lb response. */
  onLocalError(listener: string, kind: ProxyErrorKind): void {
    const l = this.#listener(listener);
    let byGroup = l.rules.get(RULE_KEY_NONE);
    if (byGroup === undefined) {
      byGroup = new Map();
      l.rules.set(RULE_KEY_NONE, byGroup);
    }
    let arr = byGroup.get('');
    if (arr === undefined) {
      arr = new Array<RequestCell | undefined>(CODE_CLASSES.length * 2).fill(undefined);
      byGroup.set('', arr);
    }
    const cls = codeClassIndex(kind.status);
    const i = cls * 2 + SOURCE_LB;
    let cell = arr[i];
    if (cell === undefined) {
      cell = new RequestCell({ listener, rule: RULE_NONE, target_group: '', code_class: CODE_CLASSES[cls]!, source: 'lb' }, cls, SOURCE_LB);
      arr[i] = cell;
    }
    cell.count++;
  }

  // --- dashboard -------------------------------------------------------------------------

  /** Totals per listener name seen so far (control plane; allocates). */
  snapshot(): ListenerSnapshot[] {
    if (this.remote !== null) return this.remote.snapshot();
    const out: ListenerSnapshot[] = [];
    for (const l of this.#listeners.values()) {
      const byClass = new Array<number>(CODE_CLASSES.length).fill(0);
      let requests = 0;
      let lbErrors = 0;
      for (const byGroup of l.rules.values()) {
        for (const arr of byGroup.values()) {
          for (let i = 0; i < arr.length; i++) {
            const c = arr[i];
            if (c === undefined) continue;
            byClass[c.codeClass]! += c.count;
            requests += c.count;
            if (c.source === SOURCE_LB && (c.codeClass === 3 || c.codeClass === 4)) lbErrors += c.count;
          }
        }
      }
      const latencyCounts = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
      let latencySum = 0;
      let latencyCount = 0;
      for (const cell of l.latency.values()) {
        for (let i = 0; i < latencyCounts.length; i++) latencyCounts[i]! += cell.counts[i]!;
        latencySum += cell.sum;
        latencyCount += cell.count;
      }
      out.push({
        name: l.name,
        byClass,
        requests,
        lbErrors,
        activeConnections: l.activeConnections,
        newConnections: l.newConnections,
        latencyCounts,
        latencySum,
        latencyCount,
      });
    }
    return out;
  }

  #listener(name: string): ListenerCells {
    let l = this.#listeners.get(name);
    if (l === undefined) {
      l = new ListenerCells(name);
      this.#listeners.set(name, l);
    }
    return l;
  }
}

function countTargets(g: TargetGroupRuntime, state: 'healthy' | 'unhealthy'): number {
  let n = 0;
  for (const t of g.targets.values()) if (t.state === state) n++;
  return n;
}

/**
 * The `q` quantile (0–1) of a histogram given as per-bucket counts (not cumulative; the last
 * entry is +Inf) over `bounds`, interpolating linearly inside the bucket as Prometheus's
 * histogram_quantile does. null when there are no observations; a quantile that falls in the
 * +Inf bucket is reported as the highest finite bound.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: ArrayLike<number>): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total <= 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && below + c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * ((rank - below) / c);
    }
    below += c;
  }
  return bounds[bounds.length - 1] ?? null;
}

/**
 * `switchyard_target_response_seconds`: a histogram whose label sets live in LatencyCells.
 * Implements the part of prom-client's metric interface its Registry uses to render (`name`,
 * `help`, `type`, `aggregator`, `get()`), producing the same value shape as prom-client's own
 * Histogram: cumulative `_bucket` series with `le`, then `_sum` and `_count`.
 */
class CellHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #cells: Map<string, ListenerCells>;

  constructor(name: string, help: string, cells: Map<string, ListenerCells>) {
    this.name = name;
    this.help = help;
    this.#cells = cells;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    const bounds = RESPONSE_TIME_BUCKETS;
    for (const l of this.#cells.values()) {
      for (const cell of l.latency.values()) {
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += cell.counts[i]!;
          values.push({ labels: { ...cell.labels, le: i < bounds.length ? bounds[i]! : '+Inf' }, value: cumulative, metricName: `${this.name}_bucket` });
        }
        values.push({ labels: { ...cell.labels }, value: cell.sum, metricName: `${this.name}_sum` });
        values.push({ labels: { ...cell.labels }, value: cell.count, metricName: `${this.name}_count` });
      }
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    // Counters are never reset; present because prom-client's Registry may call it.
  }
}

/** Hooks that call `a` then `b` (tests pass extra hooks beside the metrics). */
export function combineHooks(a: ListenerHooks, b: ListenerHooks | undefined): ListenerHooks {
  if (b === undefined) return a;
  return {
    onRequestDone: (l, r) => {
      a.onRequestDone?.(l, r);
      b.onRequestDone?.(l, r);
    },
    onTargetResponse: (r, g, s) => {
      a.onTargetResponse?.(r, g, s);
      b.onTargetResponse?.(r, g, s);
    },
    onConnection: (l, d) => {
      a.onConnection?.(l, d);
      b.onConnection?.(l, d);
    },
    onLocalError: (l, k) => {
      a.onLocalError?.(l, k);
      b.onLocalError?.(l, k);
    },
    onDesync: (l, v, o) => {
      a.onDesync?.(l, v, o);
      b.onDesync?.(l, v, o);
    },
    onProtection: (l, s, h) => {
      a.onProtection?.(l, s, h);
      b.onProtection?.(l, s, h);
    },
    onConnectionRejected: (l, r) => {
      a.onConnectionRejected?.(l, r);
      b.onConnectionRejected?.(l, r);
    },
  };
}
