/**
 * The live state of one target group: its targets, the usable set, and the balancer over it.
 *
 * Owns: membership (register, deregister with draining), the usable set (healthy targets, or
 * every registered non-draining target when none is healthy: fail open, SPEC §4), and picking
 * with an exclusion set and, for `consistent_hash`, a hash key (the group's compiled `hashOn`
 * says which). The usable set and the balancer are refreshed when membership or health
 * changes, never per request. Survives reloads: the registry updates it in place. Slow start
 * (balancers/slow-start.ts) adjusts effective weights in `refresh()`; while a target ramps, a
 * coarse timer refreshes again (at most once a second), never per request.
 */
import type { ResolvedTargetGroup } from '../config/defaults.js';
import type { Balancer } from './balancers/balancer.js';
import { createBalancer, isBalancerName } from './balancers/registry.js';
import { defaultRandom } from '../util/random.js';
import { Target, formatTargetId, type TargetState } from './target.js';
import { HealthChecker } from './health/checker.js';
import { SlowStart } from './balancers/slow-start.js';
import { ProxyErrors, type ProxyErrorKind } from '../proxy/errors.js';
import { compileHashOn, type CompiledHashOn } from './hash-key.js';
import { compileTargetStickiness, type CompiledTargetStickiness } from './stickiness/sticky-cookies.js';
import { loadTargetTransport, type TargetTransport } from '../proxy/target-transport.js';

export interface TargetGroupRuntimeOptions {
  /**
   * Run active health checks when the spec enables them. Default true; `switchyard explain`
   * passes false so it never probes (targets then stay `initial` unless told otherwise).
   */
  readonly healthChecks?: boolean;
  /**
   * How targets are spoken to (HTTP/1.1 or HTTP/2, TCP or TLS, the CA already read). Default:
   * derived from the spec without reading files (no CA), for tools that never connect.
   */
  readonly transport?: TargetTransport;
}

export class TargetGroupRuntime {
  readonly name: string;
  spec: ResolvedTargetGroup;
  /** Registered targets by id, including draining ones until they are unused. */
  readonly targets: Map<string, Target>;
  #balancer: Balancer<Target>;
  #usable: Target[];
  #failOpen: boolean;
  #drainTimers: Map<string, NodeJS.Timeout>;
  /** Called when a target's state changes (metrics, logs). */
  onChange: (() => void) | null;
  /** Called once per state change caused by an active health check (logging). */
  onHealthTransition: ((target: Target, from: TargetState, to: TargetState) => void) | null;
  /** Called when `ejectPassively` takes a target out (a cluster worker tells the primary). */
  onPassiveEjection: ((target: Target, why: string) => void) | null;
  /** Active health checks; null when `healthCheck.enabled` is false or the group is closed. */
  #checker: HealthChecker | null;
  readonly #checksAllowed: boolean;
  /**
   * What the hash key is read from; non-null only for `consistent_hash`, so the data path
   * computes a key for no other algorithm.
   */
  hashOn: CompiledHashOn | null;
  /** Target stickiness (targets/stickiness/); null when off, so the data path reads no cookie. */
  stickiness: CompiledTargetStickiness | null;
  /** Reused for every pick (picks are synchronous), so a pick allocates nothing. */
  readonly #pickContext: { hashKey: string };
  readonly #slowStart: SlowStart;
  /** Refreshes while some target is ramping up (slow start); null otherwise. */
  #slowStartTimer: NodeJS.Timeout | null;
  /** How targets are spoken to; each target's pool is built for it. */
  #transport: TargetTransport;

  constructor(spec: ResolvedTargetGroup, options: TargetGroupRuntimeOptions = {}) {
    this.name = spec.name;
    this.spec = spec;
    this.targets = new Map();
    this.#balancer = makeBalancer(spec);
    this.#usable = [];
    this.#failOpen = false;
    this.#drainTimers = new Map();
    this.onChange = null;
    this.onHealthTransition = null;
    this.onPassiveEjection = null;
    this.#checker = null;
    this.#checksAllowed = options.healthChecks ?? true;
    this.hashOn = hashOnFor(spec);
    this.stickiness = compileTargetStickiness(spec.stickiness);
    this.#pickContext = { hashKey: '' };
    this.#slowStart = new SlowStart(spec.slowStartSeconds);
    this.#slowStartTimer = null;
    this.#transport = options.transport ?? loadTargetTransport(spec, null);
    for (const t of spec.targets) this.register(t.host, t.port, t.weight, false);
    // A group coming up does not slow-start its own targets (as ALB).
    for (const id of this.targets.keys()) this.#slowStart.exempt(id);
    this.refresh();
    if (spec.healthCheck.enabled) this.#startChecker();
  }

