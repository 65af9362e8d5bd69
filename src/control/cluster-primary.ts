/**
 * The cluster primary: the control plane of a multi-process deployment (`settings.workers` > 1,
 * docs/decisions/0012-workers.md). Its Switchyard loads, validates, compiles, checks health
 * and serves the admin API, and binds nothing; N workers (node:cluster, which shares each
 * listening socket among them) run the data plane.
 *
 * Owns: forking the workers and replacing one that exits (at once, then with a growing delay
 * while replacements keep dying young); the two-phase apply across them (every worker
 * prepares, then all commit or all abort: `beforeSwap` / `swapped`); bringing a replacement up
 * to the current generation before it serves; broadcasting health transitions, passive
 * ejections and admin registrations; pulling the workers' counters and in-flight counts
 * (on every admin read, and once a second for the dashboard); choosing one port for a listener
 * whose config says 0 (so every worker, including later replacements, shares one socket); and
 * the graceful stop of every worker. Never serves traffic itself.
 */
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CompiledListener } from '../config/compile.js';
import type { Config } from '../config/types.js';
import type { ConfigError } from '../config/errors.js';
import { withDefaults } from '../config/defaults.js';
import type { Listener } from '../listener/listener.js';
import type { Logger } from '../observability/logger.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import type { Switchyard } from './switchyard.js';
import type { ClusterRole } from './cluster-role.js';
import { isMessage, type CollectedMessage, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { RemoteListener } from './remote-listener.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { healthOf, snapshotGroups } from './target-sync.js';

/** How long the workers get to start (IPC up) at startup, ms. */
const START_TIMEOUT_MS = 15_000;
/** How long a worker gets to prepare a generation (compile, bind), ms; then it counts as failed and is replaced. */
const PREPARE_TIMEOUT_MS = 15_000;
/** How long a `collect` waits for a worker before using its previous answer, ms. */
const COLLECT_TIMEOUT_MS = 500;
/** The dashboard's numbers are pulled this often, ms. */
const PULL_INTERVAL_MS = 1000;
/** A worker that exits within this long of its start counts as crashing young, ms. */
const YOUNG_MS = 10_000;
/** Replacement delay after the 2nd, 3rd… young exit in a row: 0.5 s, 1 s, 2 s … up to 30 s. */
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** After the shutdown grace, workers still running get this long before SIGKILL, ms. */
const STOP_MARGIN_MS = 5000;

export type WorkerState = 'starting' | 'ready' | 'joining' | 'serving' | 'stopping' | 'exited';

interface Slot {
  /** 1…N; a replacement takes the slot of the worker it replaces. */
  readonly id: number;
  worker: Worker | null;
  pid: number;
  state: WorkerState;
  /** The generation this worker has committed (0: none yet). */
  generation: number;
  /** The generation it acked in the apply under way. */
  prepared: number;
  startedAtMs: number;
  restarts: number;
  youngExits: number;
  respawn: NodeJS.Timeout | null;
  readonly waiters: Map<string, (m: WorkerMessage | 'timeout' | 'exited') => void>;
  inFlight: readonly (readonly [string, string, number])[];
  connections: readonly (readonly [string, number])[];
}

interface PortChoice {
  readonly host: string;
  readonly protocol: string;
  readonly port: number;
}

export interface ClusterPrimaryOptions {
  /** Number of workers (≥ 1). */
  readonly workers: number;
  readonly log: Logger;
  /** The module each worker runs (dist/src/cli/worker-main.js). */
  readonly exec: string;
  /** The config file, so workers resolve relative certificate paths like the primary. */
  readonly configFile: string | null;
  /** Added to the workers' environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export class ClusterPrimary implements ClusterRole {
  readonly generatedStickinessSecret: Buffer;
  /** What the workers counted (the primary's Metrics renders it through `remote`). */
  readonly metrics: ClusterMetrics;
  readonly #o: ClusterPrimaryOptions;
  readonly #slots: Slot[];
  /** Target groups by name: the live ones, plus those an apply under way created. */
  readonly #groups: Map<string, TargetGroupRuntime>;
  #sy: Switchyard | null;
  #forked: boolean;
  #stopping: boolean;
  /** The committed generation and the document the workers were sent for it. */
  #current: { readonly generation: number; readonly config: Config } | null;
  /** Ports chosen for listeners whose config says 0, by listener name. */
  #ports: Map<string, PortChoice>;
  /** Serializes applies and joins: a joining worker cannot miss a generation. */
  #chain: Promise<void>;
  #release: (() => void) | null;
  #groupsCreated: string[];
  #collectId: number;
  #refreshing: Promise<void> | null;
  #pullTimer: NodeJS.Timeout | null;
  /** Called on every worker state change (`#until`). */
  readonly #watchers: Set<() => void>;

  constructor(o: ClusterPrimaryOptions) {
    this.generatedStickinessSecret = randomBytes(32);
    this.metrics = new ClusterMetrics();
    this.#o = o;
    this.#slots = [];
    for (let id = 1; id <= o.workers; id++) {
      this.#slots.push({
        id,
        worker: null,
        pid: 0,
        state: 'exited',
        generation: 0,
        prepared: 0,
        startedAtMs: 0,
        restarts: 0,
        youngExits: 0,
        respawn: null,
        waiters: new Map(),
        inFlight: [],
        connections: [],
      });
    }
    this.#groups = new Map();
    this.#sy = null;
    this.#forked = false;
    this.#stopping = false;
    this.#current = null;
    this.#ports = new Map();
    this.#chain = Promise.resolve();
    this.#release = null;
    this.#groupsCreated = [];
    this.#collectId = 0;
    this.#refreshing = null;
    this.#pullTimer = null;
    this.#watchers = new Set();
  }

  /** The primary's Switchyard, once started: its metrics then include the workers'. */
  attach(sy: Switchyard): void {
    this.#sy = sy;
    sy.metrics.remote = this.metrics;
  }

  /** Worker pids, in slot order (0 for a slot being replaced). */
  get pids(): number[] {
    return this.#slots.map((s) => (s.worker !== null ? s.pid : 0));
  }

  // --- ClusterRole ---------------------------------------------------------------------------

  createListener(compiled: CompiledListener): Listener {
    return new RemoteListener(compiled, (name) => this.#ports.get(name)?.port);
  }

  groupCreated(g: TargetGroupRuntime): void {
    this.#groups.set(g.name, g);
    this.#groupsCreated.push(g.name);
    const log = g.onHealthTransition;
    g.onHealthTransition = (t, from, to) => {
      log?.(t, from, to);
      this.#broadcast({ type: 'health', group: g.name, target: healthOf(t, performance.now()) });
    };
  }

  async beforeSwap(config: Config, generation: number): Promise<readonly ConfigError[]> {
    this.#release = await this.#acquire();
    try {
      const errors = await this.#prepareAll(config, generation);
      if (errors.length > 0) this.#endApply(false);
      return errors;
    } catch (err) {
      this.#endApply(false);
      return [failure(`workers could not prepare the config: ${err instanceof Error ? err.message : String(err)}`)];
    }
  }

  swapped(generation: number): void {
    const names = new Set(this.#current?.config.targetGroups?.map((g) => g.name) ?? []);
    for (const name of [...this.#groups.keys()]) if (!names.has(name)) this.#groups.delete(name);
    const health = snapshotGroups(this.#groups.values(), performance.now());
    for (const s of this.#slots) {
      if (s.worker === null || s.prepared !== generation) continue;
      this.#send(s, { type: 'commit', generation, health });
      s.state = 'serving';
      s.generation = generation;
    }
    this.#endApply(true);
    if (this.#pullTimer === null && !this.#stopping) {
      this.#pullTimer = setInterval(() => void this.refresh(), PULL_INTERVAL_MS);
      this.#pullTimer.unref();
    }
  }

  refresh(): Promise<void> {
    this.#refreshing ??= this.#pull().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  describe(): unknown {
    return {
      mode: 'primary',
      pid: process.pid,
      generation: this.#current?.generation ?? 0,
      workers: this.#slots.map((s) => ({
        id: s.id,
        pid: s.worker !== null ? s.pid : null,
        state: s.state,
        generation: s.generation,
        startedAt: s.startedAtMs > 0 ? new Date(s.startedAtMs).toISOString() : null,
        restarts: s.restarts,
        requests: this.metrics.requestsOf(s.id),
        activeConnections: this.metrics.connectionsOf(s.id),
      })),
    };
  }

  targetRegistered(group: string, host: string, port: number, weight: number): void {
    this.#broadcast({ type: 'register', group, host, port, weight });
  }

  targetDeregistered(group: string, id: string): void {
    this.#broadcast({ type: 'deregister', group, id });
  }

  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#pullTimer !== null) clearInterval(this.#pullTimer);
    this.#pullTimer = null;
    for (const s of this.#slots) {
      if (s.respawn !== null) clearTimeout(s.respawn);
      s.respawn = null;
      if (s.worker === null) continue;
      s.state = 'stopping';
      this.#send(s, { type: 'stop', graceMs });
    }
    const allGone = (): boolean => this.#slots.every((s) => s.worker === null);
    if (await this.#until(allGone, graceMs + STOP_MARGIN_MS)) return;
    for (const s of this.#slots) {
      if (s.worker === null) continue;
      this.#o.log.warn({ worker: s.id, pid: s.pid }, 'worker did not stop in time; killing it');
      s.worker.process.kill('SIGKILL');
    }
    await this.#until(allGone, 2000);
  }

  // --- applies -------------------------------------------------------------------------------

  async #prepareAll(config: Config, generation: number): Promise<readonly ConfigError[]> {
    if (!this.#forked) {
      this.#forkAll();
      const started = await this.#until(() => this.#slots.every((s) => s.state === 'ready'), START_TIMEOUT_MS);
      if (!started) return [failure(`the workers did not start within ${START_TIMEOUT_MS / 1000}s`)];
    }
    const { doc, ports } = await this.#resolvePorts(config);
    const names = new Set(config.targetGroups?.map((g) => g.name) ?? []);
    const health = snapshotGroups([...this.#groups.values()].filter((g) => names.has(g.name)), performance.now());
    const message: PrimaryMessage = {
      type: 'prepare',
      generation,
      config: doc,
      configFile: this.#o.configFile,
      generatedStickinessSecret: this.generatedStickinessSecret.toString('base64'),
      health,
    };
    const asked = this.#slots.filter((s) => s.worker !== null && (s.state === 'ready' || s.state === 'serving'));
    const answers = await Promise.all(asked.map((s) => this.#ask(s, message, `prepared:${generation}`, PREPARE_TIMEOUT_MS)));
    const errors: ConfigError[] = [];
    const seen = new Set<string>();
    const add = (e: ConfigError): void => {
      const key = `${e.path}\u0000${e.message}`;
      if (seen.has(key)) return;
      seen.add(key);
      errors.push(e);
    };
    answers.forEach((a, i) => {
      const s = asked[i]!;
      if (a === 'timeout') {
        add(failure(`worker ${s.id} (pid ${s.pid}) did not answer within ${PREPARE_TIMEOUT_MS / 1000}s; it is being replaced`));
        s.worker?.process.kill('SIGKILL');
      } else if (a === 'exited') {
        add(failure(`worker ${s.id} (pid ${s.pid}) exited while preparing the config`));
      } else if (a.type === 'prepared' && a.ok) {
        s.prepared = generation;
      } else if (a.type === 'prepared') {
        for (const e of a.errors) add(e);
      }
    });
    if (errors.length > 0) {
      // Phase two, the refusal: the workers that prepared drop it and keep the running config.
      const reason = `another worker refused generation ${generation}`;
      for (const s of asked) if (s.prepared === generation) this.#send(s, { type: 'abort', generation, reason });
      for (const s of asked) if (s.prepared === generation) s.prepared = 0;
      return errors;
    }
    this.#ports = ports;
    this.#current = { generation, config: doc };
    return [];
  }

  /** Ends the apply under way: drops the groups it created if it failed, lets joins proceed. */
  #endApply(ok: boolean): void {
    if (!ok) for (const name of this.#groupsCreated) this.#groups.delete(name);
    this.#groupsCreated = [];
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  /**
   * A replacement worker is ready: it prepares and commits the current generation (with a
   * snapshot of target state) before it serves anything, between applies.
   */
  async #join(s: Slot, w: Worker): Promise<void> {
    const release = await this.#acquire();
    try {
      const current = this.#current;
      if (s.worker !== w || current === null || this.#stopping) return;
      const health = snapshotGroups(this.#groups.values(), performance.now());
      const message: PrimaryMessage = {
        type: 'prepare',
        generation: current.generation,
        config: current.config,
        configFile: this.#o.configFile,
        generatedStickinessSecret: this.generatedStickinessSecret.toString('base64'),
        health,
      };
      const a = await this.#ask(s, message, `prepared:${current.generation}`, PREPARE_TIMEOUT_MS);
      if (s.worker !== w) return;
      if (a === 'timeout' || a === 'exited' || a.type !== 'prepared' || !a.ok) {
        const why = a === 'timeout' || a === 'exited' ? a : a.type === 'prepared' && !a.ok ? a.errors.map((e) => e.message).join('; ') : 'unexpected answer';
        this.#o.log.error({ worker: s.id, pid: s.pid, generation: current.generation, why }, 'replacement worker could not apply the running config; replacing it');
        w.process.kill('SIGKILL');
        return;
      }
      s.prepared = current.generation;
      const committed = this.#ask(s, { type: 'commit', generation: current.generation, health: snapshotGroups(this.#groups.values(), performance.now()) }, `committed:${current.generation}`, PREPARE_TIMEOUT_MS);
      s.state = 'serving';
      s.generation = current.generation;
      if ((await committed) !== 'exited') this.#o.log.info({ worker: s.id, pid: s.pid, generation: current.generation }, 'worker serving');
    } finally {
      release();
    }
  }

  /** One port per listener whose config says 0, chosen here so every worker binds the same. */
  async #resolvePorts(config: Config): Promise<{ doc: Config; ports: Map<string, PortChoice> }> {
    const doc = structuredClone(config) as unknown as { listeners?: { port?: unknown }[] };
    const ports = new Map<string, PortChoice>();
    const resolved = withDefaults(config).listeners;
    for (let i = 0; i < resolved.length; i++) {
      const l = resolved[i]!;
      if (l.port !== 0) continue;
      const prev = this.#ports.get(l.name);
      const port = prev !== undefined && prev.host === l.host && prev.protocol === l.protocol ? prev.port : await freePort(l.host, l.protocol === 'UDP');
      ports.set(l.name, { host: l.host, protocol: l.protocol, port });
      const entry = doc.listeners?.[i];
      if (entry !== undefined) entry.port = port;
    }
    return { doc: doc as unknown as Config, ports };
  }

  // --- workers -------------------------------------------------------------------------------

  #forkAll(): void {
    this.#forked = true;
    cluster.setupPrimary({ exec: this.#o.exec, args: [] });
    for (const s of this.#slots) this.#fork(s);
  }

  #fork(s: Slot): void {
    s.respawn = null;
    if (this.#stopping) return;
    const w = cluster.fork({ ...this.#o.env, SWITCHYARD_WORKER_ID: String(s.id) });
    s.worker = w;
    s.pid = w.process.pid ?? 0;
    s.state = 'starting';
    s.generation = 0;
    s.prepared = 0;
    s.startedAtMs = Date.now();
    w.on('message', (m: unknown) => {
      if (isMessage<WorkerMessage>(m)) this.#onMessage(s, w, m);
    });
    w.on('exit', (code: number | null, signal: string | null) => this.#onExit(s, w, code, signal));
    w.on('error', (err: Error) => this.#o.log.warn({ worker: s.id, err: err.message }, 'worker IPC error'));
  }

  #onMessage(s: Slot, w: Worker, m: WorkerMessage): void {
    if (s.worker !== w) return;
    switch (m.type) {
      case 'ready':
        if (this.#current === null || !this.#forked) {
          s.state = 'ready';
          this.#changed();
        } else {
          s.state = 'joining';
          void this.#join(s, w);
        }
        return;
      case 'passive':
        this.#passive(m.group, m.id, m.reason);
        return;
      case 'prepared':
        s.waiters.get(`prepared:${m.generation}`)?.(m);
        return;
      case 'committed':
        s.waiters.get(`committed:${m.generation}`)?.(m);
        return;
      case 'collected':
        s.waiters.get(`collected:${m.id}`)?.(m);
        return;
    }
  }

  #onExit(s: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (s.worker !== w) return;
    s.worker = null;
    s.inFlight = [];
    s.connections = [];
    for (const resolve of [...s.waiters.values()]) resolve('exited');
    this.metrics.retire(s.id);
    this.#mirror();
    if (this.#stopping) {
      s.state = 'exited';
      this.#changed();
      return;
    }
    s.state = 'exited';
    s.youngExits = Date.now() - s.startedAtMs < YOUNG_MS ? s.youngExits + 1 : 0;
    const delay = replacementDelayMs(s.youngExits);
    s.restarts++;
    this.#o.log.error({ worker: s.id, pid: s.pid, code, signal, replaceInMs: delay }, `worker ${s.id} (pid ${s.pid}) exited unexpectedly; replacing it`);
    s.respawn = setTimeout(() => this.#fork(s), delay);
    this.#changed();
  }

  #passive(group: string, id: string, reason: string): void {
    const g = this.#groups.get(group);
    const t = g?.targets.get(id);
    if (g === undefined || t === undefined || t.draining || t.removed || t.passiveEjected) return;
    g.ejectPassively(t, reason);
    if (t.passiveEjected) this.#broadcast({ type: 'health', group, target: healthOf(t, performance.now()) });
  }

  async #pull(): Promise<void> {
    const id = ++this.#collectId;
    const asked = this.#slots.filter((s) => s.worker !== null && s.state === 'serving');
    const answers = await Promise.all(asked.map((s) => this.#ask(s, { type: 'collect', id }, `collected:${id}`, COLLECT_TIMEOUT_MS)));
    answers.forEach((a, i) => {
      const s = asked[i]!;
      if (typeof a === 'string' || a.type !== 'collected' || s.worker === null) return;
      const m: CollectedMessage = a;
      this.metrics.update(s.id, m);
      s.inFlight = m.inFlight;
      s.connections = m.connections;
    });
    this.#mirror();
  }

  /** Writes the workers' in-flight and connection sums into the primary's targets and listeners. */
  #mirror(): void {
    const inFlight = new Map<string, number>();
    const connections = new Map<string, number>();
    for (const s of this.#slots) {
      for (const [g, t, n] of s.inFlight) inFlight.set(`${g}\u0000${t}`, (inFlight.get(`${g}\u0000${t}`) ?? 0) + n);
      for (const [l, n] of s.connections) connections.set(l, (connections.get(l) ?? 0) + n);
    }
    for (const g of this.#groups.values()) for (const t of g.targets.values()) t.inFlight = inFlight.get(`${g.name}\u0000${t.id}`) ?? 0;
    for (const l of this.#sy?.listeners.values() ?? []) if (l instanceof RemoteListener) l.connectionCount = connections.get(l.name) ?? 0;
  }

  // --- plumbing ------------------------------------------------------------------------------

  #send(s: Slot, m: PrimaryMessage): void {
    const w = s.worker;
    if (w === null || !w.isConnected()) return;
    // A worker that just died: its exit event follows and handles it.
    w.send(m, () => {});
  }

  /** Health and membership changes go to every worker, whatever its state (ordering per worker is kept). */
  #broadcast(m: PrimaryMessage): void {
    for (const s of this.#slots) if (s.worker !== null && s.state !== 'starting' && s.state !== 'stopping') this.#send(s, m);
  }

  #ask(s: Slot, m: PrimaryMessage, key: string, timeoutMs: number): Promise<WorkerMessage | 'timeout' | 'exited'> {
    if (s.worker === null) return Promise.resolve('exited');
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const finish = (a: WorkerMessage | 'timeout' | 'exited'): void => {
        clearTimeout(timer);
        if (s.waiters.get(key) === finish) s.waiters.delete(key);
        resolve(a);
      };
      s.waiters.set(key, finish);
      this.#send(s, m);
    });
  }

  #acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const prev = this.#chain;
    this.#chain = prev.then(() => held);
    return prev.then(() => release);
  }

  #changed(): void {
    for (const w of [...this.#watchers]) w();
  }

  /** Resolves true once `cond()` holds (checked on every worker state change), false after `timeoutMs`. */
  #until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const watch = (): void => {
        if (cond()) done(true);
      };
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.#watchers.delete(watch);
        resolve(v);
      };
      this.#watchers.add(watch);
    });
  }
}

/**
 * How long to wait before replacing a worker, given how many times in a row a worker of its
 * slot died young: at once for the first (a one-off crash), then 0.5 s, 1 s, 2 s … up to 30 s,
 * so a worker that cannot start does not fork in a tight loop.
 */
export function replacementDelayMs(youngExits: number): number {
  return youngExits <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (youngExits - 1));
}

function failure(message: string): ConfigError {
  return { path: '', line: 0, column: 0, expected: 'every worker to apply the config', message };
}

/** A free port on `host`, found by binding port 0 and closing it at once. */
function freePort(host: string, udp: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    if (udp) {
      const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      s.once('error', reject);
      s.bind({ address: host, port: 0, exclusive: true }, () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
      return;
    }
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const a = srv.address();
      const port = a !== null && typeof a === 'object' ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
