/**
 * Builds the listener for a compiled listener's protocol. The only place that knows which class
 * serves which protocol; Switchyard holds them all as `Listener`.
 */
import type { CompiledListener } from '../config/compile.js';
import type { AccessLog } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { Listener } from './listener.js';
import { HttpListener, type ListenerHooks } from './http-listener.js';
import { TcpListener } from './tcp-listener.js';
import { UdpListener } from './udp-listener.js';
import { TlsTerminator } from '../tls/tls-terminator.js';

/**
 * Throws a readable Error when the listener cannot be built (an HTTPS certificate that does not
 * load); `baseDir` resolves relative certificate paths (the config file's directory).
 */
export function createListener(compiled: CompiledListener, accessLog: AccessLog, log: Logger, hooks: ListenerHooks, baseDir: string): Listener {
  switch (compiled.protocol) {
    case 'HTTPS':
      return new HttpListener(compiled, accessLog, log, hooks, new TlsTerminator(compiled.resolved, baseDir, log));
    case 'TCP':
      return new TcpListener(compiled, log, hooks);
    case 'UDP':
      return new UdpListener(compiled, log, hooks);
    default:
      return new HttpListener(compiled, accessLog, log, hooks);
  }
}
