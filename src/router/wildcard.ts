/**
 * `*` / `?` glob patterns (SPEC §3), compiled once into a matcher function.
 *
 * Owns: classifying a pattern's shape, building the cheapest matcher for it (native string
 * operations for exact / prefix / suffix / contains, a segment scan otherwise), and the ASCII
 * case-folding helpers the conditions share.
 * Must not: use RegExp (a backtracking regex can go exponential on hostile input), allocate per
 * call, or throw at match time.
 *
 * Semantics: `*` matches any run of characters (zero or more, `/` and `.` included); `?` matches
 * exactly one UTF-16 code unit. Request strings in Node are Latin-1 (one code unit per byte) and
 * normalised paths are ASCII, so one code unit is one character here. There is no escape syntax:
 * `*` and `?` in a pattern are always wildcards.
 *
 * Case-insensitive matchers fold ASCII letters only (A–Z), on both sides: the pattern is folded
 * once at compile time and the input is folded character by character while comparing, so a
 * caller may pass the input as received (no per-request `toLowerCase()` allocation) or already
 * lowercased. Callers per SPEC §3: host conditions pass RequestView.host (already lowercased);
 * header conditions pass raw header values and query conditions decoded keys and values, both
 * as received; path and cookie conditions compile case-sensitive matchers. Folding only ASCII
 * keeps compile-time and match-time folding identical; ALB likewise matches only visible ASCII.
 */

export interface WildcardOptions {
  /** Fold ASCII letters on both sides. Host, header values and query keys/values use true. */
  readonly caseInsensitive: boolean;
}

/** A compiled glob: true when the whole input matches the pattern. Allocation-free. */
export type WildcardMatcher = (input: string) => boolean;

/**
 * The shape of a pattern, for indexes that want to look literals up instead of scanning.
 * `prefix` is `literal*`, `suffix` is `*literal`, `contains` is `*literal*`, `any` is `*`
 * (or `**`…); `glob` is everything else, including any pattern with a `?`.
 */
export type WildcardShape =
  | { readonly kind: 'exact'; readonly literal: string }
  | { readonly kind: 'prefix'; readonly literal: string }
  | { readonly kind: 'suffix'; readonly literal: string }
  | { readonly kind: 'contains'; readonly literal: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'glob' };

const STAR = 42; // '*'
const QMARK = 63; // '?'

/** True when the pattern contains `*` or `?`. */
export function hasWildcard(pattern: string): boolean {
  return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
}

/** Lowercases ASCII letters only; other characters are kept (see the module comment). */
export function toAsciiLowerCase(s: string): string {
  let upper = false;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 0x80) ascii = false;
  }
  if (!upper) return s;
  // Native lowercasing is identical to ASCII folding on pure-ASCII strings, and faster.
  if (ascii) return s.toLowerCase();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c | 32) : s[i]!;
  }
  return out;
}

/** `a` equals `lowerB` ignoring ASCII case; `lowerB` must already be ASCII-lowercase. */
export function equalsAsciiIgnoreCase(a: string, lowerB: string): boolean {
  if (a.length !== lowerB.length) return false;
  for (let i = 0; i < a.length; i++) {
    let c = a.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 32;
    if (c !== lowerB.charCodeAt(i)) return false;
  }
  return true;
}

/** Classifies a pattern (case is irrelevant to the shape). */
export function wildcardShape(pattern: string): WildcardShape {
  if (pattern.indexOf('?') >= 0) return { kind: 'glob' };
  const first = pattern.indexOf('*');
  if (first < 0) return { kind: 'exact', literal: pattern };
  let start = 0;
  while (start < pattern.length && pattern.charCodeAt(start) === STAR) start++;
  if (start === pattern.length) return { kind: 'any' };
  let end = pattern.length;
  while (pattern.charCodeAt(end - 1) === STAR) end--;
  const inner = pattern.slice(start, end);
  if (inner.indexOf('*') >= 0) return { kind: 'glob' };
  if (start === 0) return { kind: 'prefix', literal: inner };
  if (end === pattern.length) return { kind: 'suffix', literal: inner };
  return { kind: 'contains', literal: inner };
}

