/**
 * The HealthProbe interface: one check of one target, resolving to a verdict and a reason.
 *
 * Owns: the probe contract and the helpers its implementations share (the factory keyed by
 * protocol is `createHealthProbe` in checker.ts). Probes never reject: every outcome,
 * including an abort, is a ProbeResult with a human-readable reason.
 */
export interface ProbeResult {
  readonly ok: boolean;
  /** `health check passed`, or why it failed, e.g. `health check: status 500 not in 200-399`. */
  readonly reason: string;
}

export interface HealthProbe {
  /** Probes host:port once; resolves (never rejects) within the probe's timeout. */
  check(host: string, port: number, signal: AbortSignal): Promise<ProbeResult>;
}

export const PROBE_PASSED = 'health check passed';

/** `2s`, `0.5s`: the timeout as the operator wrote it. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** The short code of a socket error (`ECONNREFUSED`), or its message. */
export function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') return message;
  }
  return String(err);
}
