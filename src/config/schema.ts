/**
 * The JSON Schema (draft-07) of the configuration document, SPEC §2: the single source of truth
 * for shapes, enums, ranges, descriptions (editor autocomplete) and defaults.
 * `schema/switchyard.schema.json` is generated from `configSchema` by `write-schema.ts`, and
 * `validate.ts` compiles the same object with ajv.
 *
 * Owns: the schema as data, the human hints for its patterns, and `schemaTypesAt` (which JSON
 * types a document path accepts, used by `${ENV}` coercion). No I/O.
 *
 * Cross-field rules (unique priorities, references, exactly-one-of groups, CIDR syntax, …) are
 * the semantic pass in `validate.ts`. The exactly-one-of groups are also written here as
 * `oneOf` so editors flag them, but their ajv errors are replaced by the semantic pass's
 * clearer messages.
 */
import { DEFAULTS } from './defaults.js';

/** The subset of JSON Schema draft-07 that this schema uses. */
export interface JsonSchema {
  $schema?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  uniqueItems?: boolean;
  enum?: (string | number)[];
  const?: string | number | boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  examples?: unknown[];
  definitions?: Record<string, JsonSchema>;
}

/** Regular expressions used by the schema, with what to tell a user who does not match them. */
export const PATTERNS = {
  name: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
    hint: 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64 characters',
  },
  headerName: {
    pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
    hint: 'an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)',
  },
  cookieName: {
    pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
    hint: 'a cookie name (letters, digits and !#$%&\'*+.^_`|~-)',
  },
  method: {
    pattern: '^[A-Z][A-Z_-]*$',
    hint: 'an upper-case HTTP method such as GET (methods match case-sensitively)',
  },
  pathPattern: {
    pattern: '^[/*?]',
    hint: 'a path starting with "/" (wildcards * and ? allowed)',
  },
  absolutePath: {
    pattern: '^/',
    hint: 'a path starting with "/"',
  },
  rateLimitKey: {
    pattern: "^(sourceIp|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$",
    hint: '"sourceIp" or "header:<Header-Name>"',
  },
  redirectPort: {
    pattern: '^(#\\{port\\}|[0-9]{1,5})$',
    hint: 'a port number such as "443", or "#{port}"',
  },
  headerValue: {
    pattern: '^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$',
    hint: 'a header value without control characters (CR, LF, NUL…; tabs are allowed)',
  },
  nonBlank: {
    pattern: '\\S',
    hint: 'a non-blank string',
  },
} as const;

/** Hint for a failed `pattern`, keyed by the pattern text. */
export function patternHint(pattern: string): string | undefined {
  for (const p of Object.values(PATTERNS)) if (p.pattern === pattern) return p.hint;
  return undefined;
}

// ---- small builders (keep the tree below readable) -------------------------------------------

const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });

function obj(
  description: string,
  properties: Record<string, JsonSchema>,
  required: string[] = [],
  extra: JsonSchema = {},
): JsonSchema {
  const s: JsonSchema = { type: 'object', description, properties, additionalProperties: false };
  if (required.length > 0) s.required = required;
  return { ...s, ...extra };
}

function str(description: string, extra: JsonSchema = {}): JsonSchema {
  return { type: 'string', description, ...extra };
}

function int(description: string, minimum: number, maximum?: number, def?: number): JsonSchema {
  const s: JsonSchema = { type: 'integer', description, minimum };
  if (maximum !== undefined) s.maximum = maximum;
  if (def !== undefined) s.default = def;
  return s;
}

/** A duration or amount that may be fractional (tests use sub-second timeouts). */
function positive(description: string, def?: number): JsonSchema {
  const s: JsonSchema = { type: 'number', description, exclusiveMinimum: 0 };
  if (def !== undefined) s.default = def;
  return s;
}

function nonNegative(description: string, def?: number): JsonSchema {
  const s: JsonSchema = { type: 'number', description, minimum: 0 };
  if (def !== undefined) s.default = def;
  return s;
}

function bool(description: string, def?: boolean): JsonSchema {
  const s: JsonSchema = { type: 'boolean', description };
  if (def !== undefined) s.default = def;
  return s;
}

