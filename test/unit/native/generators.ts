/**
 * fast-check building blocks shared by the scanner tests in this folder: character sets, the
 * "mostly good" mix, byte- and line-level mutations of a message, and cut points for feeding it
 * in pieces.
 */
import fc from 'fast-check';

/** The one-character strings for the byte values from..to. */
export function range(from: number, to: number): string[] {
  const out: string[] = [];
  for (let c = from; c <= to; c++) out.push(String.fromCharCode(c));
  return out;
}

export function strOf(chars: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });
}

/** Mostly `good`, sometimes `bad` (weight : 1): so that whole messages are valid often enough. */
export function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>, weight = 12): fc.Arbitrary<T> {
  return fc.oneof({ weight, arbitrary: good }, { weight: 1, arbitrary: bad });
}

export const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split('');
export const ALL_BYTES = range(0, 255);
/** HTAB, SP, VCHAR and obs-text: what a field value may hold. */
export const TEXT_CHARS = ['\t', ...range(0x20, 0x7e), ...range(0x80, 0xff)];

export type Mutation =
  | { kind: 'insert' | 'replace'; at: number; byte: string }
  | { kind: 'delete' | 'duplicateLine' | 'dropLine' | 'flipCase'; at: number }
  | { kind: 'insertLine'; at: number; line: string };

/**
 * Mutations of a message: a byte inserted or replaced (from `bytes`), or deleted; with `lines`,
 * whole lines dropped, duplicated or inserted (from `lines`); with `flipCase`, a letter's case.
 */
export function mutations(bytes: readonly string[], lines: readonly string[] = [], flipCase = false): fc.Arbitrary<Mutation> {
  const byteOps = fc.record({ kind: fc.constantFrom('insert' as const, 'replace' as const), at: fc.nat(), byte: fc.constantFrom(...bytes) });
  if (lines.length === 0) return fc.oneof(byteOps, fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }));
  const kinds = ['delete', 'duplicateLine', 'dropLine', ...(flipCase ? ['flipCase'] : [])] as ('delete' | 'duplicateLine' | 'dropLine' | 'flipCase')[];
  return fc.oneof(
    byteOps,
    fc.record({ kind: fc.constantFrom(...kinds), at: fc.nat() }),
    fc.record({ kind: fc.constant('insertLine' as const), at: fc.nat(), line: fc.constantFrom(...lines) }),
  );
}

/** Start offsets of the lines of `s` (after each LF). */
function lineStarts(s: string): number[] {
  const starts = [0];
  for (let i = 0; i < s.length; i++) if (s[i] === '\n' && i + 1 < s.length) starts.push(i + 1);
  return starts;
}

/** Applies `m` to `s`. `keepFirstLine`: inserted lines go after the first line (a status line). */
export function mutate(s: string, m: Mutation, keepFirstLine = false): string {
  const at = s.length === 0 ? 0 : m.at % s.length;
  switch (m.kind) {
    case 'insert':
      return s.slice(0, at) + m.byte + s.slice(at);
    case 'replace':
      return s.slice(0, at) + m.byte + s.slice(at + 1);
    case 'delete':
      return s.slice(0, at) + s.slice(at + 1);
    case 'flipCase': {
      const c = s[at] ?? '';
      const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
      return s.slice(0, at) + flipped + s.slice(at + 1);
    }
    case 'duplicateLine':
    case 'dropLine': {
      const starts = lineStarts(s);
      const i = m.at % starts.length;
      const from = starts[i]!;
      const to = starts[i + 1] ?? s.length;
      return m.kind === 'dropLine' ? s.slice(0, from) + s.slice(to) : s.slice(0, to) + s.slice(from, to) + s.slice(to);
    }
    case 'insertLine': {
      const starts = lineStarts(s);
      const from = keepFirstLine
        ? (starts[Math.min(1, starts.length - 1) + (m.at % Math.max(1, starts.length - 1))] ?? s.length)
        : starts[m.at % starts.length]!;
      return s.slice(0, from) + m.line + s.slice(from);
    }
  }
}

/** Sorted distinct cut points inside [1, len): where a message is split into pieces. */
export const cutsFor = (len: number, maxCuts = 6): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: maxCuts }).map((a) => [...new Set(a)].sort((x, y) => x - y));
