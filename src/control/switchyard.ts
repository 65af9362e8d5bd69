/**
 * A running Switchyard: the control plane that owns listeners, target groups, the admin server
 * and the current snapshot.
 *
 * Owns: start (load → validate → compile → bind), apply (a new config, all or nothing: new
 * listeners are bound before the swap; a failure leaves the old config running), and close
 * (graceful: stop accepting, finish in-flight requests up to the shutdown timeout). Target
 * group state is kept across applies, keyed by group name and target identity. With
 * `settings.workers` > 1 the same class runs as the cluster primary (control plane, binds
 * nothing) or as a worker (data plane, checks no health), through `opts.cluster`
 * (cluster-role.ts); without it, one process runs both.
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Config } from '../config/types.js';
import { withDefaults, type ResolvedConfig } from '../config/defaults.js';
import { compileRuntime, type RuntimeConfig } from '../config/compile.js';
import { loadConfigFile, parseConfigText } from '../config/load.js';
import { validateConfig, locateNowhere } from '../config/validate.js';
import type { ConfigError } from '../config/errors.js';
import { TargetGroupRuntime } from '../targets/target-group.js';
import type { ListenerHooks } from '../listener/http-listener.js';
import type { Listener } from '../listener/listener.js';
import { createListener } from '../listener/create-listener.js';
import { createAccessLog, type AccessLog } from '../observability/access-log.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { AdminServer } from '../admin/server.js';
import { Metrics, combineHooks } from '../observability/metrics.js';
import { StickyCodec } from '../targets/stickiness/cookie-codec.js';
import type { ClusterRole } from './cluster-role.js';
import type { Target } from '../targets/target.js';
import { loadTargetTransport, type TargetTransport } from '../proxy/target-transport.js';

export interface SwitchyardOptions {
  /** Path of the YAML/JSON config file (needed for reload). */
  readonly configFile?: string;
  /** A config document (already parsed); used when no file is given. */
  readonly config?: Config;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Overrides `accessLog.path` (tests). */
  readonly accessLogPath?: string;
  /** Overrides `admin.port`; null disables the admin server (tests, benchmarks). */
  readonly adminPort?: number | null;
  readonly hooks?: ListenerHooks;
  /**
   * This process's part in a multi-process deployment (`settings.workers` > 1; see
   * cluster-role.ts). Absent: one process runs both planes.
   */
  readonly cluster?: ClusterRole;
}

export type ApplyResult = { readonly ok: true; readonly generation: number } | { readonly ok: false; readonly errors: readonly ConfigError[] };

export class Switchyard {
  readonly log: Logger;
  readonly groups: Map<string, TargetGroupRuntime>;
  readonly listeners: Map<string, Listener>;
  /** Request, connection, health and reload metrics (GET /metrics, the dashboard). */
  readonly metrics: Metrics;
  readonly #opts: SwitchyardOptions;
  #runtime: RuntimeConfig | null;
  #generation: number;
  #accessLog: AccessLog;
  #accessLogPath: string;
  #admin: AdminServer | null;
  #stickinessSecret: Buffer;
  /** The key used when `settings.stickinessSecret` is empty: random, once per process start. */
  readonly #generatedSecret: Buffer;
  /** Sticky cookie codec for #stickinessSecret (rebuilt only when the secret changes). */
  #stickyCodec: StickyCodec | null;
  #warnedGeneratedSecret: boolean;
  #closing: Promise<void> | null;
  #applying: Promise<unknown>;

  private constructor(opts: SwitchyardOptions) {
    this.#opts = opts;
    this.log = opts.logger ?? createLogger();
    this.groups = new Map();
    this.listeners = new Map();
    this.metrics = new Metrics(() => this.groups.values());
    this.#runtime = null;
    this.#generation = 0;
    this.#accessLog = createAccessLog('off');
    this.#accessLogPath = 'off';
    this.#admin = null;
    this.#generatedSecret = opts.cluster?.generatedStickinessSecret ?? randomBytes(32);
    this.#stickinessSecret = this.#generatedSecret;
    this.#stickyCodec = null;
    this.#warnedGeneratedSecret = false;
    this.#closing = null;
    this.#applying = Promise.resolve();
  }

