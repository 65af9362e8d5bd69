/**
 * `switchyard explain FILE 'METHOD URL' [-H 'Name: value']… [--source-ip IP] [--cookie k=v]…
 * [--admin URL [--admin-token T]] [--json]` (SPEC §1): which listener and rule a request would
 * meet, why each earlier rule did not match, the action, the weighted group draw, stickiness,
 * and the targets the algorithm would pick from, with live health from a running instance's
 * admin API when `--admin` is given.
 *
 * Owns: the explain subcommand's arguments, building its report, and its exit code (0 when a
 * listener was explained, 1 for an invalid config or no HTTP listener, 2 for usage errors).
 * Everything the data path decides is asked of the data path's own code: the config is
 * loaded, validated, defaulted and compiled with `compileRuntime` exactly as `Switchyard`
 * does, the request goes through `splitTarget`/`normalizePath` into a `RequestView` as in
 * proxy/dispatch.ts, rules are evaluated by the compiled `matcher.explain`, the usable set
 * comes from `TargetGroupRuntime` (given live states by explain-live.ts with `--admin`) and the
 * hash key from targets/hash-key.ts. The text layout is explain-format.ts.
 * Must not: start health probes or bind ports (groups are built with `healthChecks: false`
 * and closed before returning), or change anything in a running instance (the admin API is
 * only read). Output goes through the injected writers, so tests need no process.
 */
import { isIP } from 'node:net';
import { compileRuntime, type CompiledAction, type CompiledForward, type CompiledListener } from '../config/compile.js';
import { withDefaults, type ResolvedAction, type ResolvedListener } from '../config/defaults.js';
import { formatConfigError } from '../config/errors.js';
import { loadConfigFile } from '../config/load.js';
import type { RuleTrace } from '../router/matcher.js';
import { normalizePath, splitTarget } from '../router/path-normalize.js';
import { RequestView } from '../router/request-view.js';
import { weightedCandidates } from '../targets/balancers/balancer.js';
import { describeHashOn, hashKeyOf } from '../targets/hash-key.js';
import { TargetGroupRuntime } from '../targets/target-group.js';
import type { Target, TargetState } from '../targets/target.js';
import { parseArgs, option } from './args.js';
import { formatExplainReport } from './explain-format.js';
import { applyLiveStatus } from './explain-live.js';
import { StickyCodec, type DecodedCookie } from '../targets/stickiness/cookie-codec.js';
import { decideStickyGroup, decideStickyTarget, type StickyVerdict } from '../targets/stickiness/sticky-decision.js';
import { readGroupCookie } from '../targets/stickiness/group-stickiness.js';
import { GROUP_COOKIE, unquote } from '../targets/stickiness/sticky-cookies.js';

export const EXPLAIN_USAGE = `usage: switchyard explain FILE 'METHOD URL' [-H 'Name: value']... [--source-ip IP]
                          [--cookie name=value]... [--admin URL [--admin-token T]] [--json]`;

const EXIT_OK = 0;
const EXIT_CONFIG = 1;
const EXIT_USAGE = 2;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The request to explain, as given on the command line (already checked for syntax). */
export interface ExplainRequest {
  readonly method: string;
  /** The URL as given. */
  readonly url: string;
  readonly scheme: 'http' | 'https';
  /** The port the request is sent to: the URL's, or 80/443 (null for a path-only URL). */
  readonly port: number | null;
  /** The Host header value (from -H Host, else the URL's authority). */
  readonly hostHeader: string;
  /** Request target in origin form (`/path?query`), fragment removed. */
  readonly target: string;
  /** Flat `[name, value, …]` as a client would send them: Host, the -H headers, Cookie. */
  readonly rawHeaders: readonly string[];
  readonly sourceIp: string;
}

