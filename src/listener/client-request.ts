/**
 * One HTTP request received from a client, from head to the end of its response.
 *
 * Owns: the parsed head, the body chunks held until a target takes them, and the facts the
 * access log reports. Plain data with stable shape; no I/O.
 */
import type { CompiledListener } from '../config/compile.js';

/** Where request body chunks go once a target connection is ready. */
export interface BodySink {
  onBody(chunk: Buffer): void;
  onBodyEnd(): void;
  /** The client went away or the exchange must stop. */
  abort(): void;
}

/**
 * Request body bytes held while no target connection is ready (connecting, retrying); beyond
 * it the client is not read until a target takes the body, so a slow connect cannot make
 * Switchyard buffer an upload.
 */
export const HELD_BODY_LIMIT = 65536;

export class ClientRequest {
  readonly method: string;
  readonly url: string;
  readonly versionMinor: number;
  /** llhttp also accepts 0.9 and 2.x request lines; dispatch answers those 505. */
  versionMajor: number;
  readonly rawHeaders: string[];
  /** Arrived as an HTTP/2 stream (framing facts were set from the stream, not headers). */
  http2: boolean;
  /** llhttp's verdict from the version and Connection headers. */
  readonly keepAlive: boolean;
  readonly upgrade: boolean;
  /** The listener config this request is served by, pinned at its start. */
  readonly listener: CompiledListener;
  /** Content-Length, or -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Body chunks not yet handed to a sink. */
  bodyChunks: Buffer[];
  /** Bytes in bodyChunks. */
  heldBytes: number;
  /** Reading was paused because too much body was held before a target was ready. */
  holdPaused: boolean;
  bodyBytes: number;
  bodyComplete: boolean;
  sink: BodySink | null;
  /** Bytes that followed an upgrade request's head (tunnel data, sent after the 101). */
  upgradeHead: Buffer | null;
  /**
   * Close the client connection after this response, and never reuse the target connection
   * that carried it (an ambiguous request in `desyncMitigation: defensive`, docs/decisions/0009).
   */
  closeConnection: boolean;
  /**
   * The native data path's scanner admitted the head: its clean subset is one the desync
   * classifier calls compliant (test/unit/native/request-head.test.ts checks exactly that), so
   * dispatch does not classify it again.
   */
  scannedClean: boolean;

  // Access log facts.
  readonly startMs: number;
  dispatchMs: number;
  responseHeadMs: number;
  host: string;
  path: string;
  rulePriority: number;
  targetGroup: string;
  target: string;
  status: number;
  error: string;
  bytesIn: number;
  bytesOut: number;
  /** How the response body is framed to the client (Downstream's choice; 0 until a head). */
  responseFraming: number;
  /** The connection stays open after this response (decided with the response head). */
  responseKeepAlive: boolean;
  /** The response has started on the wire (head written). */
  responseStarted: boolean;
  finished: boolean;
  /**
   * `Set-Cookie` values Switchyard adds to the target's response head (stickiness); null when
   * none, so the non-sticky path allocates nothing.
   */
  setCookies: string[] | null;

  constructor(
    method: string,
    url: string,
    versionMinor: number,
    rawHeaders: string[],
    keepAlive: boolean,
    upgrade: boolean,
    listener: CompiledListener,
    startMs: number,
  ) {
    this.method = method;
    this.url = url;
    this.versionMinor = versionMinor;
    this.versionMajor = 1;
    this.rawHeaders = rawHeaders;
    this.http2 = false;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.listener = listener;
    this.contentLength = -1;
    this.chunked = false;
    this.bodyChunks = [];
    this.heldBytes = 0;
    this.holdPaused = false;
    this.bodyBytes = 0;
    this.bodyComplete = false;
    this.sink = null;
    this.upgradeHead = null;
    this.closeConnection = false;
    this.scannedClean = false;
    this.startMs = startMs;
    this.dispatchMs = 0;
    this.responseHeadMs = 0;
    this.host = '';
    this.path = url;
    this.rulePriority = 0;
    this.targetGroup = '';
    this.target = '';
    this.status = 0;
    this.error = '';
    this.bytesIn = headSize(method, url, rawHeaders);
    this.bytesOut = 0;
    this.responseFraming = 0;
    this.responseKeepAlive = false;
    this.responseStarted = false;
    this.finished = false;
    this.setCookies = null;
  }

  /** Adds a `Set-Cookie` value for the response head (stickiness, targets/stickiness/). */
  addSetCookie(value: string): void {
    (this.setCookies ??= []).push(value);
  }

  /** Moves the held body chunks to `sink` and streams the rest straight to it. */
  /**
   * Holds a body chunk that arrived before a target was ready. Returns true when the held bytes
   * passed HELD_BODY_LIMIT and the caller must stop reading (the sink resumes it on attach).
   */
  hold(chunk: Buffer): boolean {
    this.bodyChunks.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= HELD_BODY_LIMIT || this.holdPaused) return false;
    this.holdPaused = true;
    return true;
  }

  attach(sink: BodySink): void {
    this.sink = sink;
    const held = this.bodyChunks;
    this.bodyChunks = [];
    this.heldBytes = 0;
    for (let i = 0; i < held.length; i++) sink.onBody(held[i]!);
    if (this.bodyComplete) sink.onBodyEnd();
  }

  detach(): void {
    this.sink = null;
  }
}

/** Bytes of a request head as received (request line, fields, CRLFs), for the access log. */
function headSize(method: string, url: string, raw: readonly string[]): number {
  // "METHOD SP url SP HTTP/1.x CRLF"
  let n = method.length + 1 + url.length + 1 + 8 + 2;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length + 2;
  return n + 2;
}
