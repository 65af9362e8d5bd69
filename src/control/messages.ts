/**
 * The messages between the control plane (the cluster primary) and the data plane (each
 * worker) when `settings.workers` > 1 (docs/decisions/0012-workers.md). They travel over the
 * node:cluster IPC channel as plain JSON-able objects: no closures, RegExps or Buffers, which is
 * why a config crosses as the validated *document* and every worker compiles its own snapshot.
 *
 * Owns: the message shapes, the health/membership record of one target, and `isMessage`, the
 * only check applied to what arrives. Never does I/O.
 *
 * An apply is two-phase: `prepare` (the worker compiles and binds, then answers `prepared`)
 * and then `commit` or `abort` for the same generation. A replacement worker joins the same
 * way with the current generation before it serves.
 */
import type { ConfigError } from '../config/errors.js';
import type { Config } from '../config/types.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/**
 * One target as the primary sees it: membership (host, port, weight, draining) and the health
 * flags the data plane routes by. `healthyForMs` is an age, not a timestamp, because each
 * process has its own monotonic clock (slow start measures from it); -1 when not healthy.
 */
export interface TargetHealth {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly draining: boolean;
  readonly activeHealthy: boolean | null;
  readonly passiveEjected: boolean;
  readonly reason: string;
  readonly healthyForMs: number;
}

/** Every target of one group (a full snapshot of it). */
export interface GroupHealth {
  readonly name: string;
  readonly targets: readonly TargetHealth[];
}

// --- primary → worker -------------------------------------------------------------------

/**
 * Phase one of an apply (a ConfigGeneration): compile `config` as `generation`, bind its new
 * listeners, answer `prepared`, and wait for `commit` or `abort`. `health` is the primary's
 * full snapshot, applied to target groups the worker creates before they serve.
 */
export interface PrepareMessage {
  readonly type: 'prepare';
  readonly generation: number;
  /** The validated document (environment already substituted; port 0 already resolved). */
  readonly config: Config;
  /** Where relative certificate paths resolve (the config file), if started from a file. */
  readonly configFile: string | null;
  /** Base64 key for sticky cookies when `settings.stickinessSecret` is empty: one per deployment. */
  readonly generatedStickinessSecret: string;
  readonly health: readonly GroupHealth[];
}

/** Phase two: swap in the prepared generation, then adopt the snapshot (membership and flags). */
export interface CommitMessage {
  readonly type: 'commit';
  readonly generation: number;
  readonly health: readonly GroupHealth[];
}

/** Phase two when some worker refused: drop what was prepared; the running config stays. */
export interface AbortMessage {
  readonly type: 'abort';
  readonly generation: number;
  readonly reason: string;
}

/** A HealthUpdate: one target's flags changed in the primary (a check verdict, a passive ejection). */
export interface HealthMessage {
  readonly type: 'health';
  readonly group: string;
  readonly target: TargetHealth;
}

/** The admin API registered a target (POST /api/v1/target-groups/{group}/targets). */
export interface RegisterMessage {
  readonly type: 'register';
  readonly group: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

/** The admin API deregistered a target: drain it. */
export interface DeregisterMessage {
  readonly type: 'deregister';
  readonly group: string;
  readonly id: string;
}

/** MetricsRequest and StatusRequest in one: answer `collected` with the same id. */
export interface CollectMessage {
  readonly type: 'collect';
  readonly id: number;
}

/** Graceful stop: stop accepting, let in-flight requests finish for up to graceMs, exit 0. */
export interface StopMessage {
  readonly type: 'stop';
  readonly graceMs: number;
}

export type PrimaryMessage =
  | PrepareMessage
  | CommitMessage
  | AbortMessage
  | HealthMessage
  | RegisterMessage
  | DeregisterMessage
  | CollectMessage
  | StopMessage;

// --- worker → primary -------------------------------------------------------------------

/** The worker's IPC is up and it waits for its first `prepare`. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly worker: number;
}

/** The Ack/Nack of phase one. */
export type PreparedMessage =
  | { readonly type: 'prepared'; readonly generation: number; readonly ok: true }
  | { readonly type: 'prepared'; readonly generation: number; readonly ok: false; readonly errors: readonly ConfigError[] };

/** The prepared generation is live in this worker. */
export interface CommittedMessage {
  readonly type: 'committed';
  readonly generation: number;
}

/** PassiveEjection: a target refused a connection in this worker (already taken out here). */
export interface PassiveMessage {
  readonly type: 'passive';
  readonly group: string;
  readonly id: string;
  readonly reason: string;
}

/** A worker's `Metrics.snapshot()` for one listener (the dashboard's numbers), as plain data. */
export interface ListenerTotals {
  readonly name: string;
  readonly byClass: readonly number[];
  readonly requests: number;
  readonly lbErrors: number;
  readonly activeConnections: number;
  readonly newConnections: number;
  readonly latencyCounts: readonly number[];
  readonly latencySum: number;
  readonly latencyCount: number;
}

/** The answer to `collect`: MetricsReply (totals since the worker started) and StatusReply. */
export interface CollectedMessage {
  readonly type: 'collected';
  readonly id: number;
  /** The worker's Prometheus registry (`getMetricsAsJSON()`), summed by the primary. */
  readonly metrics: readonly MetricObjectWithValues<MetricValue<string>>[];
  readonly listeners: readonly ListenerTotals[];
  /** [group, target id, requests in flight] for every target with requests in flight. */
  readonly inFlight: readonly (readonly [string, string, number])[];
  /** [listener, open connections or flows]. */
  readonly connections: readonly (readonly [string, number])[];
}

export type WorkerMessage = ReadyMessage | PreparedMessage | CommittedMessage | PassiveMessage | CollectedMessage;

/** Messages of either direction carry a string `type`; anything else on the channel is ignored. */
export function isMessage<T extends { type: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