export interface ExplainInput {
  readonly file: string;
  readonly request: ExplainRequest;
  /** Base URL of a running instance's admin API, or null. */
  readonly admin: string | null;
  readonly adminToken: string | null;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ExplainedTarget {
  readonly id: string;
  readonly weight: number;
  /** Live state with `--admin`; otherwise null (unknown). */
  readonly state: TargetState | null;
  readonly reason: string | null;
  readonly inFlight: number | null;
  /** In the set the algorithm picks from: usable (or failing open) and not weight 0. */
  readonly candidate: boolean;
  /** Expected share of this group's requests (0–1) under the algorithm; 0 if not a candidate. */
  readonly share: number;
}

/** How a request's sticky cookie would be treated (the data path's own decision). */
export interface ExplainedStickyCookie {
  /** SWITCHYARD, SWITCHYARD_APP or SWITCHYARDTG. */
  readonly cookie: string;
  /** The decision's verdict; `not checked` when the config has no stickinessSecret to check with. */
  readonly verdict: StickyVerdict | 'not checked';
  /** The target (or group) the cookie names, when it could be read. */
  readonly names: string | null;
  /** Seconds left before the cookie's entry expires (negative: expired); null when unread. */
  readonly expiresInSeconds: number | null;
  /** What happens, in words. */
  readonly detail: string;
}

export interface ExplainedGroup {
  readonly name: string;
  readonly algorithm: string;
  /** How the algorithm chooses among the candidates. */
  readonly picks: string;
  /** `header X-User-Id`, …; null unless consistent_hash. */
  readonly hashOn: string | null;
  /** The request's key; null unless consistent_hash ('' when absent). */
  readonly hashKey: string | null;
  /** `live` (from --admin), `unknown` (no --admin) or `not running` (absent from the instance). */
  readonly health: 'live' | 'unknown' | 'not running';
  /** No candidate is healthy: all registered targets are used (SPEC §4). */
  readonly failOpen: boolean;
  readonly stickiness: string;
  /** The request's target cookie, judged; null when the group has no stickiness. */
  readonly stickyCookie: ExplainedStickyCookie | null;
  readonly targets: readonly ExplainedTarget[];
  /**
   * The target picked now when that is determined: the sticky target when the cookie is
   * honoured, else the consistent_hash target for a key.
   */
  readonly pick: string | null;
}

export type ExplainedAction =
  | { readonly kind: 'fixedResponse'; readonly statusCode: number; readonly contentType: string; readonly body: string }
  | { readonly kind: 'redirect'; readonly statusCode: number; readonly location: string }
  | {
      readonly kind: 'forward';
      /** The path the target receives (after rewritePath). */
      readonly path: string;
      /** The weighted draw between groups: weight and share (0–1) of each. */
      readonly groups: readonly { readonly name: string; readonly weight: number; readonly share: number }[];
      /** Group-level stickiness of the forward. */
      readonly stickiness: string;
      /** The request's SWITCHYARDTG, judged; null without group stickiness. */
      readonly stickyCookie: ExplainedStickyCookie | null;
      readonly targetGroups: readonly ExplainedGroup[];
    };

export interface ExplainReport {
  readonly file: string;
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly host: string;
    readonly path: string;
    readonly query: string;
    readonly sourceIp: string;
    readonly headers: readonly (readonly [string, string])[];
  };
  readonly listener: {
    readonly name: string;
    readonly protocol: string;
    readonly host: string;
    readonly port: number;
    /** Why this listener: `port` (URL port and scheme), or a fallback. */
    readonly selectedBy: 'port' | 'first listener for the scheme' | 'first HTTP listener';
  };
  /** The request would be refused before routing (400), with why; else null. */
  readonly refused: { readonly status: number; readonly reason: string } | null;
  readonly rules: readonly RuleTrace[];
  readonly notEvaluated: number;
  /** Priority of the deciding rule, 0 for the default action; null when refused. */
  readonly winner: { readonly priority: number; readonly isDefault: boolean } | null;
  readonly action: ExplainedAction | null;
  readonly admin: { readonly url: string; readonly ok: boolean; readonly error: string | null } | null;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Runs `explain` with the arguments after the subcommand name; resolves to the exit code. */
export async function runExplain(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const args = parseArgs(argv, new Set(['json', 'help', 'h']));
  if (args.options.has('help') || args.options.has('h')) {
    out(EXPLAIN_USAGE);
    return EXIT_OK;
  }
  const usage = (message: string): number => {
    err(`switchyard explain: ${message}`);
    err(EXPLAIN_USAGE);
    return EXIT_USAGE;
  };
  for (const name of args.options.keys()) {
    if (!['H', 'header', 'source-ip', 'cookie', 'admin', 'admin-token', 'json'].includes(name)) {
      return usage(`unknown option ${name.length === 1 ? '-' : '--'}${name}`);
    }
  }
  const [file, ...words] = args.positionals;
  if (file === undefined || words.length === 0) return usage('FILE and a request (\'GET http://host:port/path\') are required');
  const request = parseRequest(words, [...(args.options.get('H') ?? []), ...(args.options.get('header') ?? [])], args.options.get('cookie') ?? [], option(args, 'source-ip'));
  if (!request.ok) return usage(request.error);
  const admin = option(args, 'admin') ?? null;
  if (admin !== null && !/^https?:\/\/[^/]+/i.test(admin)) return usage(`--admin needs an http(s) URL, not ${JSON.stringify(admin)}`);
  const adminToken = option(args, 'admin-token') ?? null;

  const report = await explain({ file, request: request.value, admin, adminToken, env });
  if (!report.ok) {
    for (const line of report.errors) err(line);
    return EXIT_CONFIG;
  }
  if (args.options.has('json')) out(JSON.stringify(report.value, null, 2));
  else for (const line of formatExplainReport(report.value)) out(line);
  return EXIT_OK;
}

/**
 * Parses the request words (`'GET http://h/p'`, `GET http://h/p`, or just the URL for GET),
 * the -H headers, cookies and source address into an `ExplainRequest`.
 */
export function parseRequest(
  words: readonly string[],
  headers: readonly string[],
  cookies: readonly string[],
  sourceIp: string | undefined,
): Result<ExplainRequest> {
  const parts = words.join(' ').trim().split(/\s+/);
  if (parts.length > 2) return { ok: false, error: `expected 'METHOD URL', got ${JSON.stringify(words.join(' '))}` };
  const method = parts.length === 2 ? parts[0]! : 'GET';
  const url = parts[parts.length - 1]!;
  if (!TOKEN.test(method)) return { ok: false, error: `invalid method ${JSON.stringify(method)}` };

  let scheme: 'http' | 'https' = 'http';
  let authority: string | null = null;
  let target: string;
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (m !== null) {
    scheme = m[1]!.toLowerCase() === 'https' ? 'https' : 'http';
    authority = m[2]!.slice(m[2]!.lastIndexOf('@') + 1); // Userinfo is never sent.
    target = m[3] === '' ? '/' : m[3]!;
  } else if (url.startsWith('/')) {
    target = url;
  } else {
    return { ok: false, error: `the URL must be absolute (http://host:port/path) or a path, not ${JSON.stringify(url)}` };
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash); // Clients never send the fragment.
  if (target.charCodeAt(0) !== 47 /* / */) target = '/' + target;

  let port: number | null = null;
  if (authority !== null) {
    const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
    if (pm === null || pm[1] === '') return { ok: false, error: `invalid host in ${JSON.stringify(url)}` };
    port = pm[2] !== undefined && pm[2] !== '' ? Number(pm[2]) : scheme === 'https' ? 443 : 80;
    if (!(port >= 1 && port <= 65535)) return { ok: false, error: `invalid port in ${JSON.stringify(url)}` };
  }

  const raw: string[] = [];
  let hostHeader: string | null = null;
  for (const h of headers) {
    const colon = h.indexOf(':');
    const name = colon > 0 ? h.slice(0, colon).trim() : '';
    if (!TOKEN.test(name)) return { ok: false, error: `-H needs 'Name: value', not ${JSON.stringify(h)}` };
    const value = h.slice(colon + 1).trim();
    if (/[\r\n\0]/.test(value)) return { ok: false, error: `header ${name} contains a line break or NUL` };
    if (name.toLowerCase() === 'host') {
      if (hostHeader !== null) return { ok: false, error: 'Host is given twice (a request with two Host headers is refused with 400)' };
      hostHeader = value;
    }
    raw.push(name, value);
  }
  if (hostHeader === null) {
    if (authority === null) return { ok: false, error: "a path-only URL needs -H 'Host: name'" };
    hostHeader = authority;
    raw.unshift('Host', authority);
  }
  if (cookies.length > 0) {
    for (const c of cookies) {
      const eq = c.indexOf('=');
      if (eq <= 0 || /[;\s]/.test(c.slice(0, eq))) return { ok: false, error: `--cookie needs name=value, not ${JSON.stringify(c)}` };
    }
    raw.push('Cookie', cookies.join('; '));
  }
  const ip = sourceIp ?? '127.0.0.1';
  if (isIP(ip) === 0) return { ok: false, error: `--source-ip needs an IPv4 or IPv6 address, not ${JSON.stringify(ip)}` };
  return { ok: true, value: { method, url, scheme, port, hostHeader, target, rawHeaders: raw, sourceIp: ip } };
}

/** Builds the report. Fails only when the config cannot be loaded or has no usable listener. */
export async function explain(input: ExplainInput): Promise<{ ok: true; value: ExplainReport } | { ok: false; errors: string[] }> {
  const loaded = await loadConfigFile(input.file, input.env ?? process.env);
  if (!loaded.ok) {
    const n = loaded.errors.length;
    return { ok: false, errors: [...loaded.errors.map((e) => formatConfigError(input.file, e)), `${input.file}: ${n} error${n === 1 ? '' : 's'}`] };
  }
  const resolved = withDefaults(loaded.config);
  const chosen = chooseListener(resolved.listeners, input.request);
  if (chosen === null) return { ok: false, errors: [`${input.file}: no HTTP or HTTPS listener to explain the request against`] };

  // The same compiled form the data path runs, over groups that never probe.
  const groups = new Map<string, TargetGroupRuntime>();
  for (const spec of resolved.targetGroups) groups.set(spec.name, new TargetGroupRuntime(spec, { healthChecks: false }));
  // Cookies can be checked only with the configured secret (a generated one lives in the instance).
  const secret = resolved.settings.stickinessSecret;
  const codec = secret === '' ? null : new StickyCodec(Buffer.from(secret));
  try {
    const runtime = compileRuntime(resolved, 1, groups, null, codec);
    const listener = runtime.listeners.get(chosen.listener.name)!;
    const live = new Set<string>();
    const admin = input.admin === null ? null : await applyLiveStatus(input.admin, input.adminToken, groups, live);
    return { ok: true, value: buildReport(input, listener, chosen, admin, live) };
  } finally {
    for (const g of groups.values()) g.close();
  }
}

interface ChosenListener {
  readonly listener: ResolvedListener;
  readonly selectedBy: ExplainReport['listener']['selectedBy'];
}

/** The listener on the URL's port and scheme; else the first for the scheme; else the first HTTP one. */
function chooseListener(listeners: readonly ResolvedListener[], req: ExplainRequest): ChosenListener | null {
  const protocol = req.scheme === 'https' ? 'HTTPS' : 'HTTP';
  const byPort = listeners.find((l) => l.protocol === protocol && l.port === req.port);
  if (byPort) return { listener: byPort, selectedBy: 'port' };
  if (protocol === 'HTTPS') {
    const tls = listeners.find((l) => l.protocol === 'HTTPS');
    if (tls) return { listener: tls, selectedBy: 'first listener for the scheme' };
  }
  const first = listeners.find((l) => l.protocol === 'HTTP');
  return first ? { listener: first, selectedBy: 'first HTTP listener' } : null;
}

function buildReport(
  input: ExplainInput,
  listener: CompiledListener,
  chosen: ChosenListener,
  admin: ExplainReport['admin'],
  live: ReadonlySet<string>,
): ExplainReport {
  const req = input.request;
  const l = chosen.listener;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const base = {
    file: input.file,
    listener: { name: l.name, protocol: l.protocol, host: l.host, port: l.port, selectedBy: chosen.selectedBy },
    admin,
  };
  // As proxy/dispatch.ts: split the target, normalise the path (null → 400), then route.
  const split = splitTarget(req.target);
  const path = split === null ? null : normalizePath(split.path, listener.settings.mergeSlashes);
  if (split === null || path === null) {
    return {
      ...base,
      request: { method: req.method, url: req.url, host: req.hostHeader, path: split?.path ?? req.target, query: split?.query ?? '', sourceIp: req.sourceIp, headers },
      refused: {
        status: 400,
        reason: split === null ? 'malformed request target' : 'path refused by normalisation (see docs/decisions/0002-path-normalisation.md)',
      },
      rules: [],
      notEvaluated: 0,
      winner: null,
      action: null,
    };
  }
  const view = new RequestView(req.method, req.hostHeader, path, split.query, req.rawHeaders, req.sourceIp);
  const trace = listener.matcher.explain(view);
  const priority = trace.winner.priority;
  const resolvedAction = trace.isDefault ? l.defaultAction : l.rules.find((r) => r.priority === priority)!.action;
  return {
    ...base,
    request: { method: req.method, url: req.url, host: req.hostHeader, path, query: split.query, sourceIp: req.sourceIp, headers },
    refused: null,
    rules: trace.rules,
    notEvaluated: trace.notEvaluated,
    winner: { priority, isDefault: trace.isDefault },
    action: explainAction(trace.winner.action, resolvedAction, view, req, admin === null || !admin.ok ? null : live, Math.floor(Date.now() / 1000)),
  };
}

function explainAction(
  action: CompiledAction,
  resolved: ResolvedAction,
  view: RequestView,
  req: ExplainRequest,
  live: ReadonlySet<string> | null,
  nowSeconds: number,
): ExplainedAction {
  switch (action.kind) {
    case 'fixedResponse': {
      const f = resolved.kind === 'fixedResponse' ? resolved.fixedResponse : null;
      return { kind: 'fixedResponse', statusCode: action.statusCode, contentType: f?.contentType ?? '', body: f?.body ?? '' };
    }
    case 'redirect': {
      const r = action.redirect.render({ protocol: req.scheme, host: view.host, port: String(req.port ?? (req.scheme === 'https' ? 443 : 80)), path: view.path, query: view.query });
      return { kind: 'redirect', statusCode: r.statusCode, location: r.location };
    }
    case 'forward': {
      // As proxy/dispatch.ts forward(): the rewrite applies to the normalised path.
      let path = view.path;
      if (action.rewrite !== null) path = path.replace(action.rewrite.regex, action.rewrite.replace);
      if (path.charCodeAt(0) !== 47) path = '/' + path;
      const forward = resolved.kind === 'forward' ? resolved.forward : null;
      const weighted = forward?.targetGroups ?? [];
      let total = 0;
      for (const g of weighted) total += Math.max(0, g.weight);
      const draw = weighted.map((g) => ({ name: g.name, weight: g.weight, share: total > 0 ? Math.max(0, g.weight) / total : 0 }));
      const sticky = forward?.stickiness;
      const groupCookie = sticky?.enabled ? explainGroupCookie(action, view, nowSeconds) : null;
      return {
        kind: 'forward',
        path,
        groups: draw,
        stickiness: sticky?.enabled
          ? `group stickiness, ${sticky.durationSeconds} s (cookie SWITCHYARDTG)${action.groups.length > 1 ? '' : ': a single group, no cookie is used'}`
          : 'not configured',
        stickyCookie: groupCookie,
        targetGroups: action.groups.map((g) =>
          explainGroup(g, view, live === null ? 'unknown' : live.has(g.name) ? 'live' : 'not running', action.stickyCodec, nowSeconds),
        ),
      };
    }
  }
}

const PICKS: Readonly<Record<string, string>> = {
  round_robin: 'each candidate in turn, interleaved by weight',
  least_outstanding_requests: 'the candidate with the fewest requests in flight per unit of weight',
  random: 'a candidate uniformly at random (weights ignored)',
  weighted_random: 'a candidate at random, in proportion to weight',
  power_of_two: 'two candidates at random by weight; the one with fewer requests in flight per unit of weight',
  consistent_hash: 'the candidate the hash key maps to (Maglev table)',
};

function explainGroup(
  g: TargetGroupRuntime,
  view: RequestView,
  health: ExplainedGroup['health'],
  codec: StickyCodec | null,
  nowSeconds: number,
): ExplainedGroup {
  const live = health === 'live';
  const spec = g.spec;
  const usable = g.usableTargets;
  // Shares as the balancer sees them: weight-0 targets get nothing unless all are 0.
  const { targets: weightedTargets, weights, total } = weightedCandidates(usable);
  const share = new Map<Target, number>();
  for (let i = 0; i < weightedTargets.length; i++) {
    share.set(weightedTargets[i]!, spec.algorithm === 'random' ? 1 / weightedTargets.length : weights[i]! / total);
  }
  const hashKey = g.hashOn === null ? null : hashKeyOf(g.hashOn, view);
  const sticky = explainTargetCookie(g, view, codec, nowSeconds);
  const hashed = hashKey !== null && hashKey !== '' ? (g.pick(null, hashKey)?.id ?? null) : null;
  const pick = sticky?.verdict === 'honoured' ? sticky.names : hashed;
  const st = spec.stickiness;
  const stickiness = !st.enabled
    ? 'not configured'
    : st.type === 'app_cookie'
      ? `app_cookie following ${st.cookieName ?? '?'}, ${st.durationSeconds} s (cookie SWITCHYARD_APP)`
      : `lb_cookie, ${st.durationSeconds} s (cookie SWITCHYARD)`;
  const targets: ExplainedTarget[] = [];
  for (const t of g.targets.values()) {
    if (!live && (t.removed || t.draining)) continue;
    targets.push({
      id: t.id,
      weight: t.configuredWeight,
      state: live ? t.state : null,
      reason: live ? t.reason : null,
      inFlight: live ? t.inFlight : null,
      candidate: share.has(t),
      share: share.get(t) ?? 0,
    });
  }
  return {
    name: g.name,
    algorithm: spec.algorithm,
    picks: PICKS[spec.algorithm] ?? spec.algorithm,
    hashOn: g.hashOn === null ? null : describeHashOn(g.hashOn),
    hashKey,
    health,
    failOpen: live && g.failOpen,
    stickiness,
    stickyCookie: sticky,
    targets,
    pick,
  };
}

const NO_SECRET = 'not checked: settings.stickinessSecret is empty, so each running instance signs with its own generated key';

/** The request's SWITCHYARD / SWITCHYARD_APP for group `g`, judged by the data path's decision. */
function explainTargetCookie(g: TargetGroupRuntime, view: RequestView, codec: StickyCodec | null, nowSeconds: number): ExplainedStickyCookie | null {
  const sticky = g.stickiness;
  if (sticky === null) return null;
  const name = sticky.cookieName;
  const app = sticky.appCookieName;
  const value = unquote(view.cookie(name));
  const appValue = app === null ? null : view.cookie(app);
  const onMiss =
    app === null
      ? 'the algorithm picks, and the response sets it'
      : `the algorithm picks, and ${name} is set when the request has ${app} or the response sets it`;
  if (value === null) return { cookie: name, verdict: 'no cookie', names: null, expiresInSeconds: null, detail: `no ${name} cookie: ${onMiss}` };
  if (codec === null) return { cookie: name, verdict: 'not checked', names: null, expiresInSeconds: null, detail: NO_SECRET };
  const decoded = codec.decode(sticky.kind, value);
  const appHash = app === null ? null : appValue === null ? '' : codec.appHash(appValue);
  const d = decideStickyTarget(decoded, g, null, nowSeconds, appHash);
  const names = d.entry?.target ?? null;
  const left = d.entry === null ? null : d.entry.expiresAt - nowSeconds;
  const moved = `the algorithm picks another target and the cookie is rewritten`;
  let detail: string;
  switch (d.verdict) {
    case 'honoured':
      detail = `${name} names ${names} (valid ${left} s more), which is usable: the request goes there, the algorithm is not asked`;
      break;
    case 'invalid':
      detail = `${name} ignored: ${invalidReason(decoded)}: ${onMiss.replace('sets it', 're-issues it')}`;
      break;
    case 'no entry':
      detail = `${name} is valid but has no entry for group ${g.name}: ${onMiss}`;
      break;
    case 'expired':
      detail = `${name} named ${names}, but expired ${-left!} s ago: ${moved}`;
      break;
    case 'app cookie differs':
      detail =
        appValue === null
          ? `${name} names ${names}, but the request has no ${app} cookie, so it is not followed: ${onMiss}`
          : `${name} names ${names}, but was issued for another ${app} value, so it is not followed: ${onMiss}`;
      break;
    default:
      detail = `${name} names ${names}, but that target is ${d.verdict.replace('target ', '')}: ${moved}`;
  }
  return { cookie: name, verdict: d.verdict, names, expiresInSeconds: left, detail };
}

/** The request's SWITCHYARDTG for a forward, judged by the data path's decision. */
function explainGroupCookie(action: CompiledForward, view: RequestView, nowSeconds: number): ExplainedStickyCookie | null {
  if (action.groups.length < 2) return null;
  const codec = action.stickyCodec;
  if (view.cookie(GROUP_COOKIE) === null) {
    return { cookie: GROUP_COOKIE, verdict: 'no cookie', names: null, expiresInSeconds: null, detail: `no ${GROUP_COOKIE} cookie: the weighted draw decides, and the response sets it` };
  }
  if (codec === null) return { cookie: GROUP_COOKIE, verdict: 'not checked', names: null, expiresInSeconds: null, detail: NO_SECRET };
  const decoded = readGroupCookie(codec, view);
  const d = decideStickyGroup(decoded, action.groups, nowSeconds);
  const names = d.entry?.group ?? null;
  const left = d.entry === null ? null : d.entry.expiresAt - nowSeconds;
  let detail: string;
  switch (d.verdict) {
    case 'honoured':
      detail = `${GROUP_COOKIE} names ${names} (valid ${left} s more): that group, no draw`;
      break;
    case 'invalid':
      detail = `${GROUP_COOKIE} ignored: ${invalidReason(decoded)}: the weighted draw decides and the cookie is re-issued`;
      break;
    case 'expired':
      detail = `${GROUP_COOKIE} named ${names}, but expired ${-left!} s ago: the weighted draw decides and the cookie is rewritten`;
      break;
    case 'group empty':
      detail = `${GROUP_COOKIE} names ${names}, which has no registered target: the weighted draw among the other groups decides and the cookie is rewritten`;
      break;
    default:
      detail = `${GROUP_COOKIE} is valid but names none of these groups (of weight > 0): the weighted draw decides and the response adds this forward's entry`;
  }
  return { cookie: GROUP_COOKIE, verdict: d.verdict, names, expiresInSeconds: left, detail };
}

function invalidReason(d: DecodedCookie | null): string {
  if (d === null || d.ok) return 'unreadable';
  switch (d.reason) {
    case 'bad signature':
      return 'bad signature (tampered with, or signed with another stickinessSecret)';
    case 'malformed':
      return 'malformed or truncated';
    case 'wrong cookie kind':
      return 'a value of another sticky cookie';
    case 'unsupported version':
      return 'a cookie format this version does not read';
  }
}