function list(description: string, items: JsonSchema, extra: JsonSchema = {}): JsonSchema {
  return { type: 'array', description, items, minItems: 1, ...extra };
}

function oneKeyOf(keys: string[]): JsonSchema[] {
  return keys.map((k) => ({ required: [k] }));
}

const patterned = (p: keyof typeof PATTERNS): JsonSchema => ({ pattern: PATTERNS[p].pattern });

// ---- definitions -----------------------------------------------------------------------------

const definitions: Record<string, JsonSchema> = {
  name: str('A name: letters, digits, ".", "_" or "-". Used in metrics labels and admin URLs.', {
    ...patterned('name'),
  }),
  headerName: str('An HTTP header name.', { ...patterned('headerName') }),
  wildcard: str('A value to match; "*" matches any run of characters, "?" exactly one. At most 128 characters.', {
    minLength: 1,
    maxLength: 128,
  }),
  wildcardList: list('Values to match (any one may match).', ref('wildcard')),
  cidrList: list(
    'IPv4 or IPv6 addresses or CIDR blocks, e.g. "10.0.0.0/8", "2001:db8::/32".',
    str('An IP address or CIDR block.', { minLength: 1 }),
  ),
  port: int('TCP/UDP port; 0 means any free port.', 0, 65535),
  targetPort: int('TCP/UDP port of a target.', 1, 65535),

  protection: obj('Request protection, per listener and per rule.', {
    rateLimit: obj(
      'Token-bucket rate limit; excess requests get 429 with Retry-After.',
      {
        requestsPerSecond: positive('Sustained rate allowed per key.'),
        burst: int('Bucket size (requests allowed at once). Default: requestsPerSecond.', 1),
        key: str('What a bucket is kept per: "sourceIp" or "header:<Name>".', {
          ...patterned('rateLimitKey'),
          default: DEFAULTS.rateLimit.key,
        }),
      },
      ['requestsPerSecond'],
    ),
    ipDeny: { ...ref('cidrList'), description: 'Clients in these blocks get 403.' } as JsonSchema,
    ipAllow: { ...ref('cidrList'), description: 'Only clients in these blocks are served; others get 403.' } as JsonSchema,
    waf: obj('Web application firewall: every hit is counted (switchyard_protection_hits_total) and logged.', {
      rules: {
        type: 'array',
        description: 'WAF rules, evaluated in order; the first blocking hit answers 403, counting hits go on.',
        items: ref('wafRule'),
        default: [],
      },
      builtin: bool(
        'Enable the built-in rule set (SQL injection, cross-site scripting, path traversal signatures in the path, query, Cookie, Referer, User-Agent and body prefix).',
        DEFAULTS.waf.builtin,
      ),
      mode: str('"block" answers 403 on a match; "count" only counts and logs. The default for every rule.', {
        enum: ['block', 'count'],
        default: DEFAULTS.waf.mode,
      }),
      inspectBodyBytes: int(
        'Leading request body bytes that body patterns and the built-in rules see (the request waits for them); 0 = no body inspection.',
        0,
        1048576,
        DEFAULTS.waf.inspectBodyBytes,
      ),
    }),
  }),

  regexList: list(
    'JavaScript regular expressions; any one may match. Tested against percent-decoded values.',
    str('A regular expression (JavaScript syntax, no slashes or flags).', { minLength: 1, maxLength: 1024 }),
  ),

  wafRule: obj(
    'A WAF rule: hits when every key present holds (AND); the values of one key are alternatives (OR). At least one of match, path, query, header or body.',
    {
      name: { ...ref('name'), description: 'Rule name, unique within the WAF; a label in metrics and logs.' } as JsonSchema,
      match: { ...ref('match'), description: 'Routing conditions (same keys and semantics as a rule\'s match).' } as JsonSchema,
      path: { ...ref('regexList'), description: 'Regular expressions tested against the fully percent-decoded path.' } as JsonSchema,
      query: { ...ref('regexList'), description: 'Regular expressions tested against the percent-decoded query string ("+" as space).' } as JsonSchema,
      header: {
        type: 'object',
        description: 'Header name (case-insensitive) → regular expressions tested against each value of that header (percent-decoded).',
        propertyNames: ref('headerName'),
        additionalProperties: ref('regexList'),
      },
      body: { ...ref('regexList'), description: 'Regular expressions tested against the first inspectBodyBytes of the body (UTF-8, percent-decoded).' } as JsonSchema,
      caseSensitive: bool('Patterns respect case (default: they ignore it).', false),
      action: str('block (403) or count; default: the WAF\'s mode.', { enum: ['block', 'count'] }),
    },
    ['name'],
  ),

  match: obj('Conditions: every key present must match (AND); the values of one key are alternatives (OR).', {
    host: { ...ref('wildcardList'), description: 'Host header without port; case-insensitive; * and ? wildcards.' } as JsonSchema,
    path: list(
      'Request path (no query), after normalisation; case-sensitive; "*" crosses "/".',
      str('A path pattern, e.g. "/api/*"; at most 128 characters.', {
        minLength: 1,
        maxLength: 128,
        ...patterned('pathPattern'),
      }),
    ),
    method: list('Request methods; exact and case-sensitive.', str('An HTTP method.', { ...patterned('method') })),
    header: {
      type: 'object',
      description: 'Header name (case-insensitive) → values (case-insensitive, wildcards).',
      propertyNames: ref('headerName'),
      additionalProperties: ref('wildcardList'),
    },
    query: list(
      'Query parameters; an entry without key matches a value under any key.',
      obj('A query condition.', { key: ref('wildcard'), value: ref('wildcard') }, ['value']),
    ),
    cookie: {
      type: 'object',
      description: 'Cookie name → values (case-sensitive, wildcards).',
      propertyNames: str('A cookie name.', { ...patterned('cookieName') }),
      additionalProperties: ref('wildcardList'),
    },
    sourceIp: { ...ref('cidrList'), description: "The client's socket address (not X-Forwarded-For)." } as JsonSchema,
  }),

  forward: obj(
    'Send the request to a target group (exactly one of targetGroup or targetGroups).',
    {
      targetGroup: { ...ref('name'), description: 'The one target group to forward to.' } as JsonSchema,
      targetGroups: list(
        'Target groups chosen by weight.',
        obj(
          'A target group and its weight.',
          {
            name: { ...ref('name'), description: 'Name of a target group.' } as JsonSchema,
            weight: int('Relative weight 0–999; 0 receives nothing.', 0, 999, DEFAULTS.weight),
          },
          ['name'],
        ),
      ),
      stickiness: obj('Group-level stickiness (cookie SWITCHYARDTG); used when several groups have weight > 0.', {
        enabled: bool('Keep a client on the target group it was first sent to.', DEFAULTS.groupStickiness.enabled),
        durationSeconds: int(
          'Seconds a client stays on its group after its last refresh (1–604800); the cookie is refreshed once half of it has passed.',
          1,
          604800,
          DEFAULTS.groupStickiness.durationSeconds,
        ),
      }),
      requestHeaders: obj('Headers changed on the way to the target.', {
        set: {
          type: 'object',
          description: 'Header name → value to set (replacing any value sent by the client).',
          propertyNames: ref('headerName'),
          additionalProperties: { type: 'string', description: 'Header value.', ...patterned('headerValue') },
        },
        remove: list('Header names to remove.', ref('headerName')),
      }),
      rewritePath: obj(
        'Rewrite the path sent to the target.',
        {
          regex: str('JavaScript regular expression matched against the path.', { minLength: 1 }),
          replace: str('Replacement; $1… refer to capture groups.'),
        },
        ['regex', 'replace'],
      ),
    },
    [],
    { oneOf: oneKeyOf(['targetGroup', 'targetGroups']) },
  ),

  redirect: obj(
    'Answer with a redirect. Each part defaults to the original (#{protocol}, #{host}, #{port}, /#{path}, #{query}).',
    {
      protocol: str('HTTP, HTTPS or #{protocol}.', {
        enum: ['HTTP', 'HTTPS', '#{protocol}'],
        default: DEFAULTS.redirect.protocol,
      }),
      port: {
        description: 'Port, or "#{port}".',
        anyOf: [str('Digits or "#{port}".', { ...patterned('redirectPort') }), int('Port.', 1, 65535)],
        default: DEFAULTS.redirect.port,
      },
      host: str('Host; may use #{host}.', { minLength: 1, maxLength: 128, ...patterned('headerValue'), default: DEFAULTS.redirect.host }),
      path: str('Path starting with "/"; #{path} is the original path without its leading "/".', {
        maxLength: 128,
        ...patterned('headerValue'),
        default: DEFAULTS.redirect.path,
      }),
      query: str('Query without "?"; may use #{query}.', { maxLength: 128, ...patterned('headerValue'), default: DEFAULTS.redirect.query }),
      statusCode: { type: 'integer', description: '301, 302, 303, 307 or 308.', enum: [301, 302, 303, 307, 308] },
    },
    ['statusCode'],
  ),

  fixedResponse: obj(
    'Answer directly without contacting a target.',
    {
      statusCode: int('HTTP status code 200–599.', 200, 599),
      contentType: str('Content-Type of the body.', { minLength: 1, ...patterned('headerValue'), default: DEFAULTS.fixedResponse.contentType }),
      body: str('Response body.', { default: DEFAULTS.fixedResponse.body }),
    },
    ['statusCode'],
  ),

  action: obj(
    'Exactly one of forward, redirect or fixedResponse.',
    { forward: ref('forward'), redirect: ref('redirect'), fixedResponse: ref('fixedResponse') },
    [],
    { oneOf: oneKeyOf(['forward', 'redirect', 'fixedResponse']) },
  ),

  rule: obj(
    'A rule: conditions and exactly one action (forward, redirect or fixedResponse).',
    {
      priority: int('1–50000, unique per listener; the lowest is evaluated first.', 1, 50000),
      match: ref('match'),
      protection: ref('protection'),
      forward: ref('forward'),
      redirect: ref('redirect'),
      fixedResponse: ref('fixedResponse'),
    },
    ['priority'],
    { oneOf: oneKeyOf(['forward', 'redirect', 'fixedResponse']) },
  ),

  listener: obj(
    'A listener accepts connections on host:port.',
    {
      name: { ...ref('name'), description: 'Unique listener name.' } as JsonSchema,
      protocol: str('HTTP, HTTPS (TLS terminated here), TCP or UDP (Layer 4 relay).', {
        enum: ['HTTP', 'HTTPS', 'TCP', 'UDP'],
      }),
      host: str('Address to bind.', { minLength: 1, default: DEFAULTS.listener.host }),
      port: { ...ref('port'), description: 'Port to bind; 0 means any free port.' } as JsonSchema,
      protection: ref('protection'),
      certificates: list(
        'HTTPS only: the first is the default; others are chosen by SNI (SAN/CN).',
        obj(
          'A PEM certificate chain and its key.',
          {
            certFile: str('Path to the PEM certificate (chain).', { minLength: 1 }),
            keyFile: str('Path to the PEM private key.', { minLength: 1 }),
          },
          ['certFile', 'keyFile'],
        ),
      ),
      tls: obj('HTTPS only: TLS options.', {
        minVersion: str('Lowest TLS version accepted.', {
          enum: ['TLSv1.2', 'TLSv1.3'],
          default: DEFAULTS.tls.minVersion,
        }),
        alpn: {
          type: 'array',
          description: 'Protocols offered through ALPN, in order of preference.',
          items: { type: 'string', enum: ['h2', 'http/1.1'] },
          minItems: 1,
          uniqueItems: true,
          default: [...DEFAULTS.tls.alpn],
        },
        clientCa: str('Path to a PEM CA bundle: enables mutual TLS.', { minLength: 1 }),
        clientCertMode: str('With clientCa: "verify" requires a valid client certificate; "optional" asks for one.', {
          enum: ['verify', 'optional'],
          default: DEFAULTS.tls.clientCertMode,
        }),
        policy: str('TLS security policy name (cipher selection).', { minLength: 1 }),
        handshakeTimeoutSeconds: positive('TLS handshake must finish within this.', DEFAULTS.tls.handshakeTimeoutSeconds),
      }),
      rules: {
        type: 'array',
        description: 'HTTP/HTTPS only: rules, evaluated by ascending priority.',
        items: ref('rule'),
        default: [],
      },
      defaultAction: { ...ref('action'), description: 'What happens when no rule matches.' } as JsonSchema,
      idleTimeoutSeconds: positive(
        `TCP/UDP only: a TCP connection with no bytes either way, or a UDP flow with no datagram either way, is closed after this. Default ${DEFAULTS.layer4.tcpIdleTimeoutSeconds} for TCP, ${DEFAULTS.layer4.udpIdleTimeoutSeconds} for UDP (HTTP listeners use settings.idleTimeoutSeconds).`,
      ),
      maxFlows: int(
        'UDP only: most flows (client address and port) at once; datagrams that would open another flow are dropped.',
        1,
        undefined,
        DEFAULTS.layer4.maxFlows,
      ),
      maxConnections: int(
        'HTTP/HTTPS only: most client connections open at once; a connection beyond it is closed as soon as it is accepted. 0 = no limit.',
        0,
        undefined,
        DEFAULTS.maxConnections,
      ),
    },
    ['name', 'protocol', 'port', 'defaultAction'],
  ),

  healthCheck: obj('Active health checks.', {
    enabled: bool(
      'false: targets are used immediately and never checked. Default true, except for UDP groups (false: UDP cannot be probed; enable a TCP or HTTP check on a port the target serves).',
      DEFAULTS.healthCheck.enabled,
    ),
    protocol: str('HTTP, HTTPS or TCP (connect only). Default: the group protocol; TCP for TCP/UDP groups.', {
      enum: ['HTTP', 'HTTPS', 'TCP'],
    }),
    path: str('HTTP(S) path to request.', { ...patterned('absolutePath'), default: DEFAULTS.healthCheck.path }),
    port: {
      description: '"traffic-port" (the target\'s port) or a port number.',
      anyOf: [{ type: 'string', const: 'traffic-port' }, int('Port.', 1, 65535)],
      default: DEFAULTS.healthCheck.port,
    },
    intervalSeconds: positive('Seconds between checks of one target.', DEFAULTS.healthCheck.intervalSeconds),
    timeoutSeconds: positive('A check fails after this; must not exceed intervalSeconds.', DEFAULTS.healthCheck.timeoutSeconds),
    healthyThreshold: int('Consecutive successes to become healthy.', 1, 10, DEFAULTS.healthCheck.healthyThreshold),
    unhealthyThreshold: int('Consecutive failures to become unhealthy.', 1, 10, DEFAULTS.healthCheck.unhealthyThreshold),
    matcher: str('Healthy HTTP status codes: codes and ranges, e.g. "200-399,404".', {
      minLength: 1,
      default: DEFAULTS.healthCheck.matcher,
    }),
  }),

  targetGroup: obj(
    'A set of targets sharing the load, with its algorithm and health check.',
    {
      name: { ...ref('name'), description: 'Unique target group name.' } as JsonSchema,
      protocol: str('HTTP, HTTPS (TLS to targets), TCP or UDP.', {
        enum: ['HTTP', 'HTTPS', 'TCP', 'UDP'],
        default: DEFAULTS.targetGroup.protocol,
      }),
      protocolVersion: str('HTTP1, HTTP2 or GRPC (both spoken in HTTP/2).', {
        enum: ['HTTP1', 'HTTP2', 'GRPC'],
        default: DEFAULTS.targetGroup.protocolVersion,
      }),
      algorithm: str('How a target is chosen among the healthy ones.', {
        enum: [
          'round_robin',
          'least_outstanding_requests',
          'random',
          'weighted_random',
          'power_of_two',
          'consistent_hash',
        ],
        default: DEFAULTS.targetGroup.algorithm,
      }),
      hashOn: obj(
        'For consistent_hash (other algorithms ignore it): exactly one of sourceIp, header, cookie or path. Default: sourceIp. A request without the header or cookie goes to a random target.',
        {
          sourceIp: { const: true, description: "Hash the client's address." },
          header: { ...ref('headerName'), description: 'Hash this request header.' } as JsonSchema,
          cookie: str('Hash this cookie.', { ...patterned('cookieName') }),
          path: { const: true, description: 'Hash the request path.' },
        },
        [],
        { oneOf: oneKeyOf(['sourceIp', 'header', 'cookie', 'path']) },
      ),
      targets: {
        type: 'array',
        description: 'Registered targets (more can be registered through the admin API).',
        items: obj(
          'A target, identified by host:port.',
          {
            host: str('Host name or IP address.', { ...patterned('nonBlank') }),
            port: ref('targetPort'),
            weight: int('Relative weight 0–999; 0 receives nothing.', 0, 999, DEFAULTS.weight),
          },
          ['host', 'port'],
        ),
        default: [],
      },
      healthCheck: ref('healthCheck'),
      stickiness: obj('Target stickiness: lb_cookie (cookie SWITCHYARD) or app_cookie (cookie SWITCHYARD_APP, follows cookieName).', {
        enabled: bool('Keep a client on one target.', DEFAULTS.targetStickiness.enabled),
        type: str('lb_cookie or app_cookie.', {
          enum: ['lb_cookie', 'app_cookie'],
          default: DEFAULTS.targetStickiness.type,
        }),
        durationSeconds: int(
          'Seconds a client stays on its target after its last refresh (1–604800); the cookie is refreshed once half of it has passed.',
          1,
          604800,
          DEFAULTS.targetStickiness.durationSeconds,
        ),
        cookieName: str("app_cookie only: the application's cookie (names starting with SWITCHYARD are reserved).", { ...patterned('cookieName') }),
      }),
      slowStartSeconds: nonNegative(
        "Ramp a newly healthy target's share linearly over this many seconds; 0 = off.",
        DEFAULTS.targetGroup.slowStartSeconds,
      ),
      deregistrationDelaySeconds: nonNegative(
        'Draining targets get this long to finish in-flight requests.',
        DEFAULTS.targetGroup.deregistrationDelaySeconds,
      ),
      connectTimeoutMs: int('Connect timeout to a target, ms (→ 504).', 1, undefined, DEFAULTS.targetGroup.connectTimeoutMs),
      responseTimeoutMs: int(
        'Time to the first byte of the response, ms (→ 504).',
        1,
        undefined,
        DEFAULTS.targetGroup.responseTimeoutMs,
      ),
      retryIdempotentRequests: bool(
        'Also retry GET/HEAD/OPTIONS/PUT/DELETE once elsewhere after a 502/504.',
        DEFAULTS.targetGroup.retryIdempotentRequests,
      ),
      proxyProtocol: str('TCP groups only: send a PROXY protocol header (v1 text or v2 binary) so targets learn the client address.', {
        enum: ['off', 'v1', 'v2'],
        default: DEFAULTS.targetGroup.proxyProtocol,
      }),
      tls: obj('HTTPS groups only: how the targets\' certificates are checked.', {
        verify: bool(
          'Verify the target certificate (chain, expiry, and name: servername, else the target host). false accepts any certificate (self-signed, expired, another name).',
          DEFAULTS.targetTls.verify,
        ),
        ca: str('Path to a PEM CA bundle to verify against, instead of Node\'s built-in roots (relative to the config file).', { minLength: 1 }),
        servername: str('Name sent as SNI and checked in the certificate. Default: the target host (an IP address: no SNI, the certificate must list the IP).', {
          ...patterned('nonBlank'),
        }),
      }),
    },
    ['name'],
  ),
};

