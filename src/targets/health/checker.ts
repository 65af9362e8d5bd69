/**
 * Active health checks for one target group: the control-plane loop that probes each target on
 * the group's interval and turns verdicts into Target flags.
 *
 * Owns: per-target schedules (first probe after a random 0–min(interval, 1 s) delay so a large
 * group does not probe in lockstep, then every interval ± 10%), at most one probe in flight per
 * target, the threshold state machines, and the flag updates: `activeHealthy`, `reason`,
 * `healthySinceMs` (monotonic, when the target becomes healthy) and clearing `passiveEjected`
 * when a check passes. Calls `group.refresh()` only when a target's derived state changed.
 * Must not run inside a request, must not touch draining or removed targets, and keeps every
 * timer unref()ed so it never holds the process open. Health state lives on the Target objects
 * (keyed by id), so it survives reloads and checker restarts.
 */
import { performance } from 'node:perf_hooks';
import type { ResolvedHealthCheck, ResolvedTargetGroup } from '../../config/defaults.js';
import type { ProtocolVersion } from '../../config/types.js';
import type { Target, TargetState } from '../target.js';
import { HealthStateMachine, type HealthVerdict } from './state-machine.js';
import { HttpProbe } from './http-probe.js';
import { H2Probe } from './h2-probe.js';
import { TcpProbe } from './tcp-probe.js';
import { PROBE_PASSED, type HealthProbe, type ProbeResult } from './probe.js';

/** What the checker needs from a target group (TargetGroupRuntime satisfies it). */
export interface HealthCheckedGroup {
  readonly name: string;
  readonly spec: ResolvedTargetGroup;
  readonly targets: ReadonlyMap<string, Target>;
  /** Recomputes the usable set; called once per state change. */
  refresh(): void;
}

export interface HealthCheckerOptions {
  /** Uniform [0, 1) for jitter; default Math.random. */
  readonly random?: () => number;
  /** Monotonic clock, ms; default performance.now. */
  readonly now?: () => number;
  /** Called once per derived-state change caused by a check (logging, metrics). */
  readonly onTransition?: (target: Target, from: TargetState, to: TargetState) => void;
}

/**
 * Builds the probe for a health check config, keyed by protocol (HTTP, HTTPS, TCP). HTTP(S)
 * checks of a group spoken to in HTTP/2 use HTTP/2 (gRPC-shaped for GRPC groups).
 */
export function createHealthProbe(hc: ResolvedHealthCheck, version: ProtocolVersion = 'HTTP1'): HealthProbe {
  const timeoutMs = hc.timeoutSeconds * 1000;
  switch (hc.protocol) {
    case 'HTTP':
    case 'HTTPS':
      if (version !== 'HTTP1') return new H2Probe({ tls: hc.protocol === 'HTTPS', grpc: version === 'GRPC', path: hc.path, matcher: hc.matcher, timeoutMs });
      return new HttpProbe({ tls: hc.protocol === 'HTTPS', path: hc.path, matcher: hc.matcher, timeoutMs });
    case 'TCP':
      return new TcpProbe({ timeoutMs });
  }
}

/** Longest delay before a target's first probe, ms (capped by the interval). */
const FIRST_PROBE_SPREAD_MS = 1000;
/** Each later probe is scheduled interval × (1 ± JITTER). */
const JITTER = 0.1;

interface Entry {
  readonly target: Target;
  readonly machine: HealthStateMachine;
  timer: NodeJS.Timeout | null;
  inFlight: boolean;
}

export class HealthChecker {
  readonly #group: HealthCheckedGroup;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #onTransition: ((target: Target, from: TargetState, to: TargetState) => void) | null;
  readonly #entries: Map<string, Entry>;
  #hc: ResolvedHealthCheck;
  #probe: HealthProbe;
  /** The group's protocolVersion the probe was built for (HTTP/2 groups get HTTP/2 probes). */
  #version: ProtocolVersion;
  #running: boolean;
  #abort: AbortController;

  constructor(group: HealthCheckedGroup, opts: HealthCheckerOptions = {}) {
    this.#group = group;
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? (() => performance.now());
    this.#onTransition = opts.onTransition ?? null;
    this.#entries = new Map();
    this.#hc = group.spec.healthCheck;
    this.#version = group.spec.protocolVersion;
    this.#probe = createHealthProbe(this.#hc, this.#version);
    this.#running = false;
    this.#abort = new AbortController();
  }

  get running(): boolean {
    return this.#running;
  }

