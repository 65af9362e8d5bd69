/**
 * What every kind of listener (HTTP, TCP, UDP) offers the control plane.
 *
 * Owns: the shape only. Switchyard binds, updates and closes listeners through it and never
 * needs to know the protocol; `create-listener.ts` picks the implementation.
 */
import type net from 'node:net';
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

/** Binds a stream server; rejects with the bind error (address in use, permission). */
export function listenOn(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The port a server is bound to, or `fallback` before it is bound. */
export function boundPort(server: net.Server, fallback: number): number {
  const a = server.address();
  return a !== null && typeof a === 'object' ? a.port : fallback;
}