  /** Loads, validates and starts. Rejects with a ConfigStartError listing every error. */
  static async start(opts: SwitchyardOptions): Promise<Switchyard> {
    const sy = new Switchyard(opts);
    const doc = await sy.#load();
    if (!doc.ok) throw new ConfigStartError(doc.errors, opts.configFile ?? '<config>');
    const result = await sy.apply(doc.config);
    if (!result.ok) throw new ConfigStartError(result.errors, opts.configFile ?? '<config>');
    const admin = sy.#runtime!.resolved.admin;
    const adminPort = opts.adminPort === undefined ? admin.port : opts.adminPort;
    if (adminPort !== null) {
      sy.#admin = new AdminServer(sy, admin.host, adminPort, admin.token);
      try {
        await sy.#admin.listen();
      } catch (err) {
        await sy.close();
        throw err;
      }
    }
    return sy;
  }

  /**
   * A Switchyard that has loaded and bound nothing yet: a cluster worker, which applies the
   * documents its primary sends (control/cluster-worker.ts).
   */
  static create(opts: SwitchyardOptions): Switchyard {
    return new Switchyard(opts);
  }

  get runtime(): RuntimeConfig {
    return this.#runtime!;
  }

  get generation(): number {
    return this.#generation;
  }

  get adminPort(): number | null {
    return this.#admin?.port ?? null;
  }

  get configFile(): string | undefined {
    return this.#opts.configFile;
  }

  /**
   * HMAC key for sticky cookies: `settings.stickinessSecret`, or, when that is empty, a random
   * key generated at start (then cookies do not survive a restart nor work across nodes).
   */
  get stickinessSecret(): Buffer {
    return this.#stickinessSecret;
  }

  /** Re-reads the config file and applies it (SIGHUP, POST /api/v1/reload). */
  async reload(): Promise<ApplyResult> {
    const doc = await this.#load();
    if (!doc.ok) {
      this.metrics.countReload(false);
      return { ok: false, errors: doc.errors };
    }
    return this.apply(doc.config);
  }

  /** Validates a parsed document (admin PUT /api/v1/config) and applies it. */
  async applyDocument(document: unknown): Promise<ApplyResult> {
    const errors = validateConfig(document, locateNowhere);
    if (errors.length > 0) {
      this.metrics.countReload(false);
      return { ok: false, errors };
    }
    return this.apply(document as Config);
  }

