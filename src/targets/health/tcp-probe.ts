/**
 * TCP health probe: the check passes when a connection is established within the timeout.
 *
 * Owns: one connect per check, closed immediately, and the reason on failure
 * (`health check: connect ECONNREFUSED`, `health check: timeout after 2s`). Sends no bytes.
 * Never rejects.
 */
import { connect, type Socket } from 'node:net';
import { PROBE_PASSED, errorCode, runProbe, type HealthProbe, type ProbeResult } from './probe.js';

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
    return runProbe(this.#timeoutMs, signal, (finish, onSettle) => {
      let socket: Socket;
      try {
        socket = connect({ host, port });
      } catch (err) {
        finish({ ok: false, reason: `health check: ${errorCode(err)}` });
        return;
      }
      onSettle(() => socket.destroy());
      socket.on('connect', () => finish({ ok: true, reason: PROBE_PASSED }));
      socket.on('error', (err) => finish({ ok: false, reason: `health check: connect ${errorCode(err)}` }));
    });
  }
}
