/**
 * A cluster worker's side of the primary ↔ worker protocol (messages.ts): the data plane of a
 * multi-process deployment (`settings.workers` > 1, docs/decisions/0012-workers.md).
 *
 * Owns: this process's Switchyard (created at the first `prepare`, with health checks off in
 * every target group), the two-phase apply (compile and bind on `prepare`, answer `prepared`,
 * swap on `commit`, drop on `abort`), adopting the primary's target state (health updates,
 * admin registrations, the snapshot that comes with each prepare and commit), reporting passive
 * ejections, and answering `collect` with this worker's metrics, in-flight counts and
 * connections. Never checks health, never serves the admin API, never reads the config file.
 * Process concerns (signals, exit) belong to src/cli/worker-main.ts.
 */
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/types.js';
import type { ConfigError } from '../config/errors.js';
import type { Logger } from '../observability/logger.js';
import type { TargetGroupRuntime, TargetGroupRuntimeOptions } from '../targets/target-group.js';
import { Switchyard, type SwitchyardOptions } from './switchyard.js';
import type { ClusterRole } from './cluster-role.js';
import type { CollectedMessage, GroupHealth, PrepareMessage, PrimaryMessage, TargetHealth, WorkerMessage } from './messages.js';
import { applyHealth, reconcileGroup } from './target-sync.js';
import { listenerTotalsOf } from './cluster-metrics.js';

export interface ClusterWorkerOptions {
  /** This worker's slot, 1…N (stable across replacements). */
  readonly id: number;
  readonly log: Logger;
  /** Sends a message to the primary (drops it when the channel is closed). */
  readonly send: (m: WorkerMessage) => void;
  /** Called once the worker has stopped after a `stop` message (the process then exits). */
  readonly onStopped: () => void;
  /**
   * Fault injection for tests: a message makes this worker refuse `generation` at the end of
   * its prepare (after binding, so the refusal also exercises its own rollback).
   */
  readonly failPrepare?: (generation: number) => string | null;
}

export class ClusterWorker implements ClusterRole {
  readonly targetGroupOptions: TargetGroupRuntimeOptions;
  generatedStickinessSecret: Buffer | undefined;
  readonly #o: ClusterWorkerOptions;
  #sy: Switchyard | null;
  /** The primary's last snapshot, then its health updates: group → target id → state. */
  #table: Map<string, Map<string, TargetHealth>>;
  /** The prepare waiting for the primary's verdict. */
  #verdict: { readonly generation: number; readonly resolve: (errors: readonly ConfigError[]) => void } | null;
  #atGate: boolean;
  #stopping: Promise<void> | null;

  constructor(o: ClusterWorkerOptions) {
    this.targetGroupOptions = { healthChecks: false };
    this.generatedStickinessSecret = undefined;
    this.#o = o;
    this.#sy = null;
    this.#table = new Map();
    this.#verdict = null;
    this.#atGate = false;
    this.#stopping = null;
  }

  /** The Switchyard serving in this worker (null before the first prepare). */
  get switchyard(): Switchyard | null {
    return this.#sy;
  }

