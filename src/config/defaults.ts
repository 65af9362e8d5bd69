/**
 * Default values (SPEC §2) and the fully-populated `ResolvedConfig` built from a validated
 * `Config`: every optional setting filled in, forward shorthands normalised, the whole tree
 * deeply frozen.
 *
 * Owns: the default values (the JSON Schema's `default`s are taken from `DEFAULTS`, so the two
 * cannot disagree) and `withDefaults`. Pure: no I/O, no validation (call it only on a config
 * that `validateConfig` accepted; it throws on shapes validation would have rejected).
 */
import type {
  AlgorithmName,
  CertificateConfig,
  Config,
  DesyncMitigation,
  ActionConfig,
  HashOnConfig,
  ListenerProtocol,
  MatchConfig,
  ProtectionConfig,
  ProtocolVersion,
  RedirectStatus,
  RewritePathConfig,
  TargetGroupConfig,
  TargetGroupProtocol,
  XForwardedForMode,
  ListenerConfig,
  ProxyProtocolMode,
  RuleConfig,
} from './types.js';

/** Every default of SPEC §2 in one place. */
export const DEFAULTS = {
  settings: {
    workers: 1,
    idleTimeoutSeconds: 60,
    requestHeaderTimeoutSeconds: 10,
    shutdownTimeoutSeconds: 30,
    maxRequestHeaderBytes: 65536,
    maxRequestHeaderCount: 100,
    maxUriBytes: 16384,
    maxRequestBodyBytes: 0,
    xForwardedFor: 'append',
    preserveHostHeader: true,
    mergeSlashes: false,
    desyncMitigation: 'defensive',
    stickinessSecret: '',
  },
  admin: { host: '127.0.0.1', port: 9090, token: '' },
  accessLog: { path: 'stdout' },
  listener: { host: '0.0.0.0' },
  /**
   * TCP/UDP listeners. TCP idle: the NLB's fixed 350 s (long-lived database and broker
   * connections); UDP flow idle: 30 s, Linux conntrack's UDP timeout (docs/decisions/0008).
   */
  layer4: { tcpIdleTimeoutSeconds: 350, udpIdleTimeoutSeconds: 30, maxFlows: 10000 },
  tls: {
    minVersion: 'TLSv1.2',
    alpn: ['h2', 'http/1.1'],
    clientCertMode: 'verify',
    handshakeTimeoutSeconds: 10,
  },
  rateLimit: { key: 'sourceIp' },
  waf: { builtin: false, mode: 'block', inspectBodyBytes: 8192 },
  /** Most client connections per HTTP listener; 0 = no limit. */
  maxConnections: 0,
  /** Weight of a target group inside a forward, and of a target inside a group. */
  weight: 1,
  groupStickiness: { enabled: false, durationSeconds: 86400 },
  redirect: {
    protocol: '#{protocol}',
    port: '#{port}',
    host: '#{host}',
    path: '/#{path}',
    query: '#{query}',
  },
  fixedResponse: { contentType: 'text/plain', body: '' },
  targetGroup: {
    protocol: 'HTTP',
    protocolVersion: 'HTTP1',
    algorithm: 'round_robin',
    slowStartSeconds: 0,
    deregistrationDelaySeconds: 30,
    connectTimeoutMs: 3000,
    responseTimeoutMs: 60000,
    retryIdempotentRequests: false,
    proxyProtocol: 'off',
  },
  /** TLS to the targets of HTTPS groups: certificates are verified unless told otherwise. */
  targetTls: { verify: true },
  /**
   * The SPEC example's values. `protocol` has no fixed default: it follows the group (see
   * `defaultHealthCheckProtocol`).
   */
  healthCheck: {
    enabled: true,
    path: '/',
    port: 'traffic-port',
    intervalSeconds: 5,
    timeoutSeconds: 2,
    healthyThreshold: 3,
    unhealthyThreshold: 2,
    matcher: '200-399',
  },
  targetStickiness: { enabled: false, type: 'lb_cookie', durationSeconds: 86400 },
  /** Used when `algorithm: consistent_hash` has no `hashOn`. */
  hashOn: { sourceIp: true },
} as const;

/**
 * Health checks speak the group's protocol when it is HTTP or HTTPS; TCP and UDP groups get a
 * TCP connect check (an HTTP probe against, say, a database port would never pass).
 */
