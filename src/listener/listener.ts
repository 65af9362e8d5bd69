/**
 * What every kind of listener (HTTP, TCP, UDP) offers the control plane.
 *
 * Owns: the shape only. Switchyard binds, updates and closes listeners through it and never
 * needs to know the protocol; `create-listener.ts` picks the implementation.
 */
import type { CompiledListener } from '../config/compile.js';

export interface Listener {
  /** The compiled listener new connections (or flows) use; replaced by `update`. */
  readonly listener: CompiledListener;
  readonly name: string;
  /** The port actually bound (differs from the config when it says 0). */
  readonly port: number;
  /** Open client connections (TCP, HTTP) or live flows (UDP). */
  readonly connectionCount: number;
  /** Binds; rejects when the address cannot be bound (the whole config is then refused). */
  listen(): Promise<void>;
  /** Reload: connections and flows that start from now on use `next`. */
  update(next: CompiledListener): void;
  /**
   * Stops accepting, lets open connections or flows finish for up to `graceMs`, then closes
   * what is left. Resolves when everything is closed.
   */
  close(graceMs: number): Promise<void>;
}
