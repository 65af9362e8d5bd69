/**
 * Group stickiness of a weighted forward (SPEC §4; ARCHITECTURE §4 step 4.1): SWITCHYARDTG
 * keeps a client on the target group it was first given, so a canary split does not bounce a
 * user between versions.
 *
 * Owns: following a valid SWITCHYARDTG that names one of the forward's groups (weight > 0,
 * with a registered target), else the weighted draw (over the groups that still have targets
 * when the sticky group was emptied), and the Set-Cookie for a new choice or a refresh once
 * half the duration has passed. Other forwards' entries in the cookie are kept. Called only
 * for forwards with group stickiness and several groups. No I/O, never throws.
 */
import type { RequestView } from '../../router/request-view.js';
import { MAX_STICKY_ENTRIES, StickyKind, type StickyCodec, type StickyEntry } from './cookie-codec.js';
import { decideStickyGroup, mergeEntries, type StickyGroupChoice } from './sticky-decision.js';
import { GROUP_COOKIE, renderSetCookie, unquote, type SetCookieSink } from './sticky-cookies.js';

/** What the draw needs of a forward (CompiledForward satisfies it). */
export interface WeightedGroups<G> {
  readonly groups: readonly G[];
  /** Running sum of the groups' weights. */
  readonly cumulativeWeights: readonly number[];
}

/** A forward's `stickiness`, compiled; null on the forward when off or with a single group. */
export interface CompiledGroupStickiness {
  readonly codec: StickyCodec;
  readonly durationSeconds: number;
}

/** Reads the request's SWITCHYARDTG (null when absent or unusable); exported for explain. */
export function readGroupCookie(codec: StickyCodec, view: RequestView): ReturnType<StickyCodec['decode']> | null {
  const value = unquote(view.cookie(GROUP_COOKIE));
  return value === null ? null : codec.decode(StickyKind.GROUP, value);
}

/**
 * The group for this request: the sticky one when honoured, else `draw(forward)`. Adds a
 * SWITCHYARDTG Set-Cookie to `sink` when the choice is new or due for a refresh.
 */
export function chooseStickyGroup<F extends WeightedGroups<G>, G extends StickyGroupChoice>(
  forward: F,
  draw: (forward: F) => G,
  sticky: CompiledGroupStickiness,
  view: RequestView,
  secure: boolean,
  sink: SetCookieSink,
): G {
  const now = Math.floor(Date.now() / 1000);
  const cookie = readGroupCookie(sticky.codec, view);
  const d = decideStickyGroup(cookie, forward.groups, now);
  if (d.group !== null && d.entry !== null && d.entry.expiresAt - now >= sticky.durationSeconds / 2) return d.group;
  // Leaving an emptied group: draw among the groups that still have targets (else a 503).
  const group = d.group ?? (d.verdict === 'group empty' ? drawNonEmpty(forward, Math.random()) : null) ?? draw(forward);
  const groups = forward.groups;
  const ours = (e: StickyEntry): boolean => {
    for (let i = 0; i < groups.length; i++) if (groups[i]!.name === e.group) return true;
    return false;
  };
  const fresh: StickyEntry = { group: group.name, target: '', expiresAt: now + sticky.durationSeconds, appHash: '' };
  const entries = mergeEntries(cookie, fresh, ours, now, MAX_STICKY_ENTRIES);
  let last = 0;
  for (let i = 0; i < entries.length; i++) last = Math.max(last, entries[i]!.expiresAt);
  sink.addSetCookie(renderSetCookie(GROUP_COOKIE, sticky.codec.encode(StickyKind.GROUP, entries), last - now, secure));
  return group;
}

/** The weighted draw over the groups that have a registered target; null when none has. */
export function drawNonEmpty<G extends StickyGroupChoice>(forward: WeightedGroups<G>, random: number): G | null {
  const { groups, cumulativeWeights } = forward;
  let total = 0;
  for (let i = 0; i < groups.length; i++) if (groups[i]!.registeredCount > 0) total += cumulativeWeights[i]! - (i === 0 ? 0 : cumulativeWeights[i - 1]!);
  if (total <= 0) return null;
  let left = random * total;
  for (let i = 0; i < groups.length; i++) {
    if (groups[i]!.registeredCount === 0) continue;
    left -= cumulativeWeights[i]! - (i === 0 ? 0 : cumulativeWeights[i - 1]!);
    if (left < 0) return groups[i]!;
  }
  // Rounding: the last non-empty group.
  for (let i = groups.length - 1; i >= 0; i--) if (groups[i]!.registeredCount > 0) return groups[i]!;
  return null;
}
