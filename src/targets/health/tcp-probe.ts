/**
 * TCP health probe: the check passes when a connection is established within the timeout.
 *
 * Owns: one connect per check, closed immediately, and the reason on failure
 * (`health check: connect ECONNREFUSED`, `health check: timeout after 2s`). Sends no bytes.
 * Never rejects.
 */
import { connect, type Socket } from 'node:net';
import { PROBE_PASSED, errorCode, formatSeconds, type HealthProbe, type ProbeResult } from './probe.js';

export interface TcpProbeOptions {
  /** Connect deadline, ms. */
  readonly timeoutMs: number;
}

export class TcpProbe implements HealthProbe {
  readonly #timeoutMs: number;

  constructor(opts: TcpProbeOptions) {
    this.#timeoutMs = opts.timeoutMs;
  }

  check(host: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
    return new Promise<ProbeResult>((resolve) => {
      let settled = false;
      let socket: Socket | null = null;
      const finish = (result: ProbeResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket?.destroy();
        resolve(result);
      };
      const onAbort = (): void => finish({ ok: false, reason: 'health check: aborted' });
      const timer = setTimeout(() => finish({ ok: false, reason: `health check: timeout after ${formatSeconds(this.#timeoutMs)}` }), this.#timeoutMs);
      timer.unref();
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        socket = connect({ host, port });
      } catch (err) {
        return finish({ ok: false, reason: `health check: ${errorCode(err)}` });
      }
      socket.on('connect', () => finish({ ok: true, reason: PROBE_PASSED }));
      socket.on('error', (err) => finish({ ok: false, reason: `health check: connect ${errorCode(err)}` }));
    });
  }
}