export function defaultHealthCheckProtocol(group: TargetGroupProtocol): 'HTTP' | 'HTTPS' | 'TCP' {
  return group === 'HTTP' || group === 'HTTPS' ? group : 'TCP';
}

export interface ResolvedSettings {
  readonly workers: number | 'auto';
  readonly idleTimeoutSeconds: number;
  readonly requestHeaderTimeoutSeconds: number;
  readonly shutdownTimeoutSeconds: number;
  readonly maxRequestHeaderBytes: number;
  readonly maxRequestHeaderCount: number;
  readonly maxUriBytes: number;
  /** 0 = unlimited. */
  readonly maxRequestBodyBytes: number;
  readonly xForwardedFor: XForwardedForMode;
  readonly preserveHostHeader: boolean;
  readonly mergeSlashes: boolean;
  readonly desyncMitigation: DesyncMitigation;
  /** Empty: generate one at start. */
  readonly stickinessSecret: string;
}

export interface ResolvedAdmin {
  readonly host: string;
  readonly port: number;
  /** Empty: no auth (only allowed on loopback). */
  readonly token: string;
}

export interface ResolvedAccessLog {
  /** `stdout`, `off`, or a file path. */
  readonly path: string;
}

export interface ResolvedRateLimit {
  readonly requestsPerSecond: number;
  /** Defaults to `requestsPerSecond`. */
  readonly burst: number;
  /** `sourceIp` or `header:<Name>`. */
  readonly key: string;
}

export interface ResolvedWafRule {
  readonly name: string;
  /** `{}` when the rule has no routing conditions. */
  readonly match: MatchConfig;
  readonly path: readonly string[];
  readonly query: readonly string[];
  readonly header: Readonly<Record<string, readonly string[]>>;
  readonly body: readonly string[];
  readonly caseSensitive: boolean;
  readonly action: 'block' | 'count';
}

export interface ResolvedWaf {
  readonly rules: readonly ResolvedWafRule[];
  readonly builtin: boolean;
  readonly mode: 'block' | 'count';
  /** Leading body bytes `body` patterns and the built-in rules see; 0 = no body inspection. */
  readonly inspectBodyBytes: number;
}

export interface ResolvedProtection {
  readonly rateLimit: ResolvedRateLimit | null;
  /** Empty: no allow list. */
  readonly ipAllow: readonly string[];
  /** Empty: no deny list. */
  readonly ipDeny: readonly string[];
  readonly waf: ResolvedWaf | null;
}

export interface ResolvedWeightedTargetGroup {
  readonly name: string;
  readonly weight: number;
}

export interface ResolvedGroupStickiness {
  readonly enabled: boolean;
  readonly durationSeconds: number;
}