/**
 * Compiles `pattern` once. With `caseInsensitive`, ASCII letters are folded on both sides.
 * Worst case is O(input × longest segment) (a segment is the text between two `*`); there is no
 * backtracking across `*`, so no input can make it exponential.
 */
export function compileWildcard(pattern: string, options: WildcardOptions): WildcardMatcher {
  const fold = options.caseInsensitive;
  const p = fold ? toAsciiLowerCase(pattern) : pattern;
  const shape = wildcardShape(p);
  switch (shape.kind) {
    case 'any':
      return matchAny;
    case 'exact': {
      const lit = shape.literal;
      if (!fold) return (s) => s === lit;
      return (s) => equalsAsciiIgnoreCase(s, lit);
    }
    case 'prefix': {
      const lit = shape.literal;
      if (!fold) return (s) => s.startsWith(lit);
      return (s) => s.length >= lit.length && segmentAt(s, 0, lit, true);
    }
    case 'suffix': {
      const lit = shape.literal;
      if (!fold) return (s) => s.endsWith(lit);
      return (s) => s.length >= lit.length && segmentAt(s, s.length - lit.length, lit, true);
    }
    case 'contains': {
      const lit = shape.literal;
      if (!fold) return (s) => s.includes(lit);
      return (s) => findSegment(s, 0, s.length, lit, true, true) >= 0;
    }
    case 'glob':
      return compileGlob(p, fold);
  }
}

function matchAny(_s: string): boolean {
  return true;
}

/**
 * The general case. The pattern is split on `*` into a head (anchored at the start), a tail
 * (anchored at the end) and middle segments. Because every segment has a fixed length, matching
 * each middle segment at its leftmost possible position is optimal (a later position can only
 * leave less room for the rest), so one left-to-right pass decides.
 */
function compileGlob(p: string, fold: boolean): WildcardMatcher {
  const parts = p.split('*');
  if (parts.length === 1) {
    // No `*`, at least one `?`: same length, position by position.
    return (s) => s.length === p.length && segmentAt(s, 0, p, fold);
  }
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  const middle: string[] = [];
  const middleHasQ: boolean[] = [];
  let minLength = head.length + tail.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const seg = parts[i]!;
    if (seg === '') continue; // `**` is one `*`.
    middle.push(seg);
    middleHasQ.push(seg.indexOf('?') >= 0);
    minLength += seg.length;
  }
  return (s) => {
    if (s.length < minLength) return false;
    if (head.length > 0 && !segmentAt(s, 0, head, fold)) return false;
    const end = s.length - tail.length;
    if (tail.length > 0 && !segmentAt(s, end, tail, fold)) return false;
    let pos = head.length;
    for (let i = 0; i < middle.length; i++) {
      const seg = middle[i]!;
      const at = findSegment(s, pos, end, seg, fold, !middleHasQ[i]);
      if (at < 0) return false;
      pos = at + seg.length;
    }
    return true;
  };
}

/** Does `seg` (which may contain `?`) match `s` at `pos`? Caller guarantees room. */
function segmentAt(s: string, pos: number, seg: string, fold: boolean): boolean {
  for (let k = 0; k < seg.length; k++) {
    const pc = seg.charCodeAt(k);
    if (pc === QMARK) continue;
    let c = s.charCodeAt(pos + k);
    if (fold && c >= 65 && c <= 90) c |= 32;
    if (c !== pc) return false;
  }
  return true;
}

/** Leftmost position in [from, end - seg.length] where `seg` matches, or -1. */
function findSegment(s: string, from: number, end: number, seg: string, fold: boolean, literal: boolean): number {
  const last = end - seg.length;
  if (last < from) return -1;
  if (literal && !fold) {
    const at = s.indexOf(seg, from);
    return at >= 0 && at <= last ? at : -1;
  }
  for (let p = from; p <= last; p++) if (segmentAt(s, p, seg, fold)) return p;
  return -1;
}
