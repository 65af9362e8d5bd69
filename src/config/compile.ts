/**
 * Resolved config → the immutable runtime snapshot the data plane reads (ARCHITECTURE §6.2).
 *
 * Owns: compiling every listener's rules into a matcher, actions into ready-to-run forms
 * (pre-rendered fixed responses, redirect templates, cumulative group weights, header rules,
 * rewrite regexes) and settings into milliseconds. Target groups are resolved to their live
 * runtime objects, which the caller reconciled first, so no request looks a name up. No I/O.
 */
import type { ResolvedAction, ResolvedConfig, ResolvedFixedResponse, ResolvedListener, ResolvedSettings } from './defaults.js';
import { createMatcher, type Matcher } from '../router/matcher.js';
import { compileRedirect, type CompiledRedirect } from '../actions/redirect.js';
import { byteString, compileHeaderRules, type CompiledHeaderRules } from '../proxy/headers.js';
import { renderLocalReplyVariants } from '../proxy/local-reply.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { compileProtection, type CompiledProtection } from '../protection/protection.js';
import type { StickyCodec } from '../targets/stickiness/cookie-codec.js';
import type { CompiledGroupStickiness } from '../targets/stickiness/group-stickiness.js';

export interface CompiledSettings {
  readonly idleTimeoutMs: number;
  readonly requestHeaderTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly maxRequestHeaderBytes: number;
  readonly maxRequestHeaderCount: number;
  readonly maxUriBytes: number;
  /** 0 = unlimited. */
  readonly maxRequestBodyBytes: number;
  readonly xForwardedFor: ResolvedSettings['xForwardedFor'];
  readonly preserveHostHeader: boolean;
  /** Merge runs of `/` in request paths before routing and forwarding. */
  readonly mergeSlashes: boolean;
  readonly desyncMitigation: ResolvedSettings['desyncMitigation'];
}

export interface CompiledForward {
  readonly kind: 'forward';
  /** Groups with weight > 0, and the running sum of their weights for the draw. */
  readonly groups: readonly TargetGroupRuntime[];
  readonly cumulativeWeights: readonly number[];
  readonly totalWeight: number;
  readonly headerRules: CompiledHeaderRules;
  readonly rewrite: { readonly regex: RegExp; readonly replace: string } | null;
  /** Group stickiness (SWITCHYARDTG); null when off or when there is a single group to choose. */
  readonly groupStickiness: CompiledGroupStickiness | null;
  /** Signs and reads sticky cookies for the groups' target stickiness; null: no stickiness. */
  readonly stickyCodec: StickyCodec | null;
}

export interface CompiledRedirectAction {
  readonly kind: 'redirect';
  readonly redirect: CompiledRedirect;
}

export interface CompiledFixedResponse {
  readonly kind: 'fixedResponse';
  readonly statusCode: number;
  /** The parts, for protocols that don't take the pre-rendered HTTP/1.1 bytes (HTTP/2). */
  readonly contentType: string;
  readonly body: Buffer;
  /** The whole response, pre-rendered for keep-alive and for close, with and without body. */
  readonly keepAlive: Buffer;
  readonly close: Buffer;
  readonly keepAliveHead: Buffer;
  readonly closeHead: Buffer;
}

export type CompiledAction = CompiledForward | CompiledRedirectAction | CompiledFixedResponse;

export interface CompiledListener {
  readonly name: string;
  readonly protocol: ResolvedListener['protocol'];
  readonly host: string;
  readonly port: number;
  readonly matcher: Matcher<CompiledAction>;
  /** The compiled default action (also the matcher's); the only action of TCP/UDP listeners. */
  readonly defaultAction: CompiledAction;
  readonly settings: CompiledSettings;
  readonly resolved: ResolvedListener;
  /** The listener's `protection`, null when it has none (src/protection/). */
  readonly protection: CompiledProtection | null;
  /** Rule priority → the rule's `protection`; null when no rule has one. */
  readonly ruleProtection: ReadonlyMap<number, CompiledProtection> | null;
  /** HTTP/HTTPS: most client connections at once; 0 = no limit. */
  readonly maxConnections: number;
}

export interface RuntimeConfig {
  readonly generation: number;
  readonly resolved: ResolvedConfig;
  readonly settings: CompiledSettings;
  readonly listeners: ReadonlyMap<string, CompiledListener>;
  /** Every fixed response of this config by content (status, content type and body): the next reload reuses them. */
  readonly fixedResponses: ReadonlyMap<string, CompiledFixedResponse>;
}

/**
 * Fixed responses are pure functions of their content, so a reload reuses the previous config's
 * rendered bytes for every response that did not change (and a config that repeats one response
 * renders it once). Rendering was most of a 2,000-rule reload; a lookup is a string and a Map get.
 */
class FixedResponseCache {
  readonly current = new Map<string, CompiledFixedResponse>();
  readonly #previous: ReadonlyMap<string, CompiledFixedResponse>;

  constructor(previous: ReadonlyMap<string, CompiledFixedResponse> | null) {
    this.#previous = previous ?? new Map();
  }

