/**
 * The cluster primary's stand-in for a listener its workers bind: it binds nothing and serves
 * nothing, but lets the primary's control plane (startup lines, `/api/v1/status`, the
 * dashboard, reload's keep-or-replace decision) see the listener like any other.
 *
 * Owns: the compiled listener of the current generation, the port the workers bound (which
 * the primary chose when the config says 0), and the workers' open connections as of the last
 * pull. Opening and closing are the workers' business (their own listeners, through
 * node:cluster's shared handles), so `listen` and `close` do nothing here.
 */
import type { CompiledListener } from '../config/compile.js';
import type { Listener } from '../listener/listener.js';

export class RemoteListener implements Listener {
  listener: CompiledListener;
  /** Open connections (or flows) summed over the workers, as of the last pull. */
  connectionCount: number;
  readonly #portOf: (name: string) => number | undefined;

  constructor(listener: CompiledListener, portOf: (name: string) => number | undefined) {
    this.listener = listener;
    this.connectionCount = 0;
    this.#portOf = portOf;
  }

  get name(): string {
    return this.listener.name;
  }

  get port(): number {
    return this.#portOf(this.listener.name) ?? this.listener.port;
  }

  listen(): Promise<void> {
    return Promise.resolve();
  }

  update(next: CompiledListener): void {
    this.listener = next;
  }

  close(_graceMs: number): Promise<void> {
    return Promise.resolve();
  }
}
