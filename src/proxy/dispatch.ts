/**
 * What happens to one request once its head is parsed: checks, routing, and the action.
 *
 * Owns: the request-level checks of SPEC §5 that llhttp does not make (URI length → 414, header
 * count → 431, Host present and single → 400, request-target form, path normalisation → 400,
 * Transfer-Encoding other than plain chunked → 501/400, body size → 413, X-Forwarded-For
 * length → 463), the desync verdict (framing.ts, applied per `settings.desyncMitigation`,
 * docs/decisions/0009), matching on the listener's compiled rules, the listener's and the
 * matched rule's protections (src/protection/, docs/decisions/0010), and running the winning
 * action. Routing and forwarding see the same normalised path (docs/decisions/0002).
 */
import type { Downstream } from './downstream.js';
import type { ClientRequest } from '../listener/client-request.js';
import type { CompiledAction, CompiledForward } from '../config/compile.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { RequestView } from '../router/request-view.js';
import { normalizePath, splitTarget } from '../router/path-normalize.js';
import { ProxyErrors } from './errors.js';
import { H, countForwardedFor, headerCode } from './headers.js';
import { chooseTargetGroup } from '../actions/choose-target-group.js';
import { Exchange, type ExchangeOptions } from './exchange.js';
import { hashKeyOf } from '../targets/hash-key.js';
import { protocolFits } from './grpc.js';
import { chooseStickyGroup } from '../targets/stickiness/group-stickiness.js';
import { COMPLIANT, classifyRequest, stripLookAlikeHeaders, type Classification } from './framing.js';
import { Guard, guardRequest, inspectBody, type ProtectionReporter } from '../protection/protection.js';

const MAX_FORWARDED_FOR = 30;

/** Facts a listener gives every request it dispatches. */
export interface DispatchContext {
  readonly proto: 'http' | 'https';
  /** The bound port, as a string for X-Forwarded-Port and redirects. */
  readonly port: string;
  readonly onTargetResponse: ExchangeOptions['onTargetResponse'];
  /** Told about every request that is not compliant, and what was done with it (logs, metrics). */
  readonly onDesync: ((req: ClientRequest, verdict: Classification, outcome: DesyncOutcome) => void) | null;
  /** Told about every protection hit (logs, metrics). */
  readonly protection: ProtectionReporter | null;
}

/** What desync mitigation did with a non-compliant request. */
export type DesyncOutcome = 'refused' | 'forwarded_then_closed' | 'forwarded';

/**
 * Applies `settings.desyncMitigation` to a non-compliant verdict. Severe: refused (400, close)
 * in every mode. Strictest: acceptable and ambiguous refused too. Defensive: ambiguous requests
 * are forwarded (re-framed, as every request is) and then both the client and the target
 * connection are closed. Monitor: forwarded, only counted and logged. Returns true when the
 * request was refused.
 */
function mitigateDesync(conn: Downstream, req: ClientRequest, v: Classification, dc: DispatchContext): boolean {
  const mode = req.listener.settings.desyncMitigation;
  if (v.tier === 'severe' || mode === 'strictest') {
    dc.onDesync?.(req, v, 'refused');
    const kind = v.reason === 'DuplicateHost' || v.reason === 'HostMismatch' ? ProxyErrors.BAD_HOST : ProxyErrors.DESYNC_REFUSED;
    conn.replyError(req, kind, true);
    return true;
  }
  // Whatever the mode, a forwarded request never carries a look-alike framing header.
  if (v.tier === 'ambiguous') stripLookAlikeHeaders(req.rawHeaders);
  if (v.tier === 'ambiguous' && mode === 'defensive') {
    req.closeConnection = true;
    dc.onDesync?.(req, v, 'forwarded_then_closed');
    return false;
  }
  dc.onDesync?.(req, v, 'forwarded');
  return false;
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
  const verdict = req.scannedClean ? COMPLIANT : classifyRequest(req.method, req.versionMajor, req.versionMinor, req.url, req.rawHeaders);
  if (verdict !== COMPLIANT && mitigateDesync(conn, req, verdict, dc)) return;

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
  const path = normalizePath(split.path, settings.mergeSlashes);
  if (path === null) return conn.replyError(req, ProxyErrors.BAD_PATH, true);
  req.host = host;
  req.path = path;

  if (req.chunked && !req.http2) {
    // llhttp accepts "gzip, chunked"; the classifier let it through (valid codings), but only a
    // plain chunked is supported. HTTP/1.0 with TE was judged by the classifier (ambiguous).
    if (!transferEncodingIsPlainChunked(raw)) return conn.replyError(req, ProxyErrors.NOT_IMPLEMENTED, true);
  }
  if (settings.maxRequestBodyBytes > 0 && req.contentLength > settings.maxRequestBodyBytes) {
    return conn.replyError(req, ProxyErrors.BODY_TOO_LARGE, true);
  }
  if (countForwardedFor(raw) > MAX_FORWARDED_FOR) return conn.replyError(req, ProxyErrors.XFF_TOO_LONG, true);

  const view = new RequestView(req.method, host, path, split.query, raw, conn.remoteAddress);
  const result = req.listener.matcher.match(view);
  req.rulePriority = result.priority;
  const lp = req.listener.protection;
  const byRule = req.listener.ruleProtection;
  const rp = byRule === null ? null : (byRule.get(result.priority) ?? null);
  if (lp !== null || rp !== null) {
    const g = guardRequest(conn, req, view, lp, rp, result.priority, dc.protection);
    if (g === Guard.BLOCKED) return;
    if (g === Guard.INSPECT_BODY) {
      const action = result.action;
      const query = split.query;
      inspectBody(conn, req, view, lp, rp, result.priority, dc.protection, () => runAction(conn, req, action, view, query, dc));
      return;
    }
  }
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

/** The plain weighted draw, as the sticky choice's fallback. */
function drawGroup(action: CompiledForward): TargetGroupRuntime {
  return chooseTargetGroup(action);
}

function forward(conn: Downstream, req: ClientRequest, action: CompiledForward, view: RequestView, dc: DispatchContext): void {
  // Group stickiness only for forwards that have it (compiled null otherwise): no cookie read.
  const sticky = action.groupStickiness;
  const group = sticky === null ? chooseTargetGroup(action) : chooseStickyGroup(action, drawGroup, sticky, view, dc.proto === 'https', req);
  req.targetGroup = group.name;
  // gRPC only to GRPC groups, and nothing else to them (SPEC §5: 464).
  if (!protocolFits(req, group.spec.protocolVersion)) return conn.replyError(req, ProxyErrors.INCOMPATIBLE_PROTOCOL);
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
    view,
  });
  exchange.start();
}

function isWebSocketUpgrade(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (headerCode(raw[i]!) === H.UPGRADE && raw[i + 1]!.trim().toLowerCase() === 'websocket') return true;
  }
  return false;
}
