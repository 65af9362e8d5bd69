/**
 * What a client connection needs from the listener that accepted it.
 *
 * Owns: the interface only, so http-connection.ts does not depend on the listener class.
 */
import type { CompiledListener } from '../config/compile.js';
import type { ClientConnection } from './http-connection.js';
import type { Downstream } from '../proxy/downstream.js';
import type { ClientRequest } from './client-request.js';
import type { HttpParseError } from '../proxy/http-parser.js';
import type { ProxyErrorKind } from '../proxy/errors.js';

/** A client connection as its listener tracks it (TypeScript or native data path). */
export interface ListenerConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Nothing in flight. */
  readonly idle: boolean;
  destroy(): void;
  /** Close now when idle, else after the current response. */
  shutdown(): void;
}

export interface ListenerContext {
  /** The listener's current compiled config; a request pins it when its head arrives. */
  readonly listener: CompiledListener;
  /** Shutting down: responses carry Connection: close. */
  readonly draining: boolean;
  /** A request head was parsed (framing facts are read here, before any body arrives). */
  inspectHead(conn: ClientConnection, req: ClientRequest): void;
  /** Start producing the response to `req` (its turn has come). */
  dispatch(conn: Downstream, req: ClientRequest): void;
  /** The response to `req` is done (or the client left): log and count it. */
  onRequestDone(conn: Downstream, req: ClientRequest): void;
  onParseError(conn: ClientConnection, err: HttpParseError): void;
  /** An error answered before any request could be formed (bad head, head timeout). */
  onLocalError(conn: ClientConnection, kind: ProxyErrorKind): void;
  onConnectionClosed(conn: ListenerConnection): void;
}
