/**
 * Validation of a configuration document (after `${ENV}` substitution): a schema pass (ajv's
 * code for `configSchema`, generated at build time) whose errors are rewritten into readable
 * messages, then a semantic pass for what a JSON Schema cannot say (unique names and
 * priorities, references, exactly-one-of groups, CIDR/regex/matcher syntax, protocol
 * compatibility, port clashes, admin exposure).
 *
 * Owns: turning a document into the complete list of `ConfigError`s, in document order.
 * Never throws on bad input and never stops at the first error. No I/O: certificate files are
 * not read here (the TLS module reports unreadable files when it loads them).
 */
import type { ErrorObject } from 'ajv';
import { validate as generatedValidator } from './schema-validator.generated.js';
import { parseCidr, parseIp } from '../util/cidr.js';
import { DEFAULTS } from './defaults.js';
import { compareConfigErrors, type ConfigError } from './errors.js';
import { configSchema, patternHint, type JsonSchema } from './schema.js';

/** Where a node of the document is in the source text; `key` asks for a map key's position. */
export type Locate = (path: string, target?: 'key' | 'value') => { line: number; column: number };

/** A `Locate` for documents without source text (positions are reported as 0:0). */
export const locateNowhere: Locate = () => ({ line: 0, column: 0 });

// ajv's code for configSchema, generated at build time (write-schema.ts; drift test in
// test/unit/config/schema-drift.test.ts): nothing is compiled when Switchyard starts.
const schemaValidator = generatedValidator as ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Every error of the document, schema errors and semantic errors, ordered by position. */
export function validateConfig(doc: unknown, locate: Locate): ConfigError[] {
  const out: ConfigError[] = [];
  const seen = new Set<string>();
  for (const e of [...schemaErrors(doc, locate), ...semanticErrors(doc, locate)]) {
    const id = `${e.path}\u0000${e.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(e);
  }
  return out.sort(compareConfigErrors);
}

// =============================================================================================
// Schema pass
// =============================================================================================

function schemaErrors(doc: unknown, locate: Locate): ConfigError[] {
  if (schemaValidator(doc)) return [];
  const raw = schemaValidator.errors ?? [];
  // anyOf alternatives are reported once, by the anyOf error itself.
  const anyOfScopes = raw.filter((e) => e.keyword === 'anyOf').map((e) => `${e.instancePath}\u0000${e.schemaPath}/`);
  // A missing required key that an unknown key looks like a typo of is reported once, as the
  // unknown key with its suggestion ("prioirty" → did you mean "priority"?).
  const typoFor = new Set<string>();
  for (const e of raw) {
    if (e.keyword !== 'additionalProperties') continue;
    const allowed = Object.keys(((e.parentSchema ?? {}) as JsonSchema).properties ?? {});
    const guess = suggest(String((e.params as Record<string, unknown>)['additionalProperty']), allowed);
    if (guess !== undefined) typoFor.add(`${e.instancePath}\u0000${guess}`);
  }
  const out: ConfigError[] = [];
  for (const e of raw) {
    if (e.keyword === 'required' && typoFor.has(`${e.instancePath}\u0000${String((e.params as Record<string, unknown>)['missingProperty'])}`)) {
      continue;
    }
    // Exactly-one-of groups get clearer messages from the semantic pass.
    if (e.keyword === 'oneOf' || e.schemaPath.includes('/oneOf/')) continue;
    if (e.keyword === 'propertyNames') continue; // reported through its sub-error (it names the key)
    const scope = `${e.instancePath}\u0000${e.schemaPath}`;
    if (anyOfScopes.some((s) => scope.startsWith(s))) continue;
    out.push(mapAjvError(e, locate));
  }
  return out;
}

function at(locate: Locate, path: string, expected: string, message: string, target: 'key' | 'value' = 'value'): ConfigError {
  const { line, column } = locate(path, target);
  return { path, line, column, expected, message };
}

function mapAjvError(e: ErrorObject, locate: Locate): ConfigError {
  const parent = (e.parentSchema ?? {}) as JsonSchema;
  const path = e.instancePath;
  const params = e.params as Record<string, unknown>;
  if (e.propertyName !== undefined) {
    // A map key (header or cookie name) failed its propertyNames schema.
    const keyPath = `${path}/${escapeSegment(e.propertyName)}`;
    const hint = typeof params['pattern'] === 'string' ? patternHint(params['pattern']) : undefined;
    return at(locate, keyPath, hint ?? describeSchema(parent), `invalid name "${e.propertyName}"`, 'key');
  }
  switch (e.keyword) {
    case 'required': {
      const key = String(params['missingProperty']);
      const prop = parent.properties?.[key];
      const expected = prop !== undefined ? `key "${key}" (${describeSchema(prop)})` : `key "${key}"`;
      return at(locate, path, expected, `missing required key "${key}"`);
    }
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys(parent.properties ?? {});
      const guess = suggest(key, allowed);
      const message = `unknown key "${key}"${guess !== undefined ? `; did you mean "${guess}"?` : ''}`;
      const expected = allowed.length > 0 ? `one of the keys: ${allowed.join(', ')}` : 'no keys';
      return at(locate, `${path}/${escapeSegment(key)}`, expected, message, 'key');
    }
    case 'type':
      return at(locate, path, describeSchema(parent), `must be ${article(String(params['type']))}, not ${preview(e.data)}`);
    case 'enum': {
      const allowed = (parent.enum ?? []).map(String);
      const guess = typeof e.data === 'string' ? suggest(e.data, allowed) : undefined;
      const message = `${preview(e.data)} is not one of the allowed values${guess !== undefined ? `; did you mean "${guess}"?` : ''}`;
      return at(locate, path, describeSchema(parent), message);
    }
    case 'const':
      return at(locate, path, describeSchema(parent), `must be ${JSON.stringify(params['allowedValue'])}, not ${preview(e.data)}`);
    case 'anyOf':
      return at(locate, path, describeSchema(parent), `${preview(e.data)} is not valid here`);
    case 'pattern': {
      const hint = patternHint(String(params['pattern']));
      return at(locate, path, hint ?? `text matching /${String(params['pattern'])}/`, `${preview(e.data)} is not valid`);
    }
    case 'minLength':
      return at(
        locate,
        path,
        describeSchema(parent),
        params['limit'] === 1 ? 'must not be empty' : `must be at least ${String(params['limit'])} characters`,
      );
    case 'maxLength': {
      const len = typeof e.data === 'string' ? [...e.data].length : 0;
      return at(locate, path, describeSchema(parent), `must be at most ${String(params['limit'])} characters (is ${len})`);
    }
    case 'minItems':
      return at(
        locate,
        path,
        describeSchema(parent),
        params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} items`,
      );
    case 'uniqueItems':
      return at(
        locate,
        `${path}/${String(params['i'])}`,
        describeSchema(parent),
        `duplicate of item ${String(params['j'])}`,
      );
    default:
      // minimum, maximum, exclusiveMinimum and the rest: ajv's text is already clear ("must be <= 50000").
      return at(locate, path, describeSchema(parent), e.message ?? `fails ${e.keyword}`);
  }
}

