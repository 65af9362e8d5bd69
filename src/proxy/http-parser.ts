/**
 * A typed handle on Node's own llhttp binding (the parser behind node:http).
 *
 * Owns: loading the binding and describing its callback contract. Switchyard frames HTTP/1.1
 * itself on raw sockets (docs/decisions/0001-http-engine.md) but never parses by hand: llhttp in
 * strict mode is the proven parser that node:http uses, with the same CVE fixes.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Callback slots and constants of the binding (see node/lib/_http_common.js). */
export interface HttpParserBinding {
  new (): HttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
  readonly kLenientNone: number;
}

/** Error object returned (not thrown) by execute() on a parse failure. */
export interface HttpParseError extends Error {
  readonly code: string;
  readonly reason: string;
  readonly bytesParsed: number;
}

export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Returns bytes parsed, or an Error (never throws for bad input). */
  execute(data: Buffer): number | HttpParseError;
  finish(): undefined | HttpParseError;
  close(): void;
  free(): void;
  remove(): void;
  [slot: number]: unknown;
}

/**
 * kOnHeadersComplete(versionMajor, versionMinor, headers, method, url, statusCode,
 * statusMessage, upgrade, shouldKeepAlive) → 0 parse the body, 1 skip the body (HEAD),
 * 2 skip the body and stop as an upgrade.
 * `headers` and `url` are undefined when the binding already flushed them through kOnHeaders
 * (more than 32 header fields); callers must accumulate kOnHeaders calls.
 */
export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

const common = require('_http_common') as { HTTPParser: HttpParserBinding; methods: string[] };

export const HTTPParser: HttpParserBinding = common.HTTPParser;
/** Method names indexed by the binding's method number. */
export const METHODS: readonly string[] = common.methods;

export const kOnMessageBegin = HTTPParser.kOnMessageBegin;
export const kOnHeaders = HTTPParser.kOnHeaders;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete;
export const kOnBody = HTTPParser.kOnBody;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete;
export const kOnExecute = HTTPParser.kOnExecute;
export const LENIENT_NONE = HTTPParser.kLenientNone;

/** The parser reports a header block larger than maxHeaderSize with this code. */
export const HPE_HEADER_OVERFLOW = 'HPE_HEADER_OVERFLOW';