const settingsSchema = obj('Process-wide settings.', {
  workers: {
    description: 'Number of data-plane processes, or "auto" (one per core).',
    anyOf: [int('Number of processes.', 1), { type: 'string', const: 'auto' }],
    default: DEFAULTS.settings.workers,
  },
  idleTimeoutSeconds: positive('Client connection idle (keep-alive) timeout.', DEFAULTS.settings.idleTimeoutSeconds),
  requestHeaderTimeoutSeconds: positive(
    'The whole request head must arrive within this (→ 408).',
    DEFAULTS.settings.requestHeaderTimeoutSeconds,
  ),
  shutdownTimeoutSeconds: nonNegative(
    'On SIGTERM/SIGINT, in-flight requests get this long.',
    DEFAULTS.settings.shutdownTimeoutSeconds,
  ),
  maxRequestHeaderBytes: int('Whole request head, bytes (→ 431).', 1, undefined, DEFAULTS.settings.maxRequestHeaderBytes),
  maxRequestHeaderCount: int('Header lines (→ 431).', 1, undefined, DEFAULTS.settings.maxRequestHeaderCount),
  maxUriBytes: int('Request target, bytes (→ 414).', 1, undefined, DEFAULTS.settings.maxUriBytes),
  maxRequestBodyBytes: int('0 = unlimited; otherwise bytes (→ 413).', 0, undefined, DEFAULTS.settings.maxRequestBodyBytes),
  xForwardedFor: str('append: add the client IP; preserve: unchanged; remove: delete.', {
    enum: ['append', 'preserve', 'remove'],
    default: DEFAULTS.settings.xForwardedFor,
  }),
  preserveHostHeader: bool('Send the client Host header to targets.', DEFAULTS.settings.preserveHostHeader),
  mergeSlashes: bool(
    'Merge repeated slashes in request paths ("//admin" → "/admin") before routing and forwarding, as nginx does by default.',
    DEFAULTS.settings.mergeSlashes,
  ),
  desyncMitigation: str('How strictly ambiguous request framing is refused.', {
    enum: ['monitor', 'defensive', 'strictest'],
    default: DEFAULTS.settings.desyncMitigation,
  }),
  stickinessSecret: str(
    "Key for sticky cookies (32+ random characters); nodes sharing it honour each other's cookies. Empty: a random key per start.",
    {
      default: DEFAULTS.settings.stickinessSecret,
    },
  ),
});

