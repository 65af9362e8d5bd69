/**
 * Loads the optional native addon (native/, docs/decisions/0017-native-data-path.md).
 *
 * Owns: finding and loading the built addon once, and its typed surface. The addon is optional:
 * when it was not built (no compiler on the machine) or `SWITCHYARD_NATIVE=off`, `nativeAddon()`
 * is null and every listener uses the TypeScript data path; `nativeUnavailableReason()` says why.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Callbacks the addon calls, in this order (native/src/engine.cc, enum Cb). */
export interface NativeCallbacks {
  onHead(cid: number, method: string, target: string, versionMinor: number, raw: string[], contentLength: number, keepAlive: boolean, bodyComplete: boolean): boolean;
  onHandover(cid: number, fd: number, pending: Buffer): void;
  onClientClose(cid: number, reason: number, bodyOut: number): void;
  onBodyDone(cid: number): void;
  onBodyTimeout(cid: number): void;
  onUpConnect(uid: number, errno: number): void;
  /**
   * A target's response head, already checked as checkResponseHead checks it (native/src/relay.h).
   * While the call lasts, `respond`, `relayInterim` and `upHeadFields` work on this head.
   * `whole`: the whole response is in hand (no body, or all of a Content-Length body); if
   * `respond` then writes it (`wholeSent()`), no onUpDone follows: the exchange completes now.
   */
  onUpHead(uid: number, status: number, contentLength: number, transferEncoding: boolean, whole: boolean): void;
  onUpDone(uid: number): void;
  onUpError(uid: number, kind: number, stale: boolean, replayable: boolean): void;
}

/** Client close reasons (onClientClose). */
export const enum NativeClose {
  CLOSED = 0,
  WRITE_TIMEOUT = 1,
  IDLE_TIMEOUT = 2,
}

/** Target failures (onUpError). */
export const enum NativeUpError {
  RESET = 0,
  BAD_RESPONSE = 1,
  CONNECT_REFUSED = 2,
  CONNECT_FAILED = 3,
  CONNECT_TIMEOUT = 4,
}

/** How the client's response body is framed (respond). */
export const enum NativeFraming {
  LENGTH = 0,
  CHUNKED = 1,
  CLOSE = 2,
}

export interface NativeAddon {
  init(callbacks: readonly ((...args: never[]) => unknown)[]): void;
  adopt(fd: number, maxHeadBytes: number, maxHeaderFields: number, idleTimeoutMs: number): number;
  clientWrite(cid: number, data: string | Buffer): boolean;
  clientBodyLeft(cid: number): number;
  clientBodyOut(cid: number): number;
  /**
   * The response is complete: the connection goes on to the next request, or (`end`) ends (FIN
   * once the response is out, input dropped, closed after 5 s). Returns the response body bytes
   * relayed for the request.
   */
  clientFinish(cid: number, end: boolean): number;
  clientDestroy(cid: number): void;
  clientShutdown(cid: number): boolean;
  upConnect(pool: number, ip: string, port: number, connectTimeoutMs: number): number;
  upTakeIdle(pool: number): number;
  upRelease(uid: number, maxIdle: number): boolean;
  upDestroy(uid: number): void;
  forward(cid: number, uid: number, head: string, isHeadRequest: boolean): boolean;
  /**
   * The client's response head, built in the addon from the target's head being decided on
   * (its fields less the hop-by-hop ones), framed as `framing` says (with the target's
   * Content-Length line when `contentLengthLine`), then `extra` lines. Returns its length in bytes.
   */
  respond(cid: number, uid: number, framing: NativeFraming, contentLengthLine: boolean, extra: string): number;
  /** Whether the last `respond` wrote the whole response (see onUpHead). */
  wholeSent(): boolean;
  /** Writes the interim (1xx) head being decided on to the client; returns its length in bytes. */
  relayInterim(cid: number, uid: number): number;
  /** The header fields of the head being decided on, flat [name, value, …]. */
  upHeadFields(uid: number): string[];
  counts(): [number, number, number];
  closePool(pool: number): void;
}

let loaded: NativeAddon | null | undefined;
let reason = '';

/** The addon, or null when it is not available (see nativeUnavailableReason). */
export function nativeAddon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env['SWITCHYARD_NATIVE'] === 'off') {
    reason = 'SWITCHYARD_NATIVE=off';
    return null;
  }
  // Three levels up from dist/src/native/ and from the bundle's dist/src/cli/: the package root.
  const file = fileURLToPath(new URL('../../../native/build/Release/switchyard_native.node', import.meta.url));
  try {
    loaded = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    reason = `the native addon is not built (${(err as Error).message.split('\n')[0]}); npm install builds it when g++ and python3 are present`;
  }
  return loaded;
}

export function nativeUnavailableReason(): string {
  nativeAddon();
  return reason;
}