  receive(m: PrimaryMessage): void {
    switch (m.type) {
      case 'prepare':
        void this.#prepare(m);
        return;
      case 'commit':
        this.#table = tableOf(m.health);
        this.#decide(m.generation, []);
        return;
      case 'abort':
        this.#decide(m.generation, [{ path: '', line: 0, column: 0, expected: 'every worker to accept the config', message: m.reason }]);
        return;
      case 'health':
        this.#health(m.group, m.target);
        return;
      case 'register':
        this.#sy?.groups.get(m.group)?.register(m.host, m.port, m.weight);
        return;
      case 'deregister':
        this.#sy?.groups.get(m.group)?.deregister(m.id);
        return;
      case 'collect':
        void this.#collect(m.id);
        return;
      case 'stop':
        void this.shutdown().then(() => this.#o.onStopped());
        return;
    }
  }

  /** Graceful stop: no new connections; in-flight requests get the shutdown timeout. */
  shutdown(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#decide(this.#verdict?.generation ?? -1, [{ path: '', line: 0, column: 0, expected: 'a running worker', message: 'worker stopping' }]);
      await this.#sy?.close();
    })();
    return this.#stopping;
  }

  // --- ClusterRole -------------------------------------------------------------------------

  groupCreated(g: TargetGroupRuntime): void {
    g.onPassiveEjection = (t, why) => this.#o.send({ type: 'passive', group: g.name, id: t.id, reason: why });
    const known = this.#table.get(g.name);
    if (known !== undefined) reconcileGroup(g, { name: g.name, targets: [...known.values()] }, performance.now());
  }

  beforeSwap(_config: Config, generation: number): Promise<readonly ConfigError[]> {
    this.#atGate = true;
    const fault = this.#o.failPrepare?.(generation) ?? null;
    if (fault !== null) {
      const errors: ConfigError[] = [{ path: '', line: 0, column: 0, expected: 'a config every worker can apply', message: `worker ${this.#o.id}: ${fault}` }];
      this.#o.send({ type: 'prepared', generation, ok: false, errors });
      return Promise.resolve(errors);
    }
    if (this.#stopping !== null) return Promise.resolve([{ path: '', line: 0, column: 0, expected: 'a running worker', message: 'worker stopping' }]);
    return new Promise((resolve) => {
      this.#verdict = { generation, resolve };
      this.#o.send({ type: 'prepared', generation, ok: true });
    });
  }

  swapped(generation: number): void {
    const sy = this.#sy!;
    const now = performance.now();
    for (const g of sy.groups.values()) {
      const known = this.#table.get(g.name);
      if (known !== undefined) reconcileGroup(g, { name: g.name, targets: [...known.values()] }, now);
    }
    this.#o.send({ type: 'committed', generation });
  }

  // --- messages ------------------------------------------------------------------------------

  async #prepare(m: PrepareMessage): Promise<void> {
    if (this.#stopping !== null) return;
    if (this.#sy === null) {
      this.generatedStickinessSecret = Buffer.from(m.generatedStickinessSecret, 'base64');
      const opts: SwitchyardOptions = { logger: this.#o.log, adminPort: null, cluster: this };
      this.#sy = Switchyard.create(m.configFile !== null ? { ...opts, configFile: m.configFile } : opts);
    }
    this.#table = tableOf(m.health);
    this.#atGate = false;
    const r = await this.#sy.apply(m.config, m.generation);
    // A refusal before the gate (compile, bind) is this worker's Nack; after it, the primary knows.
    if (!r.ok && !this.#atGate) this.#o.send({ type: 'prepared', generation: m.generation, ok: false, errors: r.errors });
    if (!r.ok) this.#o.log.warn({ generation: m.generation, errors: r.errors.length }, 'config not applied in this worker');
  }

  #decide(generation: number, errors: readonly ConfigError[]): void {
    const v = this.#verdict;
    if (v === null || v.generation !== generation) return;
    this.#verdict = null;
    v.resolve(errors);
  }

  #health(group: string, h: TargetHealth): void {
    let known = this.#table.get(group);
    if (known === undefined) {
      known = new Map();
      this.#table.set(group, known);
    }
    known.set(h.id, h);
    const g = this.#sy?.groups.get(group);
    const t = g?.targets.get(h.id);
    if (g === undefined || t === undefined || t.draining || t.removed) return;
    if (applyHealth(t, h, performance.now())) g.refresh();
  }

  async #collect(id: number): Promise<void> {
    const sy = this.#sy;
    if (sy === null) {
      this.#o.send({ type: 'collected', id, metrics: [], listeners: [], inFlight: [], connections: [] });
      return;
    }
    const metrics = await sy.metrics.registry.getMetricsAsJSON();
    const inFlight: [string, string, number][] = [];
    for (const g of sy.groups.values()) for (const t of g.targets.values()) if (t.inFlight > 0) inFlight.push([g.name, t.id, t.inFlight]);
    const connections: [string, number][] = [];
    for (const l of sy.listeners.values()) connections.push([l.name, l.connectionCount]);
    const reply: CollectedMessage = { type: 'collected', id, metrics, listeners: sy.metrics.snapshot().map(listenerTotalsOf), inFlight, connections };
    this.#o.send(reply);
  }
}

function tableOf(groups: readonly GroupHealth[]): Map<string, Map<string, TargetHealth>> {
  const out = new Map<string, Map<string, TargetHealth>>();
  for (const g of groups) out.set(g.name, new Map(g.targets.map((t) => [t.id, t])));
  return out;
}