/** The whole configuration document. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Switchyard configuration',
  ...obj(
    'Switchyard load balancer configuration (YAML or JSON). ${NAME} and ${NAME:-default} in string values are replaced from the environment.',
    {
      $schema: str('URL or path of this schema (for editors); ignored.'),
      settings: settingsSchema,
      admin: obj('Admin API (JSON) and dashboard.', {
        host: str('Address to bind; a non-loopback address requires a token.', {
          minLength: 1,
          default: DEFAULTS.admin.host,
        }),
        port: { ...ref('port'), default: DEFAULTS.admin.port } as JsonSchema,
        token: str('Bearer token; empty: no auth (loopback only).', { default: DEFAULTS.admin.token }),
      }),
      accessLog: obj('Access log: one JSON object per request.', {
        path: str('"stdout", "off" or a file path.', { minLength: 1, default: DEFAULTS.accessLog.path }),
      }),
      listeners: { type: 'array', description: 'Listeners.', items: ref('listener') },
      targetGroups: { type: 'array', description: 'Target groups.', items: ref('targetGroup'), default: [] },
    },
    ['listeners'],
  ),
  definitions,
};

/**
 * The JSON types the schema accepts at a document path (segments of a JSON pointer), following
 * `$ref`, `properties`, `additionalProperties`, `items` and `anyOf`/`oneOf`. Null when the path
 * is not described by the schema.
 */
