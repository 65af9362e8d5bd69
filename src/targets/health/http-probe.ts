/**
 * HTTP and HTTPS health probes: `GET <path>` to the target, verdict by status code.
 *
 * Owns: one request per check on a fresh connection (`agent: false`, `Connection: close`, so a
 * check never shares or pins a pooled connection), `Host: host:port`, the whole-check deadline
 * (`timeoutSeconds`, connect + head + body), reading and discarding the body, and the reason.
 * HTTPS probes do NOT verify the target's certificate (targets often have self-signed or
 * internal-CA certificates, as cloud load balancers also assume); the check proves the target
 * answers over TLS, not its identity. Never rejects; never throws for target behaviour.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { formatTargetId } from '../target.js';
import { compileStatusMatcher, type StatusMatcher } from './matcher.js';
import { PROBE_PASSED, errorCode, runProbe, type HealthProbe, type ProbeResult } from './probe.js';

export interface HttpProbeOptions {
  /** HTTPS (certificate not verified) instead of HTTP. */
  readonly tls: boolean;
  /** Absolute path, with an optional query. */
  readonly path: string;
  /** Healthy status codes, e.g. `200-399,404`. */
  readonly matcher: string;
  /** Deadline for the whole check, ms. */
  readonly timeoutMs: number;
}

const USER_AGENT = 'switchyard-health-check';

export class HttpProbe implements HealthProbe {
  readonly #tls: boolean;
  readonly #path: string;
  readonly #matcher: StatusMatcher;
  readonly #timeoutMs: number;

  constructor(opts: HttpProbeOptions) {
    this.#tls = opts.tls;
    this.#path = opts.path;
    this.#matcher = compileStatusMatcher(opts.matcher);
    this.#timeoutMs = opts.timeoutMs;
  }

  check(host: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
    return runProbe(this.#timeoutMs, signal, (finish, onSettle) => {
      let connected = false;
      let req: ClientRequest;

      const options: RequestOptions & { rejectUnauthorized?: boolean } = {
        host,
        port,
        method: 'GET',
        path: this.#path,
        agent: false,
        headers: { host: formatTargetId(host, port), 'user-agent': USER_AGENT, accept: '*/*', connection: 'close' },
      };
      // Deliberate: targets' certificates are not verified (see the module comment).
      if (this.#tls) options.rejectUnauthorized = false;
      try {
        req = this.#tls ? httpsRequest(options) : httpRequest(options);
      } catch (err) {
        // Invalid host or port: fail the check rather than the checker.
        finish({ ok: false, reason: `health check: ${errorCode(err)}` });
        return;
      }
      onSettle(() => req.destroy());
      req.on('socket', (socket: Socket) => {
        socket.once(this.#tls ? 'secureConnect' : 'connect', () => {
          connected = true;
        });
      });
      req.on('error', (err) => finish({ ok: false, reason: `health check: ${connected ? '' : 'connect '}${errorCode(err)}` }));
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const verdict: ProbeResult = this.#matcher.test(status)
          ? { ok: true, reason: PROBE_PASSED }
          : { ok: false, reason: `health check: status ${status} not in ${this.#matcher.source}` };
        // The verdict is the status, but the check ends when the body has been read (discarded),
        // so a target that sends a head and then stalls fails by timeout.
        res.on('end', () => finish(verdict));
        res.on('error', (err) => finish({ ok: false, reason: `health check: response ${errorCode(err)}` }));
        res.on('close', () => {
          if (!res.complete) finish({ ok: false, reason: 'health check: response body cut short' });
        });
        res.resume();
      });
      req.end();
    });
  }
}