  /**
   * Applies a validated config: all of it, or none of it. Applies run one at a time.
   * `generation` is given only by a cluster worker (its primary numbers the generations).
   */
  apply(config: Config, generation?: number): Promise<ApplyResult> {
    const run = this.#applying.then(async () => {
      // The first apply is the start, not a reload.
      const reload = this.#runtime !== null;
      const r = await this.#apply(config, generation);
      if (reload) this.metrics.countReload(r.ok);
      return r;
    });
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #apply(config: Config, generation?: number): Promise<ApplyResult> {
    const resolved = withDefaults(config);
    const missing = notYetAvailable(resolved);
    if (missing.length > 0) return { ok: false, errors: missing };
    const workersChange = workersChanged(this.#runtime, resolved);
    if (workersChange !== null) return { ok: false, errors: [workersChange] };
    const cluster = this.#opts.cluster;
    // Target groups: reconcile into a new map first; nothing live changes until the swap.
    const nextGroups = new Map<string, TargetGroupRuntime>();
    const created: TargetGroupRuntime[] = [];
    // How each group talks to its targets; reading a CA file can fail, so before the swap.
    const transports = new Map<string, TargetTransport>();
    let runtime: RuntimeConfig;
    const secret = resolved.settings.stickinessSecret !== '' ? Buffer.from(resolved.settings.stickinessSecret) : this.#generatedSecret;
    const stickyCodec = this.#stickyCodec !== null && secret.equals(this.#stickinessSecret) ? this.#stickyCodec : new StickyCodec(secret);
    try {
      for (const spec of resolved.targetGroups) transports.set(spec.name, loadTargetTransport(spec, this.#baseDir()));
      for (const spec of resolved.targetGroups) {
        const existing = this.groups.get(spec.name);
        if (existing) nextGroups.set(spec.name, existing);
        else {
          const g = new TargetGroupRuntime(spec, { ...cluster?.targetGroupOptions, transport: transports.get(spec.name)! });
          g.onHealthTransition = (t, from, to) =>
            this.log.info({ targetGroup: g.name, target: t.id, from, to, reason: t.reason }, `target ${t.id} in ${g.name}: ${from} -> ${to}`);
          cluster?.groupCreated?.(g);
          created.push(g);
          nextGroups.set(spec.name, g);
        }
      }
      runtime = compileRuntime(resolved, generation ?? this.#generation + 1, nextGroups, this.#runtime, stickyCodec);
    } catch (err) {
      for (const g of created) g.close();
      return { ok: false, errors: [internalError(err)] };
    }
    // Listeners: bind the new ones before the swap, so a port in use rejects the whole config.
    const opened: Listener[] = [];
    const accessLog = this.#accessLogFor(resolved);
    const hooks = combineHooks(this.metrics, this.#opts.hooks);
    for (const [name, compiled] of runtime.listeners) {
      const current = this.listeners.get(name);
      if (current && current.listener.host === compiled.host && current.listener.port === compiled.port && compiled.protocol === current.listener.protocol) continue;
      let l: Listener;
      try {
        l = cluster?.createListener?.(compiled) ?? createListener(compiled, accessLog, this.log, hooks, this.#baseDir());
      } catch (err) {
        for (const o of opened) await o.close(0);
        for (const g of created) g.close();
        return { ok: false, errors: [internalError(err, `/listeners: listener ${name}`)] };
      }
      try {
        await l.listen();
        opened.push(l);
      } catch (err) {
        for (const o of opened) await o.close(0);
        for (const g of created) g.close();
        return { ok: false, errors: [internalError(err, `/listeners: cannot listen on ${compiled.host}:${compiled.port}`)] };
      }
    }
    if (cluster !== undefined) {
      // Every other process of the deployment prepares too; any refusal aborts the apply.
      const refused = await cluster.beforeSwap(config, runtime.generation);
      if (refused.length > 0) {
        for (const o of opened) await o.close(0);
        for (const g of created) g.close();
        return { ok: false, errors: refused };
      }
    }
    // The swap: from here on nothing can fail.
    for (const spec of resolved.targetGroups) {
      const g = nextGroups.get(spec.name)!;
      if (!created.includes(g)) g.update(spec, transports.get(spec.name));
    }
    const retiredGroups: TargetGroupRuntime[] = [];
    for (const [name, g] of this.groups) if (!nextGroups.has(name)) retiredGroups.push(g);
    this.groups.clear();
    for (const [name, g] of nextGroups) this.groups.set(name, g);
    const retiredListeners: Listener[] = [];
    for (const [name, l] of this.listeners) {
      const next = runtime.listeners.get(name);
      const replaced = opened.find((o) => o.listener.name === name);
      if (!next || replaced) retiredListeners.push(l);
      else l.update(next);
    }
    for (const l of retiredListeners) this.listeners.delete(l.listener.name);
    for (const l of opened) {
      this.listeners.set(l.listener.name, l);
      this.log.info({ listener: l.listener.name }, `listening ${l.listener.protocol.toLowerCase()} ${l.listener.host}:${l.port}`);
    }
    this.#generation = runtime.generation;
    this.#runtime = runtime;
    this.#stickinessSecret = secret;
    this.#stickyCodec = stickyCodec;
    if (secret === this.#generatedSecret && !this.#warnedGeneratedSecret && usesStickiness(resolved)) {
      this.#warnedGeneratedSecret = true;
      this.log.warn(
        'settings.stickinessSecret is empty: sticky cookies are signed with a key generated at start, so they are not honoured after a restart; several Switchyard nodes must share one stickinessSecret to honour each other\'s cookies',
      );
    }
    // Retire what the new config no longer has, letting in-flight work finish.
    const grace = runtime.settings.shutdownTimeoutMs;
    for (const l of retiredListeners) void l.close(grace);
    for (const g of retiredGroups) setTimeout(() => g.close(), grace).unref();
    cluster?.swapped(runtime.generation);
    return { ok: true, generation: runtime.generation };
  }

  /**
   * Brings live numbers up to date before an admin answer: a cluster primary pulls the
   * workers' counters and in-flight counts; in one process they are live already.
   */
  refreshLive(): Promise<void> {
    return this.#opts.cluster?.refresh?.() ?? Promise.resolve();
  }

  /** `GET /api/v1/workers`: the processes serving traffic. */
  workersReport(): unknown {
    return this.#opts.cluster?.describe?.() ?? { mode: 'single', pid: process.pid, workers: [] };
  }

  /** Admin API: registers a target (or revives a draining one), in every worker too. */
  registerTarget(group: TargetGroupRuntime, host: string, port: number, weight: number): Target {
    const t = group.register(host, port, weight);
    this.#opts.cluster?.targetRegistered?.(group.name, host, port, weight);
    return t;
  }

  /** Admin API: starts draining a target, in every worker too. False when it is unknown. */
  deregisterTarget(group: TargetGroupRuntime, id: string): boolean {
    if (!group.deregister(id)) return false;
    this.#opts.cluster?.targetDeregistered?.(group.name, id);
    return true;
  }

  /** Where relative paths in the config (certificates) are resolved: the config file's folder. */
  #baseDir(): string {
    return this.#opts.configFile !== undefined ? dirname(resolvePath(this.#opts.configFile)) : process.cwd();
  }

  /** Graceful stop: no new connections; in-flight requests get the shutdown timeout. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const grace = this.#runtime?.settings.shutdownTimeoutMs ?? 0;
    await this.#opts.cluster?.stop?.(grace);
    await Promise.all([...this.listeners.values()].map((l) => l.close(grace)));
    await this.#admin?.close();
    for (const g of this.groups.values()) g.close();
    await this.#accessLog.close();
    this.log.flush?.();
  }

  #accessLogFor(resolved: ResolvedConfig): AccessLog {
    const path = this.#opts.accessLogPath ?? resolved.accessLog.path;
    if (path !== this.#accessLogPath) {
      void this.#accessLog.close();
      this.#accessLog = createAccessLog(path, this.log);
      this.#accessLogPath = path;
    }
    return this.#accessLog;
  }

  async #load(): Promise<{ ok: true; config: Config } | { ok: false; errors: readonly ConfigError[] }> {
    const env = this.#opts.env ?? process.env;
    if (this.#opts.configFile !== undefined) {
      const r = await loadConfigFile(this.#opts.configFile, env);
      return r.ok ? { ok: true, config: r.config } : { ok: false, errors: r.errors };
    }
    if (this.#opts.config !== undefined) {
      const r = parseConfigText(JSON.stringify(this.#opts.config), '<config>', env);
      return r.ok ? { ok: true, config: r.config } : { ok: false, errors: r.errors };
    }
    throw new Error('Switchyard needs a configFile or a config');
  }
}

/** Thrown by `Switchyard.start` when the config is invalid. */
export class ConfigStartError extends Error {
  readonly errors: readonly ConfigError[];
  readonly file: string;
  constructor(errors: readonly ConfigError[], file: string) {
    super(`invalid config ${file}: ${errors.length} error(s)`);
    this.errors = errors;
    this.file = file;
  }
}

function internalError(err: unknown, message?: string): ConfigError {
  const text = err instanceof Error ? err.message : String(err);
  return { path: '', line: 0, column: 0, expected: 'a config that can be applied', message: message ? `${message}: ${text}` : text };
}

function unsupported(path: string, message: string): ConfigError {
  return { path, line: 0, column: 0, expected: 'a feature this version implements', message };
}

/**
 * Parts of the SPEC's config that this version validates but cannot run yet. Refusing them is
 * better than accepting a config that silently does less than it says.
 */
function notYetAvailable(resolved: ResolvedConfig): ConfigError[] {
  const out: ConfigError[] = [];
  resolved.listeners.forEach((l, i) => {
    if ((l.protocol === 'TCP' || l.protocol === 'UDP') && l.protection !== null) {
      out.push(unsupported(`/listeners/${i}/protection`, `listener ${l.name}: protection on ${l.protocol} listeners is not available yet`));
    }
  });
  return out;
}

/**
 * `settings.workers` is the shape of the process tree, fixed at start: a reload that changes
 * it is refused rather than applied without it (docs/decisions/0012-workers.md).
 */
function workersChanged(running: RuntimeConfig | null, next: ResolvedConfig): ConfigError | null {
  if (running === null) return null;
  const was = running.resolved.settings.workers;
  if (next.settings.workers === was) return null;
  return {
    path: '/settings/workers',
    line: 0,
    column: 0,
    expected: `${JSON.stringify(was)} (the running value)`,
    message: `settings.workers cannot change on reload (running with ${JSON.stringify(was)}); restart Switchyard to change it`,
  };
}

/** Whether any target group or forward has stickiness on (for the generated-secret warning). */
function usesStickiness(resolved: ResolvedConfig): boolean {
  if (resolved.targetGroups.some((g) => g.stickiness.enabled)) return true;
  return resolved.listeners.some(
    (l) => (l.defaultAction.kind === 'forward' && l.defaultAction.forward.stickiness.enabled) || l.rules.some((r) => r.action.kind === 'forward' && r.action.forward.stickiness.enabled),
  );
}
