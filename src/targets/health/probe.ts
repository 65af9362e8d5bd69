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

/**
 * Runs one check under the rules every probe shares: it settles once, fails with a timeout
 * reason after `timeoutMs`, fails as aborted when `signal` fires, and releases what the check
 * opened when it settles. `start` begins the check; it calls `finish` with the verdict and
 * registers its sockets' cleanup through `onSettle` (run at once if the check already settled).
 */
export function runProbe(
  timeoutMs: number,
  signal: AbortSignal,
  start: (finish: (result: ProbeResult) => void, onSettle: (cleanup: () => void) => void) => void,
): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const cleanups: (() => void)[] = [];
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      for (const c of cleanups) c();
      resolve(result);
    };
    const onSettle = (cleanup: () => void): void => {
      if (settled) cleanup();
      else cleanups.push(cleanup);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'health check: aborted' });
    const timer = setTimeout(() => finish({ ok: false, reason: `health check: timeout after ${formatSeconds(timeoutMs)}` }), timeoutMs);
    timer.unref();
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    start(finish, onSettle);
  });
}
