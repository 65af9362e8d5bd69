/**
 * One target (host:port) of a target group, with its live state.
 *
 * Owns: identity, configured weight, in-flight count, the health flags, and the connection pool
 * to it. The public health state (SPEC §4: initial, healthy, unhealthy, draining, unused) is
 * derived from separate flags, as Envoy does, so that active checks, passive ejection and
 * draining never overwrite each other. State outlives reloads: it is keyed by `id`.
 */
import type { Socket } from 'node:net';
import type { BalancerTarget } from './balancers/balancer.js';
import type { TargetPool } from '../proxy/upstream-pool.js';
import { HTTP1_TRANSPORT, createTargetPool, type TargetTransport } from '../proxy/target-transport.js';

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused';

export interface TargetPoolOptions {
  readonly connectTimeoutMs: number;
  /** HTTP/1.1 or HTTP/2, TCP or TLS; default plain HTTP/1.1. */
  readonly transport?: TargetTransport;
}

export class Target implements BalancerTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Effective weight seen by the balancer (configured weight, adjusted by slow start). */
  weight: number;
  /** Weight as configured or registered. */
  configuredWeight: number;
  inFlight: number;
  /** Active check verdict: null until the first verdict (state `initial`). */
  activeHealthy: boolean | null;
  /** Taken out by a refused/reset connection until an active check passes. */
  passiveEjected: boolean;
  /** Deregistered: no new requests; in-flight ones finish within the delay. */
  draining: boolean;
  /** Fully removed (after draining). */
  removed: boolean;
  /** Health checks disabled for the group: always healthy unless ejected or draining. */
  checksDisabled: boolean;
  /** Why the target is in its state, for /api/v1/status. */
  reason: string;
  /** When the target last became healthy (ms, monotonic), for slow start. */
  healthySinceMs: number;
  /** Connections to the target (HTTP/1.1 or HTTP/2 per the group's transport). */
  pool: TargetPool;
  #transportKey: string;
  /** Open WebSocket tunnels to this target (closed when draining ends). */
  readonly tunnels: Set<Socket>;

  constructor(host: string, port: number, weight: number, pool: TargetPoolOptions) {
    this.id = formatTargetId(host, port);
    this.host = host;
    this.port = port;
    this.weight = weight;
    this.configuredWeight = weight;
    this.inFlight = 0;
    this.activeHealthy = null;
    this.passiveEjected = false;
    this.draining = false;
    this.removed = false;
    this.checksDisabled = false;
    this.reason = 'awaiting first health check';
    this.healthySinceMs = 0;
    const transport = pool.transport ?? HTTP1_TRANSPORT;
    this.pool = createTargetPool(host, port, pool.connectTimeoutMs, transport);
    this.#transportKey = transport.key;
    this.tunnels = new Set();
  }

  get state(): TargetState {
    if (this.removed) return 'unused';
    if (this.draining) return this.inFlight === 0 ? 'unused' : 'draining';
    if (this.passiveEjected) return 'unhealthy';
    if (this.checksDisabled) return 'healthy';
    if (this.activeHealthy === null) return 'initial';
    return this.activeHealthy ? 'healthy' : 'unhealthy';
  }

  /**
   * A reload changed how the group talks to its targets: new requests use a new pool; the old
   * one's idle connections close, and requests in flight on it finish there.
   */
  setTransport(transport: TargetTransport, connectTimeoutMs: number): void {
    if (transport.key === this.#transportKey) {
      this.pool.connectTimeoutMs = connectTimeoutMs;
      return;
    }
    this.pool.closeIdle();
    this.pool = createTargetPool(this.host, this.port, connectTimeoutMs, transport);
    this.#transportKey = transport.key;
  }

  /** Healthy and accepting new requests. */
  get usable(): boolean {
    return this.state === 'healthy';
  }
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatTargetId(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