  /** Number of targets being checked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Starts probing every checkable target of the group. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.sync();
  }

  /** Stops every schedule and aborts probes in flight; their results are discarded. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort();
    for (const e of this.#entries.values()) if (e.timer !== null) clearTimeout(e.timer);
    this.#entries.clear();
  }

  /**
   * Re-reads `group.spec.healthCheck` after a reload: a new probe when protocol, path, port,
   * timeout or matcher changed, new thresholds (counters kept), and fresh schedules when the
   * interval changed. Then `sync()`.
   */
  update(): void {
    const next = this.#group.spec.healthCheck;
    const prev = this.#hc;
    this.#hc = next;
    const version = this.#group.spec.protocolVersion;
    if (version !== this.#version) {
      this.#version = version;
      this.#probe = createHealthProbe(next, version);
    }
    if (!sameHealthCheck(prev, next)) {
      this.#probe = createHealthProbe(next, version);
      for (const e of this.#entries.values()) e.machine.setThresholds(next);
      if (next.intervalSeconds !== prev.intervalSeconds && this.#running) {
        for (const e of this.#entries.values()) this.#schedule(e, this.#firstDelayMs());
      }
    }
    this.sync();
  }

  /**
   * Reconciles schedules with the group's targets: starts checking new (or revived) targets and
   * forgets draining, removed or replaced ones. Cheap; the group calls it on membership changes.
   */
  sync(): void {
    if (!this.#running) return;
    for (const [id, e] of this.#entries) {
      if (!this.#isCurrent(e)) this.#drop(id, e);
    }
    for (const [id, t] of this.#group.targets) {
      if (t.draining || t.removed || this.#entries.has(id)) continue;
      const e: Entry = {
        target: t,
        machine: new HealthStateMachine(this.#hc, verdictOf(t)),
        timer: null,
        inFlight: false,
      };
      this.#entries.set(id, e);
      this.#schedule(e, this.#firstDelayMs());
    }
  }

  #isCurrent(e: Entry): boolean {
    const t = e.target;
    return this.#group.targets.get(t.id) === t && !t.draining && !t.removed;
  }

  #drop(id: string, e: Entry): void {
    if (e.timer !== null) clearTimeout(e.timer);
    e.timer = null;
    if (this.#entries.get(id) === e) this.#entries.delete(id);
  }

  #firstDelayMs(): number {
    return this.#random() * Math.min(this.#hc.intervalSeconds * 1000, FIRST_PROBE_SPREAD_MS);
  }

  #nextDelayMs(): number {
    return this.#hc.intervalSeconds * 1000 * (1 - JITTER + 2 * JITTER * this.#random());
  }

  #schedule(e: Entry, delayMs: number): void {
    if (e.timer !== null) clearTimeout(e.timer);
    e.timer = setTimeout(() => this.#tick(e), delayMs);
    e.timer.unref();
  }

  #tick(e: Entry): void {
    e.timer = null;
    if (!this.#running) return;
    if (!this.#isCurrent(e)) {
      this.#drop(e.target.id, e);
      return;
    }
    this.#schedule(e, this.#nextDelayMs());
    // One probe per target at a time: a slow probe makes the target skip a beat, not pile up.
    if (e.inFlight) return;
    e.inFlight = true;
    const t = e.target;
    const port = this.#hc.port === 'traffic-port' ? t.port : this.#hc.port;
    const signal = this.#abort.signal;
    this.#probe.check(t.host, port, signal).then(
      (r) => this.#onResult(e, r, signal),
      // Probes never reject; this is a programmer error, counted as a failed check.
      (err: unknown) => this.#onResult(e, { ok: false, reason: `health check: ${String(err)}` }, signal),
    );
  }

  #onResult(e: Entry, r: ProbeResult, signal: AbortSignal): void {
    e.inFlight = false;
    if (signal.aborted || !this.#running || this.#entries.get(e.target.id) !== e || !this.#isCurrent(e)) return;
    const t = e.target;
    const before = t.state;
    const flip = e.machine.record(r.ok);
    if (flip === 'became-healthy') t.activeHealthy = true;
    else if (flip === 'became-unhealthy') t.activeHealthy = false;
    // A passing check ends a passive ejection (SPEC §4), whatever the threshold counters say.
    if (r.ok && t.passiveEjected) t.passiveEjected = false;
    t.reason = reasonFor(e.machine, r);
    const after = t.state;
    if (after === before) return;
    if (after === 'healthy') t.healthySinceMs = this.#now();
    this.#onTransition?.(t, before, after);
    this.#group.refresh();
  }
}

function verdictOf(t: Target): HealthVerdict {
  return t.activeHealthy === null ? 'initial' : t.activeHealthy ? 'healthy' : 'unhealthy';
}

/**
 * The status reason: the probe's own reason once the verdict is settled, with progress towards
 * the threshold while it is not (`health check: status 500 not in 200-399 (failure 1 of 2)`).
 */
function reasonFor(m: HealthStateMachine, r: ProbeResult): string {
  if (r.ok) {
    return m.verdict === 'healthy' ? PROBE_PASSED : `${PROBE_PASSED} (${m.successes} of ${m.healthyThreshold})`;
  }
  return m.verdict === 'unhealthy' ? r.reason : `${r.reason} (failure ${m.failures} of ${m.unhealthyThreshold})`;
}

function sameHealthCheck(a: ResolvedHealthCheck, b: ResolvedHealthCheck): boolean {
  return (
    a.enabled === b.enabled &&
    a.protocol === b.protocol &&
    a.path === b.path &&
    a.port === b.port &&
    a.intervalSeconds === b.intervalSeconds &&
    a.timeoutSeconds === b.timeoutSeconds &&
    a.healthyThreshold === b.healthyThreshold &&
    a.unhealthyThreshold === b.unhealthyThreshold &&
    a.matcher === b.matcher
  );
}
