/**
 * Whether a sticky cookie is honoured (SPEC §4 "Stickiness"): the one decision the data path
 * (proxy/dispatch.ts, proxy/exchange.ts through sticky-request.ts) and `switchyard explain`
 * both make, so explain can never disagree with what a request would meet.
 *
 * Owns: finding a request's entry for a target group (or for one of a forward's groups) in a
 * decoded cookie, and judging it: expired, bound to another application cookie value, or
 * naming a target that is gone, draining, unhealthy, weight 0 or excluded by a retry. A
 * verdict other than `honoured` means normal balancing and a re-issued cookie.
 * Pure: no I/O, no clock (the caller passes `nowSeconds`), never throws.
 */
import type { DecodedCookie, StickyEntry } from './cookie-codec.js';

/** Why a sticky cookie was or was not followed. */
export type StickyVerdict =
  | 'honoured'
  | 'no cookie'
  /** Malformed, tampered, truncated, signed with another secret, or of another cookie kind. */
  | 'invalid'
  /** Authentic, but for other target groups. */
  | 'no entry'
  | 'expired'
  /** SWITCHYARD_APP issued for another value of the application cookie (or it is absent). */
  | 'app cookie differs'
  | 'target gone'
  | 'target draining'
  | 'target unhealthy'
  | 'target weight 0'
  /** A retry after the sticky target failed this very request. */
  | 'target excluded'
  /** Group stickiness: the group has no registered target left. */
  | 'group empty';

/** What the decision needs of a target (Target satisfies it). */
export interface StickyTargetFacts {
  readonly id: string;
  readonly draining: boolean;
  readonly removed: boolean;
  /** State healthy. */
  readonly usable: boolean;
  readonly configuredWeight: number;
}

/** What the decision needs of a target group (TargetGroupRuntime satisfies it). */
export interface StickyGroupFacts<T extends StickyTargetFacts> {
  readonly name: string;
  readonly targets: ReadonlyMap<string, T>;
  /** No target is healthy: every registered, non-draining target is used (SPEC §4). */
  readonly failOpen: boolean;
}

export interface TargetDecision<T> {
  readonly verdict: StickyVerdict;
  /** The sticky target when honoured; null otherwise. */
  readonly target: T | null;
  /** The cookie's entry for the group, when it had one (honoured or not). */
  readonly entry: StickyEntry | null;
}

/**
 * Follows a target cookie for `group`. `cookie` is null when the request has none; `appHash`
 * is null for lb_cookie, else the hash of the request's application cookie ('' when absent).
 * A target is honoured when it is registered, not draining, healthy (or the group fails
 * open), of weight > 0, and not in `exclude`.
 */
export function decideStickyTarget<T extends StickyTargetFacts>(
  cookie: DecodedCookie | null,
  group: StickyGroupFacts<T>,
  exclude: ReadonlySet<string> | null,
  nowSeconds: number,
  appHash: string | null,
): TargetDecision<T> {
  if (cookie === null) return NO_COOKIE;
  if (!cookie.ok) return INVALID;
  const entry = findEntry(cookie.entries, group.name);
  if (entry === null) return NO_ENTRY;
  if (entry.expiresAt <= nowSeconds) return { verdict: 'expired', target: null, entry };
  if (appHash !== null && (appHash === '' || entry.appHash !== appHash)) return { verdict: 'app cookie differs', target: null, entry };
  const target = group.targets.get(entry.target);
  if (target === undefined || target.removed) return { verdict: 'target gone', target: null, entry };
  if (target.draining) return { verdict: 'target draining', target: null, entry };
  if (!target.usable && !group.failOpen) return { verdict: 'target unhealthy', target: null, entry };
  if (target.configuredWeight <= 0) return { verdict: 'target weight 0', target: null, entry };
  if (exclude !== null && exclude.has(target.id)) return { verdict: 'target excluded', target: null, entry };
  return { verdict: 'honoured', target, entry };
}

/** What group stickiness needs of a target group. */
export interface StickyGroupChoice {
  readonly name: string;
  /** Registered, non-draining targets. */
  readonly registeredCount: number;
}

export interface GroupDecision<G> {
  readonly verdict: StickyVerdict;
  readonly group: G | null;
  readonly entry: StickyEntry | null;
}

/**
 * Follows a SWITCHYARDTG cookie for a forward over `groups` (its groups of weight > 0): the
 * first unexpired entry naming one of them wins, unless that group has no registered target
 * left (then the weighted draw decides, and the cookie is rewritten).
 */
export function decideStickyGroup<G extends StickyGroupChoice>(
  cookie: DecodedCookie | null,
  groups: readonly G[],
  nowSeconds: number,
): GroupDecision<G> {
  if (cookie === null) return NO_COOKIE;
  if (!cookie.ok) return INVALID;
  let expired: StickyEntry | null = null;
  const entries = cookie.entries;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const group = findGroup(groups, entry.group);
    if (group === null) continue;
    if (entry.expiresAt <= nowSeconds) {
      expired ??= entry;
      continue;
    }
    if (group.registeredCount === 0) return { verdict: 'group empty', group: null, entry };
    return { verdict: 'honoured', group, entry };
  }
  return expired !== null ? { verdict: 'expired', group: null, entry: expired } : NO_ENTRY;
}

/**
 * The entries to write back: `fresh` first, then the request's other still-valid entries
 * (those `replaces` does not claim), soonest-expiring dropped beyond `max`.
 */
export function mergeEntries(
  previous: DecodedCookie | null,
  fresh: StickyEntry | null,
  replaces: (entry: StickyEntry) => boolean,
  nowSeconds: number,
  max: number,
): StickyEntry[] {
  const out: StickyEntry[] = fresh === null ? [] : [fresh];
  if (previous !== null && previous.ok) {
    const kept: StickyEntry[] = [];
    for (const e of previous.entries) if (e.expiresAt > nowSeconds && !replaces(e)) kept.push(e);
    kept.sort((a, b) => b.expiresAt - a.expiresAt);
    for (let i = 0; i < kept.length && out.length < max; i++) out.push(kept[i]!);
  }
  return out;
}

function findEntry(entries: readonly StickyEntry[], group: string): StickyEntry | null {
  for (let i = 0; i < entries.length; i++) if (entries[i]!.group === group) return entries[i]!;
  return null;
}

function findGroup<G extends StickyGroupChoice>(groups: readonly G[], name: string): G | null {
  for (let i = 0; i < groups.length; i++) if (groups[i]!.name === name) return groups[i]!;
  return null;
}

const NO_COOKIE = Object.freeze({ verdict: 'no cookie' as const, target: null, group: null, entry: null });
const INVALID = Object.freeze({ verdict: 'invalid' as const, target: null, group: null, entry: null });
const NO_ENTRY = Object.freeze({ verdict: 'no entry' as const, target: null, group: null, entry: null });
