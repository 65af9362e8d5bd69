/**
 * Loading a configuration: read the file, parse YAML or JSON (JSON is parsed as YAML 1.2, so one
 * parser keeps source positions for both), substitute `${NAME}` / `${NAME:-default}` from the
 * environment inside string scalars, then validate.
 *
 * Owns: text → `LoadResult` with every error positioned (line and column of the offending
 * node), and the `Locate` function other modules use to point at a document path (explain,
 * compile's `SourceRef`). Reads files only in `loadConfigFile*`; never throws for bad input.
 *
 * Environment substitution happens on the parsed tree, so positions survive. A scalar that is
 * exactly one `${…}` expression becomes a number or boolean when the schema expects one there
 * and the value looks like one (`port: ${PORT:-8080}`). `$${` writes a literal `${`. In YAML
 * flow collections (`{ … }`, `[ … ]`) quote the expression: `{ port: "${PORT}" }`.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { compareConfigErrors, type ConfigError } from './errors.js';
import { schemaTypesAt } from './schema.js';
import type { Config } from './types.js';
import { escapeSegment, validateConfig, type Locate } from './validate.js';

export type LoadResult =
  | {
      readonly ok: true;
      /** The validated document, typed (defaults not applied: see `withDefaults`). */
      readonly config: Config;
      /** The same document as plain JSON data (what admin `GET /api/v1/config` shows). */
      readonly document: unknown;
      /** Source position of a document path, for explain and error reporting after load. */
      readonly locate: Locate;
    }
  | { readonly ok: false; readonly errors: ConfigError[] };

/** Aliases may be used, but not to build exponentially large documents. */
const MAX_ALIAS_COUNT = 1000;

/** Parses, substitutes and validates configuration text. `fileName` only decides wording. */
export function parseConfigText(text: string, fileName: string, env: NodeJS.ProcessEnv): LoadResult {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const fast = parseValidJson(source);
  if (fast !== null) return fast;
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    const syntax = /\.json$/i.test(fileName) ? 'valid JSON' : 'valid YAML';
    return {
      ok: false,
      errors: doc.errors.map((e) => ({ path: '', ...position(e.pos[0]), expected: syntax, message: e.message })),
    };
  }

  const locate = createLocate(doc, position);
  const envErrors = substituteEnv(doc, env, locate);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [{ path: '', line: 1, column: 1, expected: `at most ${MAX_ALIAS_COUNT} alias expansions`, message }] };
  }
  if (data === null || data === undefined) {
    return {
      ok: false,
      errors: [{ path: '', line: 1, column: 1, expected: 'an object with at least "listeners"', message: 'the document is empty' }],
    };
  }

  // A value whose variable is missing already has its error; skip follow-on errors about that
  // same node (an unknown key at that path points at the key, so it is kept).
  const at = (e: ConfigError): string => `${e.path}\u0000${e.line}:${e.column}`;
  const envNodes = new Set(envErrors.map(at));
  const errors = [...envErrors, ...validateConfig(data, locate).filter((e) => !envNodes.has(at(e)))];
  if (errors.length > 0) return { ok: false, errors: errors.sort(compareConfigErrors) };
  return { ok: true, config: data as Config, document: data, locate };
}

/** Reads and parses a config file. An unreadable file is reported as an error, not thrown. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return unreadable(err);
  }
  return parseConfigText(text, path, env);
}

/** Synchronous `loadConfigFile`, for startup paths that cannot await. */
export function loadConfigFileSync(path: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return unreadable(err);
  }
  return parseConfigText(text, path, env);
}

function unreadable(err: unknown): LoadResult {
  const message = err instanceof Error ? err.message : String(err);
  return {
    ok: false,
    errors: [{ path: '', line: 0, column: 0, expected: 'a readable YAML or JSON file', message: `cannot read file: ${message}` }],
  };
}

// ---- locating document paths ------------------------------------------------------------------

type Position = (offset: number) => { line: number; column: number };

function keyString(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function unescapeSegment(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Builds a `Locate` over the parsed tree. A path that runs out (a missing key) resolves to the
 * deepest node that exists, i.e. the parent object; `target: 'key'` gives a map key's position.
 */
function createLocate(doc: Document, position: Position): Locate {
  return (path, target = 'value') => {
    const segs = path === '' ? [] : path.slice(1).split('/').map(unescapeSegment);
    let node: unknown = doc.contents;
    let key: Node | null = null;
    let complete = true;
    let parentOffset = rangeStart(node) ?? 0;
    for (const seg of segs) {
      if (isAlias(node)) node = node.resolve(doc);
      let next: unknown;
      let nextKey: Node | null = null;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyString(p.key) === seg);
        if (pair !== undefined) {
          next = pair.value;
          nextKey = isScalar(pair.key) ? pair.key : null;
        }
      } else if (isSeq(node) && /^\d+$/.test(seg)) {
        next = node.items[Number(seg)];
      }
      if (next === undefined && nextKey === null) {
        complete = false;
        break;
      }
      parentOffset = rangeStart(node) ?? parentOffset;
      node = next;
      key = nextKey;
    }
    if (!complete) return position(rangeStart(node) ?? parentOffset);
    const keyOffset = key !== null ? rangeStart(key) : undefined;
    if (target === 'key' && keyOffset !== undefined) return position(keyOffset);
    const valueOffset = isEmptyScalar(node) ? undefined : rangeStart(node);
    return position(valueOffset ?? keyOffset ?? parentOffset);
  };
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    if (range !== null && range !== undefined) return range[0];
  }
  return undefined;
}