export interface ResolvedRequestHeaders {
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface ResolvedForward {
  /** Always the list form: `targetGroup: x` becomes `[{name: x, weight: 1}]`. */
  readonly targetGroups: readonly ResolvedWeightedTargetGroup[];
  readonly stickiness: ResolvedGroupStickiness;
  readonly requestHeaders: ResolvedRequestHeaders;
  readonly rewritePath: RewritePathConfig | null;
}

export interface ResolvedRedirect {
  /** `HTTP`, `HTTPS` or `#{protocol}`. */
  readonly protocol: string;
  /** Digits or a template; numbers in the document are turned into strings. */
  readonly port: string;
  readonly host: string;
  readonly path: string;
  readonly query: string;
  readonly statusCode: RedirectStatus;
}

export interface ResolvedFixedResponse {
  readonly statusCode: number;
  readonly contentType: string;
  readonly body: string;
}

export type ResolvedAction =
  | { readonly kind: 'forward'; readonly forward: ResolvedForward }
  | { readonly kind: 'redirect'; readonly redirect: ResolvedRedirect }
  | { readonly kind: 'fixedResponse'; readonly fixedResponse: ResolvedFixedResponse };

export interface ResolvedRule {
  readonly priority: number;
  /** `{}` when the rule has no conditions (it matches everything). */
  readonly match: MatchConfig;
  readonly protection: ResolvedProtection | null;
  readonly action: ResolvedAction;
}

export interface ResolvedTls {
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly alpn: readonly string[];
  readonly clientCa: string | null;
  readonly clientCertMode: 'verify' | 'optional';
  readonly policy: string | null;
  readonly handshakeTimeoutSeconds: number;
}

export interface ResolvedListener {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly protection: ResolvedProtection | null;
  /** First is the default; empty unless HTTPS. */
  readonly certificates: readonly CertificateConfig[];
  readonly tls: ResolvedTls;
  /** In document order (not sorted by priority). */
  readonly rules: readonly ResolvedRule[];
  readonly defaultAction: ResolvedAction;
  /** TCP: connection idle timeout; UDP: flow idle timeout. Null on HTTP/HTTPS listeners. */
  readonly idleTimeoutSeconds: number | null;
  /** UDP: most flows at once. Null on other listeners. */
  readonly maxFlows: number | null;
  /** HTTP/HTTPS: most client connections at once; 0 = no limit. */
  readonly maxConnections: number;
}

export interface ResolvedTarget {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

export interface ResolvedHealthCheck {
  readonly enabled: boolean;
  readonly protocol: 'HTTP' | 'HTTPS' | 'TCP';
  readonly path: string;
  readonly port: 'traffic-port' | number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** e.g. `200-399,404`. */
  readonly matcher: string;
}

export interface ResolvedTargetStickiness {
  readonly enabled: boolean;
  readonly type: 'lb_cookie' | 'app_cookie';
  readonly durationSeconds: number;
  /** The application's cookie for `app_cookie`; null for `lb_cookie`. */
  readonly cookieName: string | null;
}

export interface ResolvedTargetGroup {
  readonly name: string;
  readonly protocol: TargetGroupProtocol;
  readonly protocolVersion: ProtocolVersion;
  readonly algorithm: AlgorithmName;
  /** Exactly one key set; `{sourceIp: true}` for consistent_hash without hashOn; else as written or null. */
  readonly hashOn: HashOnConfig | null;
  readonly targets: readonly ResolvedTarget[];
  readonly healthCheck: ResolvedHealthCheck;
  readonly stickiness: ResolvedTargetStickiness;
  readonly slowStartSeconds: number;
  readonly deregistrationDelaySeconds: number;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly retryIdempotentRequests: boolean;
  /** PROXY protocol header towards targets (TCP groups). */
  readonly proxyProtocol: ProxyProtocolMode;
  /** TLS to targets (used by HTTPS groups; the defaults elsewhere). */
  readonly tls: ResolvedTargetGroupTls;
}

export interface ResolvedTargetGroupTls {
  readonly verify: boolean;
  /** Path as written (resolved against the config file's folder when loaded); null: Node's roots. */
  readonly ca: string | null;
  /** Null: the target's host, or no SNI when it is an IP address. */
  readonly servername: string | null;
}

/** A validated config with every default applied. Deeply frozen. */
export interface ResolvedConfig {
  readonly settings: ResolvedSettings;
  readonly admin: ResolvedAdmin;
  readonly accessLog: ResolvedAccessLog;
  readonly listeners: readonly ResolvedListener[];
  readonly targetGroups: readonly ResolvedTargetGroup[];
}

/** Returns a new, deeply frozen config with every default applied. The input is not modified. */
export function withDefaults(config: Config): ResolvedConfig {
  const s = config.settings ?? {};
  const d = DEFAULTS.settings;
  const admin = config.admin ?? {};
  const resolved: ResolvedConfig = {
    settings: {
      workers: s.workers ?? d.workers,
      idleTimeoutSeconds: s.idleTimeoutSeconds ?? d.idleTimeoutSeconds,
      requestHeaderTimeoutSeconds: s.requestHeaderTimeoutSeconds ?? d.requestHeaderTimeoutSeconds,
      shutdownTimeoutSeconds: s.shutdownTimeoutSeconds ?? d.shutdownTimeoutSeconds,
      maxRequestHeaderBytes: s.maxRequestHeaderBytes ?? d.maxRequestHeaderBytes,
      maxRequestHeaderCount: s.maxRequestHeaderCount ?? d.maxRequestHeaderCount,
      maxUriBytes: s.maxUriBytes ?? d.maxUriBytes,
      maxRequestBodyBytes: s.maxRequestBodyBytes ?? d.maxRequestBodyBytes,
      xForwardedFor: s.xForwardedFor ?? d.xForwardedFor,
      preserveHostHeader: s.preserveHostHeader ?? d.preserveHostHeader,
      mergeSlashes: s.mergeSlashes ?? d.mergeSlashes,
      desyncMitigation: s.desyncMitigation ?? d.desyncMitigation,
      stickinessSecret: s.stickinessSecret ?? d.stickinessSecret,
    },
    admin: {
      host: admin.host ?? DEFAULTS.admin.host,
      port: admin.port ?? DEFAULTS.admin.port,
      token: admin.token ?? DEFAULTS.admin.token,
    },
    accessLog: { path: config.accessLog?.path ?? DEFAULTS.accessLog.path },
    listeners: config.listeners.map(resolveListener),
    targetGroups: (config.targetGroups ?? []).map(resolveTargetGroup),
  };
  return deepFreeze(resolved);
}

function resolveListener(l: ListenerConfig): ResolvedListener {
  const tls = l.tls ?? {};
  return {
    name: l.name,
    protocol: l.protocol,
    host: l.host ?? DEFAULTS.listener.host,
    port: l.port,
    protection: resolveProtection(l.protection),
    certificates: (l.certificates ?? []).map((c) => ({ certFile: c.certFile, keyFile: c.keyFile })),
    tls: {
      minVersion: tls.minVersion ?? DEFAULTS.tls.minVersion,
      alpn: tls.alpn !== undefined ? [...tls.alpn] : [...DEFAULTS.tls.alpn],
      clientCa: tls.clientCa ?? null,
      clientCertMode: tls.clientCertMode ?? DEFAULTS.tls.clientCertMode,
      policy: tls.policy ?? null,
      handshakeTimeoutSeconds: tls.handshakeTimeoutSeconds ?? DEFAULTS.tls.handshakeTimeoutSeconds,
    },
    rules: (l.rules ?? []).map(resolveRule),
    defaultAction: resolveAction(l.defaultAction),
    idleTimeoutSeconds:
      l.protocol === 'TCP'
        ? (l.idleTimeoutSeconds ?? DEFAULTS.layer4.tcpIdleTimeoutSeconds)
        : l.protocol === 'UDP'
          ? (l.idleTimeoutSeconds ?? DEFAULTS.layer4.udpIdleTimeoutSeconds)
          : null,
    maxFlows: l.protocol === 'UDP' ? (l.maxFlows ?? DEFAULTS.layer4.maxFlows) : null,
    maxConnections: l.maxConnections ?? DEFAULTS.maxConnections,
  };
}

function resolveRule(r: RuleConfig): ResolvedRule {
  return {
    priority: r.priority,
    match: r.match !== undefined ? structuredClone(r.match) : {},
    protection: resolveProtection(r.protection),
    action: resolveAction(r),
  };
}

function resolveProtection(p: ProtectionConfig | undefined): ResolvedProtection | null {
  if (p === undefined) return null;
  const rl = p.rateLimit;
  return {
    rateLimit:
      rl === undefined
        ? null
        : {
            requestsPerSecond: rl.requestsPerSecond,
            burst: rl.burst ?? rl.requestsPerSecond,
            key: rl.key ?? DEFAULTS.rateLimit.key,
          },
    ipAllow: [...(p.ipAllow ?? [])],
    ipDeny: [...(p.ipDeny ?? [])],
    waf:
      p.waf === undefined
        ? null
        : {
            rules: (p.waf.rules ?? []).map((r) => ({
              name: r.name,
              match: r.match !== undefined ? structuredClone(r.match) : {},
              path: [...(r.path ?? [])],
              query: [...(r.query ?? [])],
              header: structuredClone(r.header ?? {}),
              body: [...(r.body ?? [])],
              caseSensitive: r.caseSensitive ?? false,
              action: r.action ?? p.waf?.mode ?? DEFAULTS.waf.mode,
            })),
            builtin: p.waf.builtin ?? DEFAULTS.waf.builtin,
            mode: p.waf.mode ?? DEFAULTS.waf.mode,
            inspectBodyBytes: p.waf.inspectBodyBytes ?? DEFAULTS.waf.inspectBodyBytes,
          },
  };
}

function resolveAction(a: ActionConfig): ResolvedAction {
  if (a.forward !== undefined) {
    const f = a.forward;
    const groups =
      f.targetGroups !== undefined
        ? f.targetGroups.map((g) => ({ name: g.name, weight: g.weight ?? DEFAULTS.weight }))
        : f.targetGroup !== undefined
          ? [{ name: f.targetGroup, weight: DEFAULTS.weight }]
          : [];
    return {
      kind: 'forward',
      forward: {
        targetGroups: groups,
        stickiness: {
          enabled: f.stickiness?.enabled ?? DEFAULTS.groupStickiness.enabled,
          durationSeconds: f.stickiness?.durationSeconds ?? DEFAULTS.groupStickiness.durationSeconds,
        },
        requestHeaders: {
          set: { ...(f.requestHeaders?.set ?? {}) },
          remove: [...(f.requestHeaders?.remove ?? [])],
        },
        rewritePath:
          f.rewritePath !== undefined ? { regex: f.rewritePath.regex, replace: f.rewritePath.replace } : null,
      },
    };
  }
  if (a.redirect !== undefined) {
    const r = a.redirect;
    const d = DEFAULTS.redirect;
    return {
      kind: 'redirect',
      redirect: {
        protocol: r.protocol ?? d.protocol,
        port: r.port !== undefined ? String(r.port) : d.port,
        host: r.host ?? d.host,
        path: r.path ?? d.path,
        query: r.query ?? d.query,
        statusCode: r.statusCode,
      },
    };
  }
  if (a.fixedResponse !== undefined) {
    const f = a.fixedResponse;
    return {
      kind: 'fixedResponse',
      fixedResponse: {
        statusCode: f.statusCode,
        contentType: f.contentType ?? DEFAULTS.fixedResponse.contentType,
        body: f.body ?? DEFAULTS.fixedResponse.body,
      },
    };
  }
  // Validation guarantees exactly one action; reaching here is a programmer error.
  throw new Error('withDefaults: action without forward, redirect or fixedResponse (config not validated?)');
}

function resolveTargetGroup(g: TargetGroupConfig): ResolvedTargetGroup {
  const d = DEFAULTS.targetGroup;
  const hc = g.healthCheck ?? {};
  const dh = DEFAULTS.healthCheck;
  const st = g.stickiness ?? {};
  const protocol = g.protocol ?? d.protocol;
  const algorithm = g.algorithm ?? d.algorithm;
  const stickinessType = st.type ?? DEFAULTS.targetStickiness.type;
  return {
    name: g.name,
    protocol,
    protocolVersion: g.protocolVersion ?? d.protocolVersion,
    algorithm,
    hashOn:
      g.hashOn !== undefined
        ? { ...g.hashOn }
        : algorithm === 'consistent_hash'
          ? { ...DEFAULTS.hashOn }
          : null,
    targets: (g.targets ?? []).map((t) => ({ host: t.host, port: t.port, weight: t.weight ?? DEFAULTS.weight })),
    healthCheck: {
      // UDP targets cannot be probed over UDP; checks are opt-in there (docs/decisions/0008).
      enabled: hc.enabled ?? (protocol === 'UDP' ? false : dh.enabled),
      protocol: hc.protocol ?? defaultHealthCheckProtocol(protocol),
      path: hc.path ?? dh.path,
      port: hc.port ?? dh.port,
      intervalSeconds: hc.intervalSeconds ?? dh.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds ?? dh.timeoutSeconds,
      healthyThreshold: hc.healthyThreshold ?? dh.healthyThreshold,
      unhealthyThreshold: hc.unhealthyThreshold ?? dh.unhealthyThreshold,
      matcher: hc.matcher ?? dh.matcher,
    },
    stickiness: {
      enabled: st.enabled ?? DEFAULTS.targetStickiness.enabled,
      type: stickinessType,
      durationSeconds: st.durationSeconds ?? DEFAULTS.targetStickiness.durationSeconds,
      cookieName: stickinessType === 'app_cookie' ? (st.cookieName ?? null) : null,
    },
    slowStartSeconds: g.slowStartSeconds ?? d.slowStartSeconds,
    deregistrationDelaySeconds: g.deregistrationDelaySeconds ?? d.deregistrationDelaySeconds,
    connectTimeoutMs: g.connectTimeoutMs ?? d.connectTimeoutMs,
    responseTimeoutMs: g.responseTimeoutMs ?? d.responseTimeoutMs,
    retryIdempotentRequests: g.retryIdempotentRequests ?? d.retryIdempotentRequests,
    proxyProtocol: g.proxyProtocol ?? d.proxyProtocol,
    tls: {
      verify: g.tls?.verify ?? DEFAULTS.targetTls.verify,
      ca: g.tls?.ca ?? null,
      servername: g.tls?.servername ?? null,
    },
  };
}

/** Freezes an object tree in place (it was built fresh above, so nothing shared is frozen). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
