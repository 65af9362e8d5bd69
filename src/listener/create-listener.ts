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

export function createListener(compiled: CompiledListener, accessLog: AccessLog, log: Logger, hooks: ListenerHooks): Listener {
  switch (compiled.protocol) {
    case 'TCP':
      return new TcpListener(compiled, log, hooks);
    case 'UDP':
      return new UdpListener(compiled, log, hooks);
    default:
      return new HttpListener(compiled, accessLog, log, hooks);
  }
}
