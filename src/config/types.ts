/**
 * The configuration document as the operator writes it (SPEC §2), after `${ENV}` substitution
 * and schema validation. Input types use the plain noun (`RuleConfig`); compiled forms live
 * next to the code that compiles them and are prefixed `Compiled`.
 *
 * Owns: type shapes only. No logic, no I/O.
 */

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TCP' | 'UDP';
export type TargetGroupProtocol = 'HTTP' | 'HTTPS' | 'TCP' | 'UDP';
export type ProtocolVersion = 'HTTP1' | 'HTTP2' | 'GRPC';
export type AlgorithmName =
  | 'round_robin'
  | 'least_outstanding_requests'
  | 'random'
  | 'weighted_random'
  | 'power_of_two'
  | 'consistent_hash';
export type XForwardedForMode = 'append' | 'preserve' | 'remove';
export type DesyncMitigation = 'monitor' | 'defensive' | 'strictest';
export type RedirectStatus = 301 | 302 | 303 | 307 | 308;
export type ProxyProtocolMode = 'off' | 'v1' | 'v2';

export interface SettingsConfig {
  /** Number of data-plane processes, or "auto" (one per core). Default 1. */
  readonly workers?: number | 'auto';
  /** Client connection idle (keep-alive) timeout, seconds. Default 60. */
  readonly idleTimeoutSeconds?: number;
  /** The whole request head must arrive within this, seconds → 408. Default 10. */
  readonly requestHeaderTimeoutSeconds?: number;
  /** Seconds in-flight requests get on SIGTERM. Default 30. */
  readonly shutdownTimeoutSeconds?: number;
  /** Whole request head, bytes → 431. Default 65536. */
  readonly maxRequestHeaderBytes?: number;
  /** Header lines → 431. Default 100. */
  readonly maxRequestHeaderCount?: number;
  /** Request target, bytes → 414. Default 16384. */
  readonly maxUriBytes?: number;
  /** 0 = unlimited; otherwise → 413. Default 0. */
  readonly maxRequestBodyBytes?: number;
  readonly xForwardedFor?: XForwardedForMode;
  readonly preserveHostHeader?: boolean;
  readonly mergeSlashes?: boolean;
  readonly desyncMitigation?: DesyncMitigation;
  /** HMAC key for sticky cookies; empty: generated at start. */
  readonly stickinessSecret?: string;
}

export interface AdminConfig {
  readonly host?: string;
  readonly port?: number;
  /** Empty: no auth; required when host is not loopback. */
  readonly token?: string;
}

export interface AccessLogConfig {
  /** `stdout`, a file path, or `off`. */
  readonly path?: string;
}

export interface RateLimitConfig {
  readonly requestsPerSecond: number;
  readonly burst?: number;
  /** `sourceIp` or `header:<Name>`. */
  readonly key?: string;
}

/**
 * One WAF rule: it hits when every key present holds (AND); the values of one key are
 * alternatives (OR). `match` takes the routing conditions; `path`, `query`, `header` and `body`
 * take regular expressions tested against percent-decoded values (docs/decisions/0010).
 */
export interface WafRuleConfig {
  readonly name: string;
  readonly match?: MatchConfig;
  readonly path?: readonly string[];
  readonly query?: readonly string[];
  readonly header?: Readonly<Record<string, readonly string[]>>;
  readonly body?: readonly string[];
  /** Default false: patterns ignore case. */
  readonly caseSensitive?: boolean;
  /** Default: the WAF's `mode`. */
  readonly action?: 'block' | 'count';
}

export interface WafConfig {
  readonly rules?: readonly WafRuleConfig[];
  readonly builtin?: boolean;
  readonly mode?: 'block' | 'count';
  /** How many leading body bytes `body` patterns (and the built-in rules) see. Default 8192; 0 = none. */
  readonly inspectBodyBytes?: number;
}

export interface ProtectionConfig {
  readonly rateLimit?: RateLimitConfig;
  readonly ipDeny?: readonly string[];
  readonly ipAllow?: readonly string[];
  readonly waf?: WafConfig;
}

export interface QueryMatchConfig {
  readonly key?: string;
  readonly value: string;
}

/** Every key present must match (AND); values of one key are OR. */
export interface MatchConfig {
  readonly host?: readonly string[];
  readonly path?: readonly string[];
  readonly method?: readonly string[];
  readonly header?: Readonly<Record<string, readonly string[]>>;
  readonly query?: readonly QueryMatchConfig[];
  readonly cookie?: Readonly<Record<string, readonly string[]>>;
  readonly sourceIp?: readonly string[];
}

export interface WeightedTargetGroupConfig {
  readonly name: string;
  /** 0–999; default 1. */
  readonly weight?: number;
}

export interface GroupStickinessConfig {
  readonly enabled?: boolean;
  readonly durationSeconds?: number;
}

