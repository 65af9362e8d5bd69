/**
 * What happens to one request once its head is parsed: checks, routing, and the action.
 *
 * Owns: the request-level checks of SPEC §5 that llhttp does not make (URI length → 414, header
 * count → 431, Host present and single → 400, request-target form, path normalisation → 400,
 * Transfer-Encoding other than plain chunked → 501/400, body size → 413, X-Forwarded-For
 * length → 463), matching on the listener's compiled rules, and running the winning action.
 * Routing and forwarding see the same normalised path (docs/decisions/0002).
 */
import type { Downstream } from './downstream.js';
import type { ClientRequest } from '../listener/client-request.js';
import type { CompiledAction, CompiledForward } from '../config/compile.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { RequestView } from '../router/request-view.js';
import { normalizePath, splitTarget } from '../router/path-normalize.js';
import { ProxyErrors } from './errors.js';
import { H, countForwardedFor, headerCode } from './headers.js';
import { Exchange, type ExchangeOptions } from './exchange.js';
import { hashKeyOf } from '../targets/hash-key.js';

const MAX_FORWARDED_FOR = 30;

/** Facts a listener gives every request it dispatches. */
export interface DispatchContext {
  readonly proto: 'http' | 'https';
  /** The bound port, as a string for X-Forwarded-Port and redirects. */
  readonly port: string;
  readonly onTargetResponse: ExchangeOptions['onTargetResponse'];
}

/** Reads framing facts from the raw head: Content-Length and Transfer-Encoding. */
export function readFraming(req: ClientRequest): void {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const code = headerCode(raw[i]!);
    if (code === H.CONTENT_LENGTH) req.contentLength = Number(raw[i + 1]!.trim());
    else if (code === H.TRANSFER_ENCODING) req.chunked = true;
  }
  // No body to wait for: the request is complete with its head.
  if (!req.chunked && req.contentLength <= 0) req.bodyComplete = true;
}

function transferEncodingIsPlainChunked(raw: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (headerCode(raw[i]!) !== H.TRANSFER_ENCODING) continue;
    seen++;
    if (raw[i + 1]!.trim().toLowerCase() !== 'chunked') return false;
  }
  return seen === 1;
}

/** The Host header value; null when missing (HTTP/1.1) or given twice. */
function singleHost(raw: readonly string[]): string | null | undefined {
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (headerCode(raw[i]!) !== H.HOST) continue;
    if (host !== undefined) return null;
    host = raw[i + 1]!;
  }
  return host;
}

const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d{0,5})?$/;

export function dispatchRequest(conn: Downstream, req: ClientRequest, dc: DispatchContext): void {
  const settings = req.listener.settings;
  if (req.versionMajor !== 1) return conn.replyError(req, ProxyErrors.BAD_VERSION, true);
  if (req.url.length > settings.maxUriBytes) return conn.replyError(req, ProxyErrors.URI_TOO_LONG, true);
  if (req.rawHeaders.length > settings.maxRequestHeaderCount * 2) return conn.replyError(req, ProxyErrors.HEADERS_TOO_LARGE, true);
  if (req.method === 'CONNECT') return conn.replyError(req, ProxyErrors.NOT_IMPLEMENTED, true);

  const raw = req.rawHeaders;
  let host = singleHost(raw);
  if (host === null || (host === undefined && req.versionMinor >= 1)) return conn.replyError(req, ProxyErrors.BAD_HOST, true);
  host ??= '';
  if (!VALID_HOST.test(host)) return conn.replyError(req, ProxyErrors.BAD_HOST, true);

  let url = req.url;
  if (url.charCodeAt(0) !== 47 /* / */) {
    // Absolute form (a client talking to us as to a proxy): its authority must agree with Host.
    const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
    if (m === null) return conn.replyError(req, ProxyErrors.BAD_REQUEST, true);
    if (m[1]!.toLowerCase() !== host.toLowerCase()) return conn.replyError(req, ProxyErrors.BAD_HOST, true);
    url = m[2] === '' ? '/' : m[2]!;
  }
  const split = splitTarget(url);
  if (split === null) return conn.replyError(req, ProxyErrors.BAD_REQUEST, true);
  const path = normalizePath(split.path);
  if (path === null) return conn.replyError(req, ProxyErrors.BAD_PATH, true);
  req.host = host;
  req.path = path;

  if (req.chunked && !req.http2) {
    // llhttp accepts "gzip, chunked" and ",chunked"; only a plain chunked is framed unambiguously.
    if (req.versionMinor === 0) return conn.replyError(req, ProxyErrors.AMBIGUOUS_FRAMING, true);
    if (!transferEncodingIsPlainChunked(raw)) return conn.replyError(req, ProxyErrors.NOT_IMPLEMENTED, true);
  }
  if (settings.maxRequestBodyBytes > 0 && req.contentLength > settings.maxRequestBodyBytes) {
    return conn.replyError(req, ProxyErrors.BODY_TOO_LARGE, true);
  }
  if (countForwardedFor(raw) > MAX_FORWARDED_FOR) return conn.replyError(req, ProxyErrors.XFF_TOO_LONG, true);

  const view = new RequestView(req.method, host, path, split.query, raw, conn.remoteAddress);
  const result = req.listener.matcher.match(view);
  req.rulePriority = result.priority;
  runAction(conn, req, result.action, view, split.query, dc);
}

function runAction(conn: Downstream, req: ClientRequest, action: CompiledAction, view: RequestView, query: string, dc: DispatchContext): void {
  switch (action.kind) {
    case 'fixedResponse':
      conn.replyFixed(req, action);
      return;
    case 'redirect': {
      const r = action.redirect.render({ protocol: dc.proto, host: view.host, port: dc.port, path: view.path, query });
      conn.replyRedirect(req, r.statusCode, r.location);
      return;
    }
    case 'forward':
      forward(conn, req, action, view, dc);
      return;
  }
}

function chooseGroup(action: CompiledForward): TargetGroupRuntime {
  const groups = action.groups;
  if (groups.length === 1) return groups[0]!;
  const draw = Math.random() * action.totalWeight;
  const cumulative = action.cumulativeWeights;
  for (let i = 0; i < cumulative.length; i++) if (draw < cumulative[i]!) return groups[i]!;
  return groups[groups.length - 1]!;
}

function forward(conn: Downstream, req: ClientRequest, action: CompiledForward, view: RequestView, dc: DispatchContext): void {
  const group = chooseGroup(action);
  req.targetGroup = group.name;
  let path = view.path;
  if (action.rewrite !== null) path = path.replace(action.rewrite.regex, action.rewrite.replace);
  if (path.charCodeAt(0) !== 47) path = '/' + path;
  const websocket = req.upgrade && conn.canUpgrade && isWebSocketUpgrade(req.rawHeaders);
  // Only consistent_hash groups have a hashOn: no other algorithm pays for a key.
  const hashOn = group.hashOn;
  const exchange = new Exchange(conn, req, action, group, {
    path,
    query: view.query,
    hashKey: hashOn === null ? '' : hashKeyOf(hashOn, view),
    websocket,
    listenerProto: dc.proto,
    listenerPort: dc.port,
    onTargetResponse: dc.onTargetResponse,
  });
  exchange.start();
}

function isWebSocketUpgrade(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (headerCode(raw[i]!) === H.UPGRADE && raw[i + 1]!.trim().toLowerCase() === 'websocket') return true;
  }
  return false;
}