  /**
   * Applies a new spec from a reload: algorithm, options, the configured target list, and the
   * transport (`transport`, loaded by the caller; derived from the spec when not given).
   */
  update(spec: ResolvedTargetGroup, transport?: TargetTransport): void {
    const algorithmChanged = spec.algorithm !== this.spec.algorithm;
    this.spec = spec;
    this.#transport = transport ?? loadTargetTransport(spec, null);
    for (const t of this.targets.values()) t.setTransport(this.#transport, spec.connectTimeoutMs);
    this.hashOn = hashOnFor(spec);
    this.stickiness = compileTargetStickiness(spec.stickiness);
    this.#slowStart.setDuration(spec.slowStartSeconds);
    if (algorithmChanged) this.#balancer = makeBalancer(spec);
    const wanted = new Set<string>();
    for (const t of spec.targets) {
      const id = formatTargetId(t.host, t.port);
      wanted.add(id);
      const existing = this.targets.get(id);
      if (existing && !existing.draining) {
        existing.configuredWeight = t.weight;
        existing.weight = t.weight;
      } else {
        this.register(t.host, t.port, t.weight, false);
      }
    }
    for (const [id, t] of this.targets) if (!wanted.has(id) && !t.draining) this.deregister(id, false);
    this.#updateHealthChecks(spec.healthCheck.enabled);
    this.refresh();
  }

  /** The active health checker, when checks are enabled (tests, status). */
  get healthChecker(): HealthChecker | null {
    return this.#checker;
  }

  #startChecker(): void {
    if (!this.#checksAllowed) return;
    this.#checker = new HealthChecker(this, {
      onTransition: (t, from, to) => this.onHealthTransition?.(t, from, to),
    });
    this.#checker.start();
  }

  /**
   * Reload: toggles or updates the checker. Turning checks on puts targets back to `initial`
   * (an old verdict is stale); turning them off makes every target healthy and clears passive
   * ejections, since no check would ever clear them.
   */
  #updateHealthChecks(enabled: boolean): void {
    for (const t of this.targets.values()) {
      const wasDisabled = t.checksDisabled;
      t.checksDisabled = !enabled;
      if (t.draining || t.removed) continue;
      if (!enabled) {
        t.passiveEjected = false;
        t.reason = 'health checks disabled';
      } else if (wasDisabled) {
        t.activeHealthy = null;
        t.reason = 'awaiting first health check';
      }
    }
    if (!enabled) {
      this.#checker?.stop();
      this.#checker = null;
    } else if (this.#checker === null) {
      this.#startChecker();
    } else {
      this.#checker.update();
    }
  }

  /** Adds a target (or revives a draining one). Returns it. */
  register(host: string, port: number, weight: number, refresh = true): Target {
    const id = formatTargetId(host, port);
    let t = this.targets.get(id);
    if (t) {
      const timer = this.#drainTimers.get(id);
      if (timer) clearTimeout(timer);
      this.#drainTimers.delete(id);
      t.draining = false;
      t.removed = false;
      t.configuredWeight = weight;
      t.weight = weight;
    } else {
      t = new Target(host, port, weight, { connectTimeoutMs: this.spec.connectTimeoutMs, transport: this.#transport });
      t.checksDisabled = !this.spec.healthCheck.enabled;
      if (t.checksDisabled) {
        t.reason = 'health checks disabled';
        // Healthy from now on (slow start measures from here; the checker sets it otherwise).
        t.healthySinceMs = performance.now();
      }
      this.targets.set(id, t);
    }
    this.#checker?.sync();
    if (refresh) this.refresh();
    return t;
  }

  /**
   * Starts draining a target: no new requests; after deregistrationDelaySeconds its remaining
   * connections are closed and it is removed. Returns false when the target is unknown.
   */
  deregister(id: string, refresh = true): boolean {
    const t = this.targets.get(id);
    if (!t || t.draining) return t !== undefined;
    t.draining = true;
    t.reason = 'deregistered, draining';
    const finish = (): void => {
      this.#drainTimers.delete(id);
      t.removed = true;
      t.reason = 'deregistered';
      closeTarget(t, ProxyErrors.DEREGISTERED);
      if (this.targets.get(id) === t) {
        this.targets.delete(id);
        this.#slowStart.forget(id);
      }
      this.onChange?.();
    };
    if (t.inFlight === 0 && t.pool.activeCount === 0) {
      finish();
    } else {
      const timer = setTimeout(finish, this.spec.deregistrationDelaySeconds * 1000);
      timer.unref();
      this.#drainTimers.set(id, timer);
    }
    if (refresh) this.refresh();
    return true;
  }

  /** Recomputes the usable set and the balancer. Call after any membership or health change. */
  refresh(): void {
    const healthy: Target[] = [];
    const registered: Target[] = [];
    for (const t of this.targets.values()) {
      if (t.draining || t.removed) continue;
      registered.push(t);
      if (t.usable) healthy.push(t);
    }
    this.#failOpen = healthy.length === 0 && registered.length > 0;
    this.#usable = this.#failOpen ? registered : healthy;
    for (let i = 0; i < registered.length; i++) registered[i]!.weight = registered[i]!.configuredWeight;
    const ramping = !this.#failOpen && this.#slowStart.apply(healthy, performance.now());
    this.#scheduleSlowStart(ramping);
    this.#balancer.refresh(this.#usable);
    this.onChange?.();
  }

  /** Keeps refreshing while a ramp runs: every 1/20 of the period, between 0.1 and 1 s. */
  #scheduleSlowStart(ramping: boolean): void {
    if (ramping && this.#slowStartTimer === null) {
      const ms = Math.min(1000, Math.max(100, (this.spec.slowStartSeconds * 1000) / 20));
      this.#slowStartTimer = setInterval(() => this.refresh(), ms);
      this.#slowStartTimer.unref();
    } else if (!ramping && this.#slowStartTimer !== null) {
      clearInterval(this.#slowStartTimer);
      this.#slowStartTimer = null;
    }
  }

  /** True when no target is healthy and the group routes to every registered target. */
  get failOpen(): boolean {
    return this.#failOpen;
  }

  /** Number of registered, non-draining targets. */
  get registeredCount(): number {
    let n = 0;
    for (const t of this.targets.values()) if (!t.draining && !t.removed) n++;
    return n;
  }

  /** The targets the balancer currently chooses from (healthy ones, or all when failing open). */
  get usableTargets(): readonly Target[] {
    return this.#usable;
  }

  /**
   * Picks a target not in `exclude`; undefined when none is left. `hashKey` is the request's
   * key for `consistent_hash` (see `hashOn`); other algorithms ignore it.
   */
  pick(exclude: ReadonlySet<string> | null, hashKey = ''): Target | undefined {
    const ctx = this.#pickContext;
    ctx.hashKey = hashKey;
    return this.#balancer.pick(ctx, exclude);
  }

  requestStarted(t: Target): void {
    t.inFlight++;
    this.#balancer.onRequestStart?.(t);
  }

  requestEnded(t: Target): void {
    t.inFlight--;
    this.#balancer.onRequestEnd?.(t);
    if (t.draining && t.inFlight === 0 && !t.removed) {
      const timer = this.#drainTimers.get(t.id);
      if (timer) clearTimeout(timer);
      this.#drainTimers.delete(t.id);
      t.removed = true;
      t.reason = 'deregistered';
      closeTarget(t);
      if (this.targets.get(t.id) === t) {
        this.targets.delete(t.id);
        this.#slowStart.forget(t.id);
      }
      this.onChange?.();
    }
  }

  /** Passive health: a refused or reset connection takes the target out until a check passes. */
  ejectPassively(t: Target, why: string): void {
    if (!this.spec.healthCheck.enabled || t.passiveEjected) return;
    t.passiveEjected = true;
    t.reason = why;
    this.refresh();
    this.onPassiveEjection?.(t, why);
  }

  /** Closes every connection and timer (shutdown, or the group left the config). */
  close(): void {
    this.#checker?.stop();
    this.#checker = null;
    this.#scheduleSlowStart(false);
    for (const timer of this.#drainTimers.values()) clearTimeout(timer);
    this.#drainTimers.clear();
    for (const t of this.targets.values()) closeTarget(t);
  }
}

/** Closes a target's connections; requests still on them get a 502 (`kind`) or a cut response. */
function closeTarget(t: Target, kind: ProxyErrorKind = ProxyErrors.RESET): void {
  t.pool.destroyAll(kind);
  for (const s of t.tunnels) s.destroy();
  t.tunnels.clear();
}

function hashOnFor(spec: ResolvedTargetGroup): CompiledHashOn | null {
  return spec.algorithm === 'consistent_hash' ? compileHashOn(spec.hashOn) : null;
}

function makeBalancer(spec: ResolvedTargetGroup): Balancer<Target> {
  if (!isBalancerName(spec.algorithm)) {
    // Validation refuses algorithms without an implementation; this is a programmer error.
    throw new RangeError(`algorithm ${spec.algorithm} is not available`);
  }
  return createBalancer<Target>(spec.algorithm, { random: defaultRandom });
}