export interface RequestHeadersConfig {
  readonly set?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

export interface RewritePathConfig {
  readonly regex: string;
  readonly replace: string;
}

export interface ForwardConfig {
  /** A single group (shorthand). Exactly one of targetGroup / targetGroups. */
  readonly targetGroup?: string;
  readonly targetGroups?: readonly WeightedTargetGroupConfig[];
  readonly stickiness?: GroupStickinessConfig;
  readonly requestHeaders?: RequestHeadersConfig;
  readonly rewritePath?: RewritePathConfig;
}

export interface RedirectConfig {
  readonly protocol?: string;
  /** Digits or `#{port}`; a YAML number (`port: 443`) is accepted too. */
  readonly port?: string | number;
  readonly host?: string;
  readonly path?: string;
  readonly query?: string;
  readonly statusCode: RedirectStatus;
}

export interface FixedResponseConfig {
  readonly statusCode: number;
  readonly contentType?: string;
  readonly body?: string;
}

/** Exactly one of forward / redirect / fixedResponse. */
export interface ActionConfig {
  readonly forward?: ForwardConfig;
  readonly redirect?: RedirectConfig;
  readonly fixedResponse?: FixedResponseConfig;
}

export interface RuleConfig extends ActionConfig {
  /** 1–50000, unique per listener; lowest is evaluated first. */
  readonly priority: number;
  readonly match?: MatchConfig;
  readonly protection?: ProtectionConfig;
}

export interface CertificateConfig {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ListenerTlsConfig {
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly alpn?: readonly string[];
  readonly clientCa?: string;
  readonly clientCertMode?: 'verify' | 'optional';
  readonly policy?: string;
  readonly handshakeTimeoutSeconds?: number;
}

export interface ListenerConfig {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  /** Default 0.0.0.0. */
  readonly host?: string;
  readonly port: number;
  readonly protection?: ProtectionConfig;
  readonly certificates?: readonly CertificateConfig[];
  readonly tls?: ListenerTlsConfig;
  readonly rules?: readonly RuleConfig[];
  readonly defaultAction: ActionConfig;
  /** TCP/UDP listeners only: connection (TCP) or flow (UDP) idle timeout. Default TCP 350, UDP 30. */
  readonly idleTimeoutSeconds?: number;
  /** UDP listeners only: most flows at once; datagrams that would open another are dropped. Default 10000. */
  readonly maxFlows?: number;
  /** HTTP/HTTPS listeners: most client connections open at once; more are closed on accept. 0 (default) = no limit. */
  readonly maxConnections?: number;
}

export interface TargetConfig {
  readonly host: string;
  readonly port: number;
  /** Default 1. */
  readonly weight?: number;
}

export interface HashOnConfig {
  readonly sourceIp?: boolean;
  readonly header?: string;
  readonly cookie?: string;
  readonly path?: boolean;
}

export interface HealthCheckConfig {
  readonly enabled?: boolean;
  readonly protocol?: 'HTTP' | 'HTTPS' | 'TCP';
  readonly path?: string;
  readonly port?: 'traffic-port' | number;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  readonly matcher?: string;
}

export interface TargetStickinessConfig {
  readonly enabled?: boolean;
  readonly type?: 'lb_cookie' | 'app_cookie';
  readonly durationSeconds?: number;
  readonly cookieName?: string;
}

export interface TargetGroupConfig {
  readonly name: string;
  readonly protocol?: TargetGroupProtocol;
  readonly protocolVersion?: ProtocolVersion;
  readonly algorithm?: AlgorithmName;
  readonly hashOn?: HashOnConfig;
  readonly targets?: readonly TargetConfig[];
  readonly healthCheck?: HealthCheckConfig;
  readonly stickiness?: TargetStickinessConfig;
  readonly slowStartSeconds?: number;
  readonly deregistrationDelaySeconds?: number;
  readonly connectTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  readonly retryIdempotentRequests?: boolean;
  /** TCP groups only: send a PROXY protocol header to targets. Default off. */
  readonly proxyProtocol?: ProxyProtocolMode;
  /** HTTPS groups only: how the target's certificate is checked. */
  readonly tls?: TargetGroupTlsConfig;
}

/** TLS towards the targets of an HTTPS target group. */
export interface TargetGroupTlsConfig {
  /** Verify the target's certificate (chain and name). Default true. */
  readonly verify?: boolean;
  /** PEM CA bundle to verify against instead of Node's built-in roots; relative to the config file. */
  readonly ca?: string;
  /** SNI and the name checked in the certificate. Default: the target's host (none for an IP). */
  readonly servername?: string;
}

export interface Config {
  /** Editor hint pointing at the JSON Schema; ignored. */
  readonly $schema?: string;
  readonly settings?: SettingsConfig;
  readonly admin?: AdminConfig;
  readonly accessLog?: AccessLogConfig;
  readonly listeners: readonly ListenerConfig[];
  readonly targetGroups?: readonly TargetGroupConfig[];
}
