/**
 * The hash key of a request for a `consistent_hash` target group (`targetGroups[].hashOn`).
 *
 * Owns: compiling `hashOn` once per group spec (`compileHashOn`, off the request path) and
 * reading the key from a request (`hashKeyOf`). Used by the data path (proxy/dispatch.ts) and
 * by `switchyard explain`, so both compute the same key. Reads only what `HashKeySource`
 * offers (RequestView implements it), so a Layer 4 data path can supply a source address only.
 * No I/O; never throws.
 */
import type { HashOnConfig } from '../config/types.js';

/** `hashOn` compiled: which part of the request is the key, with the name ready to use. */
export type CompiledHashOn =
  | { readonly kind: 'sourceIp' }
  | { readonly kind: 'path' }
  | { readonly kind: 'header'; readonly name: string; readonly lowerName: string }
  | { readonly kind: 'cookie'; readonly name: string };

/** What a key is read from. `RequestView` satisfies it. */
export interface HashKeySource {
  /** The client's socket address (never X-Forwarded-For). */
  readonly sourceIp: string;
  /** The normalised path, without query. */
  readonly path: string;
  /** Every value of a header, given its lowercase name. */
  headerValues(lowerName: string): readonly string[];
  /** A cookie's value by (case-sensitive) name, or null. */
  cookie(name: string): string | null;
}

/** Compiles a resolved `hashOn` (exactly one key set); null when there is none. */
export function compileHashOn(hashOn: HashOnConfig | null): CompiledHashOn | null {
  if (hashOn === null) return null;
  if (hashOn.header !== undefined) {
    return Object.freeze({ kind: 'header', name: hashOn.header, lowerName: hashOn.header.toLowerCase() });
  }
  if (hashOn.cookie !== undefined) return Object.freeze({ kind: 'cookie', name: hashOn.cookie });
  if (hashOn.path === true) return Object.freeze({ kind: 'path' });
  return Object.freeze({ kind: 'sourceIp' });
}

/**
 * The request's key: the client address, the header's first value, the cookie's value, or the
 * normalised path. '' when the header or cookie is absent (the balancer then picks at random).
 */
export function hashKeyOf(on: CompiledHashOn, request: HashKeySource): string {
  switch (on.kind) {
    case 'sourceIp':
      return request.sourceIp;
    case 'path':
      return request.path;
    case 'header':
      return request.headerValues(on.lowerName)[0] ?? '';
    case 'cookie':
      return request.cookie(on.name) ?? '';
  }
}

/** `hashOn` for display: `sourceIp`, `path`, `header X-User-Id`, `cookie session`. */
export function describeHashOn(on: CompiledHashOn): string {
  return on.kind === 'header' || on.kind === 'cookie' ? `${on.kind} ${on.name}` : on.kind;
}