/** `key:` with nothing after it: the value has an empty range, so point at the key instead. */
function isEmptyScalar(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  return isScalar(node) && node.value === null && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
}

// ---- ${ENV} substitution ------------------------------------------------------------------------

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const BOOLEAN: Readonly<Record<string, boolean>> = { true: true, True: true, TRUE: true, false: false, False: false, FALSE: false };

interface Substitution {
  readonly value: string;
  /** The scalar was exactly one `${…}` expression. */
  readonly whole: boolean;
  readonly errors: readonly { message: string; expected: string }[];
}

/** Replaces `${NAME}` and `${NAME:-default}` (default when unset or empty); `$${` is a literal `${`. */
export function substituteString(text: string, env: NodeJS.ProcessEnv): Substitution {
  if (!text.includes('${')) return { value: text, whole: false, errors: [] };
  const errors: { message: string; expected: string }[] = [];
  let out = '';
  let i = 0;
  let expressions = 0;
  let literal = false;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    if (start > 0 && text[start - 1] === '$') {
      out += text.slice(i, start - 1) + '${';
      literal = true;
      i = start + 2;
      continue;
    }
    out += text.slice(i, start);
    const end = text.indexOf('}', start + 2);
    if (end < 0) {
      errors.push({ message: `unterminated "\${" in ${JSON.stringify(text)}`, expected: '${NAME} or ${NAME:-default}' });
      out += text.slice(start);
      break;
    }
    const inner = text.slice(start + 2, end);
    const sep = inner.indexOf(':-');
    const name = sep >= 0 ? inner.slice(0, sep) : inner;
    expressions++;
    if (!NAME.test(name)) {
      errors.push({
        message: `invalid variable reference "\${${inner}}"`,
        expected: '${NAME} or ${NAME:-default}, NAME of letters, digits and "_"',
      });
      out += text.slice(start, end + 1);
    } else {
      const value = env[name];
      if (sep >= 0) {
        out += value !== undefined && value !== '' ? value : inner.slice(sep + 2);
      } else if (value !== undefined) {
        out += value;
      } else {
        errors.push({
          message: `environment variable ${name} is not set`,
          expected: `${name} set in the environment, or a default: \${${name}:-default}`,
        });
        out += text.slice(start, end + 1);
      }
    }
    i = end + 1;
  }
  const whole = expressions === 1 && !literal && /^\$\{[^}]*\}$/.test(text);
  return { value: out, whole, errors };
}

/** Substitutes in every string scalar value (not keys), in place; returns the errors. */
function substituteEnv(doc: Document, env: NodeJS.ProcessEnv, locate: Locate): ConfigError[] {
  const errors: ConfigError[] = [];
  const visited = new Set<unknown>();
  const walk = (node: unknown, segs: string[]): void => {
    if (node === null || node === undefined || isAlias(node) || visited.has(node)) return;
    visited.add(node);
    if (isMap(node)) {
      for (const pair of node.items) walk(pair.value, [...segs, keyString(pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...segs, String(i)]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const sub = substituteString(node.value, env);
      if (sub.value === node.value && sub.errors.length === 0) return;
      const path = segs.map((s) => `/${escapeSegment(s)}`).join('');
      for (const e of sub.errors) {
        const { line, column } = locate(path);
        errors.push({ path, line, column, expected: e.expected, message: e.message });
      }
      node.value = sub.errors.length === 0 && sub.whole ? coerce(sub.value, segs) : sub.value;
    }
  };
  walk(doc.contents, []);
  return errors;
}

/** Turns a whole-expression result into a number or boolean where the schema expects one. */
function coerce(value: string, segs: readonly string[]): string | number | boolean {
  const types = schemaTypesAt(segs);
  if (types === null) return value;
  if ((types.has('integer') || types.has('number')) && NUMBER.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  if (types.has('boolean')) {
    const b = BOOLEAN[value];
    if (b !== undefined) return b;
  }
  return value;
}

/**
 * The fast path for large configs: a JSON document without `${…}` that is valid as it stands is
 * taken from JSON.parse (milliseconds) instead of the position-tracking YAML parser (hundreds of
 * milliseconds for thousands of rules). Anything else — YAML, substitutions, duplicate keys,
 * or any validation error — returns null and goes through the full path, which reports
 * positions. Duplicate keys are detected by re-serialising: JSON.parse keeps the last silently.
 */
function parseValidJson(source: string): LoadResult | null {
  const first = source.trimStart().charCodeAt(0);
  if (first !== 0x7b /* { */ || source.includes('${')) return null;
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch {
    return null;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data) || hasDuplicateKeys(source, data)) return null;
  if (validateConfig(data, locateNowhereForFastPath).length > 0) return null;
  return { ok: true, config: data as Config, document: data, locate: locateNowhereForFastPath };
}

const locateNowhereForFastPath = (): { line: number; column: number } => ({ line: 0, column: 0 });

/** True when the text has more object keys than the parsed value (a key written twice). */
function hasDuplicateKeys(source: string, data: unknown): boolean {
  let keysInText = 0;
  // Count `"...":` occurrences outside of string values: a key is a string followed by a colon.
  const re = /"(?:[^"\\]|\\.)*"\s*:/g;
  while (re.exec(source) !== null) keysInText++;
  let keysInData = 0;
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    for (const [, x] of Object.entries(v)) {
      keysInData++;
      walk(x);
    }
  };
  walk(data);
  return keysInText !== keysInData;
}
