/**
 * The client side of a request, as the forwarding code sees it: whatever the client speaks
 * (HTTP/1.1 on a raw socket, or an HTTP/2 stream), an Exchange and dispatch talk to it only
 * through this interface.
 *
 * Owns: the contract only. Implementations decide framing (Content-Length, chunked, close
 * delimited, HTTP/2 DATA frames), connection reuse, and backpressure signalling.
 */
import type net from 'node:net';
import type { ClientRequest } from '../listener/client-request.js';
import type { ProxyErrorKind } from './errors.js';
import type { CompiledFixedResponse } from '../config/compile.js';

export interface Downstream {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Shutting down: responses close the connection (HTTP/1.1) or the session winds down (h2). */
  readonly draining: boolean;
  /** Header lines added to the forwarded request (client-certificate facts); '' usually. */
  readonly extraRequestHeaders: string;
  /** Lowercased header names clients may not send to targets (stripped); null when none. */
  readonly reservedRequestHeaders: ReadonlySet<string> | null;
  /** Whether a WebSocket upgrade can be tunnelled (HTTP/1.1 only). */
  readonly canUpgrade: boolean;

  /** Answers `req` with a generated error (SPEC §5). */
  replyError(req: ClientRequest, kind: ProxyErrorKind, close?: boolean, extra?: readonly (readonly [string, string])[]): void;
  /** Answers `req` with a pre-compiled fixed response. */
  replyFixed(req: ClientRequest, action: CompiledFixedResponse): void;
  /** Answers `req` with a redirect. */
  replyRedirect(req: ClientRequest, statusCode: number, location: string): void;

  /** A 1xx (not 101) response from the target, relayed when the client can take it. */
  relayInterim(req: ClientRequest, statusCode: number, statusMessage: string, raw: readonly string[]): void;
  /** The target's final response head. `noBody`: HEAD, 204, 304. */
  relayHead(req: ClientRequest, statusCode: number, statusMessage: string, raw: readonly string[], noBody: boolean): void;
  /** A piece of the response body; false means wait for `onDrain`. */
  relayBody(req: ClientRequest, chunk: Buffer): boolean;
  /** The response is complete; `trailers` as flat [name, value…] or null. */
  relayEnd(req: ClientRequest, trailers: readonly string[] | null): void;
  /** The response cannot be completed: the client must see the cut (never padded). */
  abortResponse(req: ClientRequest): void;
  /** Calls `cb` once when the client can take more after relayBody returned false. */
  onDrain(cb: () => void): void;

  /** Request body backpressure. */
  pauseReading(): void;
  resumeReading(): void;

  /** HTTP/1.1 only: hands the raw client socket over after a 101; `req` is done. */
  enterTunnel(req: ClientRequest): net.Socket;

  /**
   * A connection with one exchange at a time may lend it a response timer (a Deadline it keeps),
   * so no timer is created per request; without one the exchange uses its own setTimeout.
   */
  readonly responseTimer?: ResponseTimer;
}

export interface ResponseTimer {
  arm(exchange: { onResponseTimeout(): void }, ms: number): void;
  /** Clears the timer if `exchange` armed it. */
  clear(exchange: { onResponseTimeout(): void }): void;
}
