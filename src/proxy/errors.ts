/**
 * The catalogue of errors the load balancer answers itself (SPEC §5), as data.
 *
 * Owns: stable codes, their HTTP status, who caused them, and whether a retry elsewhere is safe.
 * The data plane does not throw for these; it looks an entry up and replies through local-reply.
 */

export type ErrorSource = 'client' | 'target' | 'internal';

export interface ProxyErrorKind {
  readonly code: string;
  readonly status: number;
  readonly source: ErrorSource;
  /** True only when nothing of the request reached the target, so another target may take it. */
  readonly retryable: boolean;
  /** Short reason for logs and the response body. */
  readonly reason: string;
}

function kind(code: string, status: number, source: ErrorSource, retryable: boolean, reason: string): ProxyErrorKind {
  return Object.freeze({ code, status, source, retryable, reason });
}

export const ProxyErrors = Object.freeze({
  BAD_REQUEST: kind('SY_ERR_CLIENT_BAD_REQUEST', 400, 'client', false, 'malformed request'),
  AMBIGUOUS_FRAMING: kind('SY_ERR_CLIENT_AMBIGUOUS_FRAMING', 400, 'client', false, 'ambiguous request framing'),
  BAD_PATH: kind('SY_ERR_CLIENT_BAD_PATH', 400, 'client', false, 'invalid request path'),
  BAD_HOST: kind('SY_ERR_CLIENT_BAD_HOST', 400, 'client', false, 'invalid Host header'),
  HEAD_TIMEOUT: kind('SY_ERR_CLIENT_HEAD_TIMEOUT', 408, 'client', false, 'request head timeout'),
  BODY_TIMEOUT: kind('SY_ERR_CLIENT_BODY_TIMEOUT', 408, 'client', false, 'request body timeout'),
  BODY_TOO_LARGE: kind('SY_ERR_CLIENT_BODY_TOO_LARGE', 413, 'client', false, 'request body too large'),
  URI_TOO_LONG: kind('SY_ERR_CLIENT_URI_TOO_LONG', 414, 'client', false, 'request URI too long'),
  HEADERS_TOO_LARGE: kind('SY_ERR_CLIENT_HEADERS_TOO_LARGE', 431, 'client', false, 'request headers too large'),
  NOT_IMPLEMENTED: kind('SY_ERR_CLIENT_NOT_IMPLEMENTED', 501, 'client', false, 'not implemented'),
  BAD_VERSION: kind('SY_ERR_CLIENT_BAD_VERSION', 505, 'client', false, 'only HTTP/1.0 and HTTP/1.1 are served here'),
  XFF_TOO_LONG: kind('SY_ERR_CLIENT_XFF_TOO_LONG', 463, 'client', false, 'X-Forwarded-For has more than 30 addresses'),
  DESYNC_REFUSED: kind('SY_ERR_CLIENT_DESYNC', 400, 'client', false, 'request framing refused by desync mitigation'),
  IP_DENIED: kind('SY_ERR_PROTECTION_IP_DENIED', 403, 'client', false, 'client address not allowed'),
  WAF_BLOCKED: kind('SY_ERR_PROTECTION_WAF_BLOCKED', 403, 'client', false, 'blocked by a WAF rule'),
  RATE_LIMITED: kind('SY_ERR_PROTECTION_RATE_LIMITED', 429, 'client', false, 'rate limit exceeded'),
  INCOMPATIBLE_PROTOCOL: kind('SY_ERR_CLIENT_INCOMPATIBLE_PROTOCOL', 464, 'client', false, 'request protocol does not match the target group protocol version'),
  CONNECT_REFUSED: kind('SY_ERR_TARGET_CONNECT_REFUSED', 502, 'target', true, 'target refused the connection'),
  CONNECT_FAILED: kind('SY_ERR_TARGET_CONNECT_FAILED', 502, 'target', true, 'could not connect to target'),
  TLS_HANDSHAKE: kind('SY_ERR_TARGET_TLS_HANDSHAKE', 502, 'target', true, 'TLS handshake with target failed'),
  RESET: kind('SY_ERR_TARGET_RESET', 502, 'target', false, 'target closed the connection'),
  DEREGISTERED: kind('SY_ERR_TARGET_DEREGISTERED', 502, 'target', false, 'target deregistered; its deregistration delay ended'),
  BAD_RESPONSE: kind('SY_ERR_TARGET_BAD_RESPONSE', 502, 'target', false, 'malformed response from target'),
  NO_TARGETS: kind('SY_ERR_GROUP_NO_TARGETS', 503, 'internal', false, 'no registered targets'),
  CONNECT_TIMEOUT: kind('SY_ERR_TARGET_CONNECT_TIMEOUT', 504, 'target', true, 'target connect timeout'),
  RESPONSE_TIMEOUT: kind('SY_ERR_TARGET_RESPONSE_TIMEOUT', 504, 'target', false, 'target response timeout'),
});