/** What a schema node accepts, in words: `integer 1–50000`, `one of: HTTP, HTTPS, TCP, UDP`. */
export function describeSchema(node: JsonSchema): string {
  if (node.$ref !== undefined) {
    const target = configSchema.definitions?.[node.$ref.slice('#/definitions/'.length)];
    return target !== undefined ? describeSchema(target) : 'a valid value';
  }
  if (node.anyOf !== undefined) return node.anyOf.map(describeSchema).join(' or ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum !== undefined) return `one of: ${node.enum.join(', ')}`;
  if (node.pattern !== undefined) {
    const hint = patternHint(node.pattern);
    if (hint !== undefined) return hint;
  }
  switch (node.type) {
    case 'integer':
    case 'number': {
      const lo = node.minimum;
      const hi = node.maximum;
      if (lo !== undefined && hi !== undefined) return `${node.type} ${lo}–${hi}`;
      if (lo !== undefined) return `${node.type} >= ${lo}`;
      if (node.exclusiveMinimum !== undefined) return `${node.type} > ${node.exclusiveMinimum}`;
      return node.type;
    }
    case 'string':
      if (node.maxLength !== undefined) return `string of ${node.minLength ?? 0}–${node.maxLength} characters`;
      return node.minLength !== undefined && node.minLength > 0 ? 'non-empty string' : 'string';
    case 'array':
      return node.items !== undefined ? `array of ${plural(describeSchema(node.items))}` : 'array';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'object';
    default:
      return 'a valid value';
  }
}

function plural(what: string): string {
  if (what === 'object') return 'objects';
  if (what === 'string') return 'strings';
  return what;
}

function article(type: string): string {
  if (type === 'integer' || type === 'object' || type === 'array') return `an ${type}`;
  return `a ${type}`;
}

/** A short rendering of a value for messages. */
function preview(v: unknown): string {
  if (v === null || v === undefined) return 'empty (null)';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…"` : text;
}

/** The closest allowed word when it is near enough to be a probable typo. */
function suggest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const cand of allowed) {
    if (cand.toLowerCase() === word.toLowerCase()) return cand;
    const d = editDistance(word.toLowerCase(), cand.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = cand;
    }
  }
  return bestDist <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Edit distance where swapping two adjacent letters counts as one edit ("prot" → "port"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** JSON-pointer escaping of one path segment (RFC 6901). */
export function escapeSegment(seg: string): string {
  return seg.replace(/~/g, '~0').replace(/\//g, '~1');
}

// =============================================================================================
// Semantic pass
// =============================================================================================

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const has = (o: Obj, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

const ACTION_KEYS = ['forward', 'redirect', 'fixedResponse'] as const;
const HASH_ON_KEYS = ['sourceIp', 'header', 'cookie', 'path'] as const;
const LISTENER_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TCP', 'UDP']);
const REDIRECT_PLACEHOLDERS = new Set(['protocol', 'host', 'port', 'path', 'query']);

interface ListenerCtx {
  readonly name: string;
  /** Null when the listener's protocol is missing or invalid. */
  readonly protocol: string | null;
  readonly layer4: boolean;
}

class Semantic {
  readonly errors: ConfigError[] = [];
  /** Target group name → its protocol (default HTTP). */
  readonly groups = new Map<string, string>();
  readonly #locate: Locate;

  constructor(locate: Locate) {
    this.#locate = locate;
  }

  add(path: string, message: string, expected: string, target: 'key' | 'value' = 'value'): void {
    this.errors.push(at(this.#locate, path, expected, message, target));
  }

  run(doc: unknown): void {
    if (!isObj(doc)) return;
    this.targetGroups(list(doc['targetGroups']));
    this.listeners(list(doc['listeners']), isObj(doc['admin']) ? doc['admin'] : {});
    if (isObj(doc['admin'])) this.admin(doc['admin']);
  }

  // ---- target groups --------------------------------------------------------------------------

  targetGroups(groups: unknown[]): void {
    const first = new Map<string, string>();
    groups.forEach((g, i) => {
      if (!isObj(g)) return;
      const path = `/targetGroups/${i}`;
      const protocol = typeof g['protocol'] === 'string' ? g['protocol'] : DEFAULTS.targetGroup.protocol;
      if (typeof g['name'] === 'string') {
        const prev = first.get(g['name']);
        if (prev !== undefined) {
          this.add(`${path}/name`, `duplicate target group name "${g['name']}" (first defined at ${prev})`, 'a unique name');
        } else {
          first.set(g['name'], path);
          this.groups.set(g['name'], protocol);
        }
      }
      const layer4 = protocol === 'TCP' || protocol === 'UDP';
      if (layer4 && (g['protocolVersion'] === 'HTTP2' || g['protocolVersion'] === 'GRPC')) {
        this.add(
          `${path}/protocolVersion`,
          `protocolVersion ${String(g['protocolVersion'])} needs an HTTP or HTTPS target group, not ${protocol}`,
          'HTTP1, or protocol HTTP/HTTPS',
        );
      }
      if (isObj(g['hashOn'])) this.hashOn(g['hashOn'], `${path}/hashOn`, layer4, protocol);
      if (isObj(g['stickiness'])) this.targetStickiness(g['stickiness'], `${path}/stickiness`, layer4, protocol);
      if (isObj(g['healthCheck'])) this.healthCheck(g['healthCheck'], `${path}/healthCheck`);
      if (has(g, 'proxyProtocol') && g['proxyProtocol'] !== 'off' && protocol !== 'TCP') {
        this.add(`${path}/proxyProtocol`, `proxyProtocol is only sent to TCP target groups, not ${protocol}`, 'proxyProtocol: off, or protocol TCP');
      }
      if (has(g, 'tls') && protocol !== 'HTTPS') {
        this.add(`${path}/tls`, `"tls" is only used by HTTPS target groups (TLS to targets), not ${protocol}`, 'protocol: HTTPS, or no tls', 'key');
      }
      this.targets(list(g['targets']), `${path}/targets`);
    });
  }

  hashOn(h: Obj, path: string, layer4: boolean, protocol: string): void {
    const present = HASH_ON_KEYS.filter((k) => has(h, k));
    if (present.length === 0) {
      this.add(path, 'hashOn needs exactly one of sourceIp, header, cookie or path', 'one of: sourceIp: true, header: NAME, cookie: NAME, path: true');
    } else if (present.length > 1) {
      this.add(
        `${path}/${present[1]!}`,
        `hashOn has both "${present[0]!}" and "${present[1]!}"; choose one`,
        'exactly one of sourceIp, header, cookie or path',
        'key',
      );
    }
    if (layer4) {
      for (const k of present) {
        if (k !== 'sourceIp') {
          this.add(`${path}/${k}`, `a ${protocol} target group cannot hash on ${k} (no HTTP request)`, 'sourceIp: true', 'key');
        }
      }
    }
  }

  targetStickiness(s: Obj, path: string, layer4: boolean, protocol: string): void {
    const type = typeof s['type'] === 'string' ? s['type'] : DEFAULTS.targetStickiness.type;
    if (type === 'app_cookie' && !has(s, 'cookieName')) {
      this.add(path, 'app_cookie stickiness needs cookieName (the application cookie to follow)', 'key "cookieName"');
    }
    if (type === 'app_cookie' && typeof s['cookieName'] === 'string' && s['cookieName'].startsWith('SWITCHYARD')) {
      this.add(`${path}/cookieName`, `cookie names starting with SWITCHYARD are Switchyard's own (SWITCHYARD, SWITCHYARD_APP, SWITCHYARDTG)`, "the application's cookie, e.g. JSESSIONID");
    }
    if (type === 'lb_cookie' && has(s, 'cookieName')) {
      this.add(`${path}/cookieName`, 'cookieName only applies to type app_cookie', 'type: app_cookie, or no cookieName', 'key');
    }
    if (layer4 && s['enabled'] === true) {
      this.add(`${path}/enabled`, `stickiness uses cookies and cannot work on a ${protocol} target group`, 'enabled: false, or protocol HTTP/HTTPS');
    }
  }

  healthCheck(h: Obj, path: string): void {
    const interval = typeof h['intervalSeconds'] === 'number' ? h['intervalSeconds'] : DEFAULTS.healthCheck.intervalSeconds;
    const timeout = typeof h['timeoutSeconds'] === 'number' ? h['timeoutSeconds'] : DEFAULTS.healthCheck.timeoutSeconds;
    if (timeout > interval) {
      const where = has(h, 'timeoutSeconds') ? 'timeoutSeconds' : 'intervalSeconds';
      const note = has(h, 'timeoutSeconds') && has(h, 'intervalSeconds') ? '' : ' (counting defaults)';
      this.add(
        `${path}/${where}`,
        `timeoutSeconds (${timeout}) must not exceed intervalSeconds (${interval})${note}`,
        'timeoutSeconds <= intervalSeconds',
      );
    }
    if (typeof h['matcher'] === 'string') {
      const problem = matcherProblem(h['matcher']);
      if (problem !== null) this.add(`${path}/matcher`, problem, 'HTTP status codes and ranges 100–599, e.g. "200-399,404"');
    }
  }

  targets(targets: unknown[], path: string): void {
    const first = new Map<string, number>();
    targets.forEach((t, k) => {
      if (!isObj(t) || typeof t['host'] !== 'string' || !isPort(t['port'])) return;
      const id = `${t['host'].toLowerCase()}:${t['port']}`;
      const prev = first.get(id);
      if (prev !== undefined) {
        this.add(`${path}/${k}`, `duplicate target ${t['host']}:${t['port']} (also ${path}/${prev})`, 'each host:port once per target group');
      } else {
        first.set(id, k);
      }
    });
  }

  // ---- listeners ------------------------------------------------------------------------------

  listeners(listeners: unknown[], admin: Obj): void {
    const names = new Map<string, string>();
    const binds: { transport: string; host: string; port: number; owner: string }[] = [];
    const adminPort = has(admin, 'port') ? admin['port'] : DEFAULTS.admin.port;
    if (isPort(adminPort) && adminPort !== 0) {
      const host = typeof admin['host'] === 'string' ? admin['host'] : DEFAULTS.admin.host;
      binds.push({ transport: 'tcp', host: host.toLowerCase(), port: adminPort, owner: 'the admin API' });
    }
    listeners.forEach((l, i) => {
      if (!isObj(l)) return;
      const path = `/listeners/${i}`;
      const name = typeof l['name'] === 'string' ? l['name'] : `#${i}`;
      if (typeof l['name'] === 'string') {
        const prev = names.get(l['name']);
        if (prev !== undefined) {
          this.add(`${path}/name`, `duplicate listener name "${l['name']}" (first defined at ${prev})`, 'a unique name');
        } else {
          names.set(l['name'], path);
        }
      }
      const protocol = typeof l['protocol'] === 'string' ? l['protocol'] : '';
      if (isPort(l['port']) && l['port'] !== 0) {
        const host = (typeof l['host'] === 'string' ? l['host'] : DEFAULTS.listener.host).toLowerCase();
        const transport = protocol === 'UDP' ? 'udp' : 'tcp';
        const clash = binds.find((b) => b.transport === transport && b.port === l['port'] && hostsOverlap(b.host, host));
        if (clash !== undefined) {
          this.add(
            `${path}/port`,
            `${transport.toUpperCase()} port ${l['port']} on ${host} is already used by ${clash.owner} (${clash.host}:${clash.port})`,
            'a port not used by another listener or the admin API on the same address',
          );
        }
        binds.push({ transport, host, port: l['port'], owner: `listener "${name}"` });
      }
      // An unknown protocol is reported by the schema pass; the checks that depend on it are skipped.
      const known = LISTENER_PROTOCOLS.has(protocol);
      const ctx: ListenerCtx = { name, protocol: known ? protocol : null, layer4: protocol === 'TCP' || protocol === 'UDP' };
      if (known) this.listenerTls(l, path, ctx);
      if (known) this.listenerLayer4(l, path, ctx);
      this.protection(l['protection'], `${path}/protection`, ctx);
      if (ctx.layer4 && list(l['rules']).length > 0) {
        this.add(
          `${path}/rules`,
          `a ${protocol} listener cannot have rules (there is no HTTP request to match); use defaultAction.forward`,
          'no rules on TCP/UDP listeners',
          'key',
        );
      }
      const priorities = new Map<number, string>();
      list(l['rules']).forEach((r, j) => {
        const rulePath = `${path}/rules/${j}`;
        if (isObj(r) && typeof r['priority'] === 'number' && Number.isInteger(r['priority'])) {
          const prev = priorities.get(r['priority']);
          if (prev !== undefined) {
            this.add(
              `${rulePath}/priority`,
              `duplicate priority ${r['priority']} in listener "${name}" (also used by ${prev})`,
              'a priority unique within the listener',
            );
          } else {
            priorities.set(r['priority'], rulePath);
          }
        }
        // Rules on TCP/UDP listeners are already an error; still check their CIDRs.
        this.rule(r, rulePath, ctx.layer4 ? null : ctx);
      });
      if (isObj(l['defaultAction'])) this.action(l['defaultAction'], `${path}/defaultAction`, ctx, 'defaultAction');
    });
  }

  listenerTls(l: Obj, path: string, ctx: ListenerCtx): void {
    if (ctx.protocol === 'HTTPS') {
      if (!has(l, 'certificates')) {
        this.add(path, 'an HTTPS listener needs at least one certificate', 'certificates: [{certFile, keyFile}, …]');
      }
    } else {
      for (const key of ['certificates', 'tls']) {
        if (has(l, key)) this.add(`${path}/${key}`, `"${key}" is only allowed on HTTPS listeners, not ${String(ctx.protocol)}`, 'protocol: HTTPS, or no ' + key, 'key');
      }
    }
    const tls = l['tls'];
    if (isObj(tls) && has(tls, 'clientCertMode') && !has(tls, 'clientCa')) {
      this.add(`${path}/tls/clientCertMode`, 'clientCertMode needs clientCa (the CA bundle client certificates are checked against)', 'key "clientCa"', 'key');
    }
  }

  listenerLayer4(l: Obj, path: string, ctx: ListenerCtx): void {
    if (!ctx.layer4 && has(l, 'idleTimeoutSeconds')) {
      this.add(
        `${path}/idleTimeoutSeconds`,
        `"idleTimeoutSeconds" is only allowed on TCP/UDP listeners, not ${String(ctx.protocol)} (use settings.idleTimeoutSeconds)`,
        'protocol: TCP or UDP, or no idleTimeoutSeconds',
        'key',
      );
    }
    if (ctx.layer4 && has(l, 'maxConnections')) {
      this.add(`${path}/maxConnections`, `"maxConnections" is only enforced on HTTP/HTTPS listeners, not ${String(ctx.protocol)}`, 'protocol: HTTP or HTTPS, or no maxConnections', 'key');
    }
    if (ctx.protocol !== 'UDP' && has(l, 'maxFlows')) {
      this.add(`${path}/maxFlows`, `"maxFlows" is only allowed on UDP listeners, not ${String(ctx.protocol)}`, 'protocol: UDP, or no maxFlows', 'key');
    }
  }

  rule(r: unknown, path: string, ctx: ListenerCtx | null): void {
    if (!isObj(r)) return;
    if (isObj(r['match'])) {
      const src = r['match']['sourceIp'];
      list(src).forEach((c, k) => this.cidr(c, `${path}/match/sourceIp/${k}`));
    }
    this.protection(r['protection'], `${path}/protection`, ctx);
    if (ctx !== null) this.action(r, path, ctx, 'rule');
  }

  protection(p: unknown, path: string, ctx: ListenerCtx | null): void {
    if (!isObj(p)) return;
    for (const key of ['ipAllow', 'ipDeny']) list(p[key]).forEach((c, k) => this.cidr(c, `${path}/${key}/${k}`));
    if (ctx?.layer4 === true) {
      if (has(p, 'waf')) this.add(`${path}/waf`, `waf inspects HTTP requests and cannot run on a ${ctx.protocol} listener`, 'no waf on TCP/UDP listeners', 'key');
      const rl = p['rateLimit'];
      if (isObj(rl) && typeof rl['key'] === 'string' && rl['key'].startsWith('header:')) {
        this.add(`${path}/rateLimit/key`, `a ${ctx.protocol} listener has no HTTP headers to key a rate limit on`, 'key: sourceIp');
      }
    }
    if (isObj(p['waf'])) this.wafRules(list(p['waf']['rules']), `${path}/waf/rules`);
  }

  wafRules(rules: unknown[], path: string): void {
    const names = new Map<string, string>();
    rules.forEach((r, i) => {
      if (!isObj(r)) return;
      const rulePath = `${path}/${i}`;
      if (typeof r['name'] === 'string') {
        const prev = names.get(r['name']);
        if (prev !== undefined) this.add(`${rulePath}/name`, `duplicate WAF rule name "${r['name']}" (first defined at ${prev})`, 'a name unique within the WAF');
        else names.set(r['name'], rulePath);
      }
      if (!['match', 'path', 'query', 'header', 'body'].some((k) => has(r, k))) {
        this.add(rulePath, 'a WAF rule needs at least one condition', 'one or more of match, path, query, header, body');
      }
      const flags = r['caseSensitive'] === true ? '' : 'i';
      const regexes = (key: string, values: unknown, at: string): void => {
        list(values).forEach((v, k) => {
          if (typeof v !== 'string') return;
          try {
            new RegExp(v, flags);
          } catch (err) {
            this.add(`${at}/${k}`, `invalid regular expression ${JSON.stringify(v)}: ${(err as Error).message}`, `a JavaScript regular expression for ${key}`);
          }
        });
      };
      for (const key of ['path', 'query', 'body']) regexes(key, r[key], `${rulePath}/${key}`);
      if (isObj(r['header'])) for (const [name, values] of Object.entries(r['header'])) regexes('header', values, `${rulePath}/header/${name}`);
      if (isObj(r['match'])) list(r['match']['sourceIp']).forEach((c, k) => this.cidr(c, `${rulePath}/match/sourceIp/${k}`));
    });
  }

  cidr(c: unknown, path: string): void {
    if (typeof c === 'string' && c !== '' && parseCidr(c) === null) {
      this.add(path, `invalid IP address or CIDR block "${c}"`, 'an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32');
    }
  }

  // ---- actions --------------------------------------------------------------------------------

  action(a: Obj, path: string, ctx: ListenerCtx, owner: 'rule' | 'defaultAction'): void {
    const present = ACTION_KEYS.filter((k) => has(a, k));
    if (present.length === 0) {
      this.add(path, `${owner} needs an action: forward, redirect or fixedResponse`, 'exactly one of forward, redirect or fixedResponse');
    } else if (present.length > 1) {
      this.add(
        `${path}/${present[1]!}`,
        `${owner} has both "${present[0]!}" and "${present[1]!}"; only one action is allowed`,
        'exactly one of forward, redirect or fixedResponse',
        'key',
      );
    }
    if (ctx.layer4) {
      for (const k of present) {
        if (k !== 'forward') {
          this.add(`${path}/${k}`, `a ${ctx.protocol} listener can only forward (${k} needs HTTP)`, 'forward', 'key');
        }
      }
    }
    if (isObj(a['forward'])) this.forward(a['forward'], `${path}/forward`, ctx);
    if (isObj(a['redirect'])) this.redirect(a['redirect'], `${path}/redirect`, ctx);
  }

  forward(f: Obj, path: string, ctx: ListenerCtx): void {
    const single = has(f, 'targetGroup');
    const multi = has(f, 'targetGroups');
    if (!single && !multi) {
      this.add(path, 'forward needs targetGroup or targetGroups', 'targetGroup: NAME, or targetGroups: [{name, weight}, …]');
    } else if (single && multi) {
      this.add(`${path}/targetGroups`, 'forward has both targetGroup and targetGroups; use one', 'exactly one of targetGroup or targetGroups', 'key');
    }
    if (typeof f['targetGroup'] === 'string') this.groupRef(f['targetGroup'], `${path}/targetGroup`, ctx);
    const entries = list(f['targetGroups']);
    const seen = new Map<string, number>();
    let allZero = entries.length > 0;
    entries.forEach((e, k) => {
      if (!isObj(e)) {
        allZero = false;
        return;
      }
      if (e['weight'] !== 0) allZero = false;
      if (typeof e['name'] !== 'string') return;
      const prev = seen.get(e['name']);
      if (prev !== undefined) {
        this.add(`${path}/targetGroups/${k}/name`, `target group "${e['name']}" is listed twice (also at ${path}/targetGroups/${prev})`, 'each target group once');
      } else {
        seen.set(e['name'], k);
      }
      this.groupRef(e['name'], `${path}/targetGroups/${k}/name`, ctx);
    });
    if (allZero) {
      this.add(`${path}/targetGroups`, 'every target group weight is 0, so no request could be forwarded', 'at least one weight > 0');
    }
    const rw = f['rewritePath'];
    if (isObj(rw) && typeof rw['regex'] === 'string') {
      try {
        new RegExp(rw['regex']);
      } catch (err) {
        const text = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
        this.add(`${path}/rewritePath/regex`, `invalid regular expression: ${text}`, 'a JavaScript regular expression');
      }
    }
    if (ctx.layer4) {
      for (const key of ['stickiness', 'requestHeaders', 'rewritePath']) {
        if (has(f, key)) {
          this.add(`${path}/${key}`, `${key} needs HTTP and has no effect on a ${ctx.protocol} listener`, `no ${key} on TCP/UDP listeners`, 'key');
        }
      }
    }
  }

  groupRef(name: string, path: string, ctx: ListenerCtx): void {
    const protocol = this.groups.get(name);
    if (protocol === undefined) {
      const guess = suggest(name, [...this.groups.keys()]);
      this.add(
        path,
        `unknown target group "${name}"${guess !== undefined ? `; did you mean "${guess}"?` : ''}`,
        'the name of a target group defined under targetGroups',
      );
      return;
    }
    if (ctx.protocol === null) return;
    const ok = ctx.layer4 ? protocol === ctx.protocol : protocol === 'HTTP' || protocol === 'HTTPS';
    if (!ok) {
      this.add(
        path,
        `${ctx.protocol} listener "${ctx.name}" cannot forward to ${protocol} target group "${name}"`,
        ctx.layer4 ? `a target group with protocol ${ctx.protocol}` : 'a target group with protocol HTTP or HTTPS',
      );
    }
  }

  redirect(r: Obj, path: string, ctx: ListenerCtx): void {
    for (const key of ['protocol', 'host', 'port', 'path', 'query']) {
      const v = r[key];
      if (typeof v !== 'string') continue;
      for (const m of v.matchAll(/#\{([^}]*)\}/g)) {
        if (!REDIRECT_PLACEHOLDERS.has(m[1]!)) {
          this.add(`${path}/${key}`, `unknown placeholder "${m[0]}"`, '#{protocol}, #{host}, #{port}, #{path} or #{query}');
        }
      }
    }
    const p = r['path'];
    if (typeof p === 'string' && !p.startsWith('/')) {
      const hint = p.startsWith('#{path}') ? ' (#{path} has no leading "/"; write "/#{path}")' : '';
      this.add(`${path}/path`, `redirect path must start with "/"${hint}`, 'a path starting with "/", e.g. "/new/#{path}"');
    }
    const same = (key: string, identity: string): boolean => !has(r, key) || r[key] === identity;
    const sameProtocol = same('protocol', '#{protocol}') || r['protocol'] === ctx.protocol;
    if (sameProtocol && same('host', '#{host}') && same('port', '#{port}') && same('path', '/#{path}')) {
      this.add(path, 'redirect would loop: it changes none of protocol, host, port or path', 'at least one of protocol, host, port or path changed');
    }
  }

  // ---- admin ----------------------------------------------------------------------------------

  admin(a: Obj): void {
    const host = typeof a['host'] === 'string' ? a['host'] : DEFAULTS.admin.host;
    const token = typeof a['token'] === 'string' ? a['token'] : DEFAULTS.admin.token;
    if (token.trim() === '' && !isLoopback(host)) {
      this.add(
        has(a, 'token') ? '/admin/token' : '/admin/host',
        `the admin API on non-loopback host "${host}" needs a token`,
        'admin.token set, or host 127.0.0.1, ::1 or localhost',
      );
    }
  }
}

function semanticErrors(doc: unknown, locate: Locate): ConfigError[] {
  const s = new Semantic(locate);
  s.run(doc);
  return s.errors;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const bytes = parseIp(host);
  if (bytes === null) return false;
  if (bytes.length === 4) return bytes[0] === 127;
  for (let i = 0; i < 15; i++) if (bytes[i] !== 0) return false;
  return bytes[15] === 1;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/** Two bind addresses clash when equal or when either is a wildcard address. */
function hostsOverlap(a: string, b: string): boolean {
  return a === b || WILDCARD_HOSTS.has(a) || WILDCARD_HOSTS.has(b);
}

/** Null when `matcher` is a valid list like "200-399,404"; otherwise what is wrong. */
export function matcherProblem(matcher: string): string | null {
  for (const raw of matcher.split(',')) {
    const part = raw.trim();
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (m === null) return `invalid matcher "${matcher}": "${part}" is not a status code or range`;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (lo < 100 || hi > 599) return `invalid matcher "${matcher}": "${part}" is outside 100–599`;
    if (lo > hi) return `invalid matcher "${matcher}": range "${part}" starts after it ends`;
  }
  return null;
}
