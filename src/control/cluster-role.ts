/**
 * What a Switchyard delegates when it is one process of a multi-process deployment
 * (`settings.workers` > 1, docs/decisions/0012-workers.md): the primary runs the control plane
 * and binds nothing; each worker runs the data plane and checks no health.
 *
 * Owns: the interface only. `cluster-primary.ts` and `cluster-worker.ts` implement it;
 * `switchyard.ts` calls it at a handful of points (group created, listener built, before and
 * after the swap, close) and is otherwise the same code in every mode. Without a role (the
 * default, `workers: 1`) none of this runs.
 */
import type { CompiledListener } from '../config/compile.js';
import type { ConfigError } from '../config/errors.js';
import type { Config } from '../config/types.js';
import type { Listener } from '../listener/listener.js';
import type { TargetGroupRuntime, TargetGroupRuntimeOptions } from '../targets/target-group.js';

export interface ClusterRole {
  /** Options for every target group this process creates (workers: `{ healthChecks: false }`). */
  readonly targetGroupOptions?: TargetGroupRuntimeOptions;
  /**
   * The sticky-cookie key used while `settings.stickinessSecret` is empty: generated once by
   * the primary and handed to every worker, so a cookie one worker signed is valid in all.
   */
  readonly generatedStickinessSecret?: Buffer | undefined;
  /** Builds a listener instead of binding one (the primary's stand-ins: workers bind). */
  createListener?(compiled: CompiledListener): Listener;
  /** A target group was created by an apply: called before any listener can route to it. */
  groupCreated?(group: TargetGroupRuntime): void;
  /**
   * Everything that can fail in this process succeeded (compiled, listeners bound). Resolve
   * with [] to let the swap happen, or with errors to abort the apply (nothing changes).
   * The primary runs every worker's prepare here; a worker acks and waits for the verdict.
   */
  beforeSwap(config: Config, generation: number): Promise<readonly ConfigError[]>;
  /** The swap happened (it cannot fail). */
  swapped(generation: number): void;
  /** Fresh live numbers before an admin answer (metrics, in-flight counts); primary only. */
  refresh?(): Promise<void>;
  /** `GET /api/v1/workers`; primary only. */
  describe?(): unknown;
  /** Admin API membership changes, to pass on to the workers; primary only. */
  targetRegistered?(group: string, host: string, port: number, weight: number): void;
  targetDeregistered?(group: string, id: string): void;
  /** Graceful stop of the other processes, before this one closes (primary: every worker). */
  stop?(graceMs: number): Promise<void>;
}