export function schemaTypesAt(segments: readonly string[]): Set<string> | null {
  let nodes: JsonSchema[] = [configSchema];
  for (const seg of segments) {
    const next: JsonSchema[] = [];
    for (const n of expand(nodes)) {
      const p = n.properties?.[seg];
      if (p !== undefined) next.push(p);
      else if (typeof n.additionalProperties === 'object') next.push(n.additionalProperties);
      if (n.items !== undefined && /^\d+$/.test(seg)) next.push(n.items);
    }
    if (next.length === 0) return null;
    nodes = next;
  }
  const types = new Set<string>();
  for (const n of expand(nodes)) {
    if (n.type !== undefined) types.add(n.type);
    else if (typeof n.const === 'boolean') types.add('boolean');
    else if (typeof n.const === 'string') types.add('string');
  }
  return types;
}

/** Resolves `$ref`s and flattens `anyOf`/`oneOf` alternatives that carry a type. */
function expand(nodes: readonly JsonSchema[]): JsonSchema[] {
  const out: JsonSchema[] = [];
  const visit = (n: JsonSchema, depth: number): void => {
    if (depth > 8) return;
    if (n.$ref !== undefined) {
      const target = definitions[n.$ref.slice('#/definitions/'.length)];
      if (target !== undefined) visit(target, depth + 1);
      return;
    }
    out.push(n);
    for (const alt of n.anyOf ?? []) visit(alt, depth + 1);
  };
  for (const n of nodes) visit(n, 0);
  return out;
}