  get(f: ResolvedFixedResponse): CompiledFixedResponse {
    // The length makes the key unambiguous whatever the content type holds.
    const key = `${f.statusCode} ${f.contentType.length} ${f.contentType}${f.body}`;
    let compiled = this.current.get(key);
    if (compiled === undefined) {
      compiled = this.#previous.get(key) ?? renderFixedResponse(f);
      this.current.set(key, compiled);
    }
    return compiled;
  }
}

function renderFixedResponse(f: ResolvedFixedResponse): CompiledFixedResponse {
  const body = Buffer.from(f.body);
  return Object.freeze({
    kind: 'fixedResponse' as const,
    statusCode: f.statusCode,
    contentType: f.contentType,
    body,
    ...renderLocalReplyVariants(f.statusCode, f.contentType, body),
  });
}

export function compileSettings(s: ResolvedSettings): CompiledSettings {
  return Object.freeze({
    idleTimeoutMs: s.idleTimeoutSeconds * 1000,
    requestHeaderTimeoutMs: s.requestHeaderTimeoutSeconds * 1000,
    shutdownTimeoutMs: s.shutdownTimeoutSeconds * 1000,
    maxRequestHeaderBytes: s.maxRequestHeaderBytes,
    maxRequestHeaderCount: s.maxRequestHeaderCount,
    maxUriBytes: s.maxUriBytes,
    maxRequestBodyBytes: s.maxRequestBodyBytes,
    xForwardedFor: s.xForwardedFor,
    preserveHostHeader: s.preserveHostHeader,
    mergeSlashes: s.mergeSlashes,
    desyncMitigation: s.desyncMitigation,
  });
}

function compileAction(a: ResolvedAction, groups: ReadonlyMap<string, TargetGroupRuntime>, codec: StickyCodec | null, fixed: FixedResponseCache): CompiledAction {
  switch (a.kind) {
    case 'fixedResponse':
      return fixed.get(a.fixedResponse);
    case 'redirect':
      return Object.freeze({ kind: 'redirect' as const, redirect: compileRedirect(a.redirect) });
    case 'forward': {
      const f = a.forward;
      const list: TargetGroupRuntime[] = [];
      const cumulative: number[] = [];
      let total = 0;
      for (const g of f.targetGroups) {
        if (g.weight <= 0) continue;
        const runtime = groups.get(g.name);
        // Validation guarantees the reference; a miss here is a programmer error.
        if (!runtime) throw new Error(`target group ${g.name} is not known`);
        total += g.weight;
        list.push(runtime);
        cumulative.push(total);
      }
      const rw = f.rewritePath;
      return Object.freeze({
        kind: 'forward' as const,
        groups: list,
        cumulativeWeights: cumulative,
        totalWeight: total,
        headerRules: compileHeaderRules(f.requestHeaders.set, f.requestHeaders.remove),
        rewrite: rw ? { regex: new RegExp(rw.regex), replace: byteString(rw.replace) } : null,
        groupStickiness: codec !== null && f.stickiness.enabled && list.length > 1 ? { codec, durationSeconds: f.stickiness.durationSeconds } : null,
        stickyCodec: codec,
      });
    }
  }
}

/**
 * Compiles a validated, defaulted config against the live target groups. `previous` is the
 * config being replaced, if any: rate limiters whose settings did not change keep their buckets.
 * `stickyCodec` signs sticky cookies (the Switchyard's secret); without it nothing is sticky.
 */
export function compileRuntime(
  resolved: ResolvedConfig,
  generation: number,
  groups: ReadonlyMap<string, TargetGroupRuntime>,
  previous: RuntimeConfig | null = null,
  stickyCodec: StickyCodec | null = null,
): RuntimeConfig {
  const settings = compileSettings(resolved.settings);
  const listeners = new Map<string, CompiledListener>();
  const fixed = new FixedResponseCache(previous?.fixedResponses ?? null);
  for (const l of resolved.listeners) {
    const rules = l.rules.map((r) => ({ priority: r.priority, match: r.match, action: compileAction(r.action, groups, stickyCodec, fixed) }));
    const defaultAction = compileAction(l.defaultAction, groups, stickyCodec, fixed);
    const prev = previous?.listeners.get(l.name) ?? null;
    let ruleProtection: Map<number, CompiledProtection> | null = null;
    for (const r of l.rules) {
      const p = compileProtection(r.protection, prev?.ruleProtection?.get(r.priority) ?? null);
      if (p !== null) (ruleProtection ??= new Map()).set(r.priority, p);
    }
    listeners.set(
      l.name,
      Object.freeze({
        name: l.name,
        protocol: l.protocol,
        host: l.host,
        port: l.port,
        matcher: createMatcher<CompiledAction>(rules, defaultAction),
        defaultAction,
        settings,
        resolved: l,
        protection: compileProtection(l.protection, prev?.protection ?? null),
        ruleProtection,
        maxConnections: l.maxConnections,
      }),
    );
  }
  return Object.freeze({ generation, resolved, settings, listeners, fixedResponses: fixed.current });
}
