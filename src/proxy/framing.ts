/**
 * Desync classification (SPEC `settings.desyncMitigation`; docs/decisions/0009): how safe the
 * framing of a request head is, in the four tiers of the cloud load balancers' published model
 * (compliant, acceptable, ambiguous, severe), and whether a target's response head is framed
 * unambiguously.
 *
 * Owns: `classifyRequest` and `checkResponseHead`, pure functions over the head as received
 * (method, version, request-target, and the raw header list with duplicates and names as sent).
 * They never look at a parsed header map, which would hide the duplicates that desync attacks
 * rely on. What to *do* with a verdict (refuse, forward and close, count) is dispatch.ts's.
 * Must not: allocate on the compliant path (verdicts are pre-built constants), throw, or do I/O.
 *
 * llhttp (strict) refuses most malformed heads before they get here (bare CR/LF, obs-fold, CTLs
 * in names and values, spaces around names, invalid chunk sizes, TE together with CL, any
 * duplicate Content-Length); those are answered 400 in every mode. The classifier still judges
 * them, so it is complete on its own and can be tested without the parser, but on the data path
 * it mostly meets what llhttp lets through: `Transfer-Encoding: ,chunked`, `gzip, chunked` or a
 * second TE line, `Transfer_Encoding`/`Content_Length` spellings, HTTP/1.0 with TE, duplicate
 * Host, absolute-form targets, bodies on GET/HEAD, non-ASCII header bytes, h2c upgrades.
 */

export type Tier = 'compliant' | 'acceptable' | 'ambiguous' | 'severe';

/** Why a request got its tier; names follow aws/http-desync-guardian where one exists. */
export type ClassificationReason =
  | 'Compliant'
  // acceptable
  | 'NonCompliantHeader'
  | 'NonCompliantVersion'
  | 'SpaceInUri'
  | 'GetHeadZeroContentLength'
  // ambiguous
  | 'EmptyHeader'
  | 'MissingUri'
  | 'AmbiguousUri'
  | 'SuspiciousHeader'
  | 'DuplicateContentLength'
  | 'BothTeClPresent'
  | 'UndefinedContentLengthSemantics'
  | 'UndefinedTransferEncodingSemantics'
  | 'H2cUpgrade'
  // severe
  | 'BadHeader'
  | 'BadUri'
  | 'BadMethod'
  | 'BadVersion'
  | 'BadContentLength'
  | 'MultipleContentLength'
  | 'BadTransferEncoding'
  | 'MultipleTransferEncodingChunked'
  | 'DuplicateHost'
  | 'HostMismatch';

export interface Classification {
  readonly tier: Tier;
  readonly reason: ClassificationReason;
}

/** Ordered by severity; a verdict is only ever raised. */
const RANK: Readonly<Record<Tier, number>> = { compliant: 0, acceptable: 1, ambiguous: 2, severe: 3 };

const TIER_OF: Readonly<Record<ClassificationReason, Tier>> = {
  Compliant: 'compliant',
  NonCompliantHeader: 'acceptable',
  NonCompliantVersion: 'acceptable',
  SpaceInUri: 'acceptable',
  GetHeadZeroContentLength: 'acceptable',
  EmptyHeader: 'ambiguous',
  MissingUri: 'ambiguous',
  AmbiguousUri: 'ambiguous',
  SuspiciousHeader: 'ambiguous',
  DuplicateContentLength: 'ambiguous',
  BothTeClPresent: 'ambiguous',
  UndefinedContentLengthSemantics: 'ambiguous',
  UndefinedTransferEncodingSemantics: 'ambiguous',
  H2cUpgrade: 'ambiguous',
  BadHeader: 'severe',
  BadUri: 'severe',
  BadMethod: 'severe',
  BadVersion: 'severe',
  BadContentLength: 'severe',
  MultipleContentLength: 'severe',
  BadTransferEncoding: 'severe',
  MultipleTransferEncodingChunked: 'severe',
  DuplicateHost: 'severe',
  HostMismatch: 'severe',
};

/** One frozen verdict object per reason: classifying allocates nothing. */
const VERDICT = Object.freeze(
  Object.fromEntries(
    (Object.keys(TIER_OF) as ClassificationReason[]).map((r) => [r, Object.freeze({ tier: TIER_OF[r], reason: r })]),
  ),
) as Readonly<Record<ClassificationReason, Classification>>;

export const COMPLIANT: Classification = VERDICT.Compliant;

/** The pre-built verdict for a reason (tests and callers compare by identity or fields). */
export function verdictFor(reason: ClassificationReason): Classification {
  return VERDICT[reason];
}

/** Every reason, for metrics and docs. */
export const CLASSIFICATION_REASONS: readonly ClassificationReason[] = Object.freeze(Object.keys(TIER_OF) as ClassificationReason[]);

// ---- character classes -----------------------------------------------------------------------

/** RFC 9110 tchar. */
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** NUL, CR, LF: a byte no layer may read the same way (a header or line could end there). */
function isBreaking(c: number): boolean {
  return c === 0 || c === 0x0d || c === 0x0a;
}

/** Other control bytes and DEL (TAB is allowed in field values). */
function isOtherCtl(c: number): boolean {
  return (c < 0x20 && c !== 0x09 && !isBreaking(c)) || c === 0x7f;
}

// ---- header names ----------------------------------------------------------------------------

const enum Name {
  OTHER,
  TE,
  CL,
  /** Spelled differently but made of the same letters as TE or CL (Transfer_Encoding, …). */
  SUSPICIOUS,
  HOST,
  UPGRADE,
  HTTP2_SETTINGS,
}

/** ASCII-lowercase equality with a lowercase literal, without allocating. */
function eqLower(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether `name` is made of the letters of `target` (lowercase letters only) once case is
 * folded, look-alikes are mapped (dotless ı, long ſ, the Kelvin sign — as characters or as their
 * UTF-8 bytes read as latin1) and everything that is not a letter or digit is dropped: the
 * spellings one parser may fold onto Transfer-Encoding or Content-Length while another does not.
 */
function sameLetters(name: string, target: string): boolean {
  let j = 0;
  const n = name.length;
  for (let i = 0; i < n; i++) {
    let c = name.charCodeAt(i);
    let mapped = -1;
    if (c >= 0x41 && c <= 0x5a) mapped = c + 0x20;
    else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) mapped = c;
    else if (c === 0x131) mapped = 0x69; // ı → i
    else if (c === 0x17f) mapped = 0x73; // ſ → s
    else if (c === 0x212a) mapped = 0x6b; // K (Kelvin) → k
    else if (c === 0xc4 && name.charCodeAt(i + 1) === 0xb1) {
      mapped = 0x69; // UTF-8 of ı
      i++;
    } else if (c === 0xc5 && name.charCodeAt(i + 1) === 0xbf) {
      mapped = 0x73; // UTF-8 of ſ
      i++;
    } else if (c === 0xe2 && name.charCodeAt(i + 1) === 0x84 && name.charCodeAt(i + 2) === 0xaa) {
      mapped = 0x6b; // UTF-8 of K
      i += 2;
    }
    if (mapped < 0) continue;
    c = mapped;
    if (j >= target.length || target.charCodeAt(j) !== c) return false;
    j++;
  }
  return j === target.length;
}

function nameKind(name: string): Name {
  const n = name.length;
  if (n === 17 && eqLower(name, 'transfer-encoding')) return Name.TE;
  if (n === 14 && eqLower(name, 'content-length')) return Name.CL;
  if (n === 4 && eqLower(name, 'host')) return Name.HOST;
  if (n === 7 && eqLower(name, 'upgrade')) return Name.UPGRADE;
  if (n === 14 && eqLower(name, 'http2-settings')) return Name.HTTP2_SETTINGS;
  // Only names at least as long as the letters they must contain can be look-alikes.
  if (n >= 13 && n <= 64 && (sameLetters(name, 'transferencoding') || sameLetters(name, 'contentlength'))) return Name.SUSPICIOUS;
  return Name.OTHER;
}

/** A field name that is not a token (llhttp refuses these; the classifier judges them anyway). */
function badNameByte(name: string): number {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isBreaking(c)) return 2;
    if (!isTchar(c)) return 1;
  }
  return 0;
}

/** Anything but HTAB and visible ASCII/SP: the (rare) values that need a closer look. */
const UNUSUAL_VALUE = /[^\t\x20-\x7e]/;
const UNUSUAL_URI = /[^\x21-\x7e]/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CTL_NOT_TAB = /[\x00-\x08\x0a-\x1f\x7f]/;

/** 2: NUL/CR/LF; 1: another CTL, DEL or a byte ≥ 0x80 (obs-text); 0: clean. */
function valueBytes(value: string): number {
  // A regex scan is several times faster than a charCodeAt loop on long values (cookies, UAs).
  if (!UNUSUAL_VALUE.test(value)) return 0;
  let worst = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isBreaking(c)) return 2;
    if (isOtherCtl(c) || c >= 0x80) worst = 1;
  }
  return worst;
}

// ---- Content-Length and Transfer-Encoding values ---------------------------------------------

/** 1*DIGIT with optional surrounding SP/HTAB, as a safe integer; -1 when not. */
export function parseContentLength(value: string): number {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  if (start === end || end - start > 16) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
}

const KNOWN_CODINGS = ['chunked', 'compress', 'deflate', 'gzip', 'identity', 'x-gzip', 'x-compress'];

/**
 * Scans one Transfer-Encoding value. Returns the number of `chunked` codings in it, or -1 when
 * it is malformed: an empty list element (`,chunked`), a coding that is not a token, or one
 * that is not a registered transfer coding (`xchunked`, `"chunked"`, `chunked\x0b`).
 * Parameters (`;q=…`) are ignored for the name, as the RFC grammar allows them.
 */
export function scanTransferEncoding(value: string): number {
  let chunked = 0;
  let i = 0;
  const n = value.length;
  for (;;) {
    while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
    const start = i;
    while (i < n && isTchar(value.charCodeAt(i))) i++;
    const end = i;
    if (end === start) return -1; // empty element or a non-token byte
    while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
    if (i < n && value.charCodeAt(i) === 0x3b /* ; */) {
      // Parameters: token=token or token="…"; anything odd makes the value malformed.
      while (i < n && value.charCodeAt(i) !== 0x2c) {
        const c = value.charCodeAt(i);
        if (isBreaking(c) || isOtherCtl(c) || c >= 0x80) return -1;
        i++;
      }
    }
    const coding = value.slice(start, end).toLowerCase();
    if (!KNOWN_CODINGS.includes(coding)) return -1;
    if (coding === 'chunked') chunked++;
    if (i >= n) return chunked;
    if (value.charCodeAt(i) !== 0x2c) return -1;
    i++;
  }
}

/** Whether the request-target is absolute-form and its authority differs from Host. */
function authorityDiffers(url: string, host: string): boolean {
  // http://authority/… or https://authority/… (case-insensitive scheme).
  if (url.charCodeAt(0) === 0x2f) return false; // origin-form, the common case
  let i: number;
  if (url.length > 7 && eqLower(url.slice(0, 7), 'http://')) i = 7;
  else if (url.length > 8 && eqLower(url.slice(0, 8), 'https://')) i = 8;
  else return false;
  let end = i;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    end++;
  }
  const authority = url.slice(i, end);
  return authority.toLowerCase() !== host.toLowerCase();
}

// ---- the request classifier ------------------------------------------------------------------

/**
 * Classifies a request head. `rawHeaders` is the flat `[name, value, …]` list as received
 * (duplicates kept, names as sent); `url` the request-target as received. The worst finding
 * wins; among findings of one tier the first is reported.
 */
export function classifyRequest(
  method: string,
  versionMajor: number,
  versionMinor: number,
  url: string,
  rawHeaders: readonly string[],
): Classification {
  verdict = COMPLIANT;
  rank = 0;
  // Version: 1.0 and 1.1 are compliant; 0.9 and 1.2+ are tolerated oddities; others are broken.
  const http09 = versionMajor === 0 && versionMinor === 9;
  if (http09 || (versionMajor === 1 && versionMinor >= 2 && versionMinor <= 9)) raise('NonCompliantVersion');
  else if (versionMajor !== 1 || (versionMinor !== 0 && versionMinor !== 1)) raise('BadVersion');

  if (!TOKEN.test(method)) raise('BadMethod');

  if (url.length === 0) raise('MissingUri');
  else if (UNUSUAL_URI.test(url)) {
    for (let i = 0; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c > 0x20 && c < 0x7f) continue;
      if (isBreaking(c)) {
        raise('BadUri');
        break;
      }
      if (c === 0x20) raise('SpaceInUri');
      else raise('AmbiguousUri');
    }
  }

  let teHeaders = 0;
  let chunkedCount = 0;
  let clHeaders = 0;
  let clValue = -1;
  let host: string | null = null;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.length === 0 || name.charCodeAt(0) === 0x3a) {
      raise('EmptyHeader');
      continue;
    }
    const nameBad = badNameByte(name);
    const kind = nameKind(name);
    if (nameBad === 2) raise('BadHeader');
    if (kind === Name.SUSPICIOUS) raise('SuspiciousHeader');
    else if (nameBad === 1) raise('NonCompliantHeader');
    switch (kind) {
      case Name.TE: {
        teHeaders++;
        const chunked = scanTransferEncoding(value);
        if (chunked < 0) raise(valueBytes(value) === 2 ? 'BadHeader' : 'BadTransferEncoding');
        else chunkedCount += chunked;
        continue;
      }
      case Name.CL: {
        clHeaders++;
        const n = parseContentLength(value);
        if (n < 0) raise(valueBytes(value) === 2 ? 'BadHeader' : 'BadContentLength');
        else if (clValue >= 0 && n !== clValue) raise('MultipleContentLength');
        else if (clValue >= 0) raise('DuplicateContentLength');
        else clValue = n;
        continue;
      }
      case Name.HOST:
        if (host !== null) raise('DuplicateHost');
        else host = value;
        break;
      case Name.UPGRADE:
        if (/(^|[\s,])h2c([\s,]|$)/i.test(value)) raise('H2cUpgrade');
        break;
      case Name.HTTP2_SETTINGS:
        raise('H2cUpgrade');
        break;
      default:
        break;
    }
    const vb = valueBytes(value);
    if (vb === 2) raise('BadHeader');
    else if (vb === 1) raise('NonCompliantHeader');
  }

  if (chunkedCount > 1) raise('MultipleTransferEncodingChunked');
  if (teHeaders > 0 && (http09 || (versionMajor === 1 && versionMinor === 0))) raise('UndefinedTransferEncodingSemantics');
  if (clHeaders > 0 && http09) raise('UndefinedContentLengthSemantics');
  if (teHeaders > 0 && clHeaders > 0) raise('BothTeClPresent');
  if (method === 'GET' || method === 'HEAD') {
    if (teHeaders > 0) raise('UndefinedTransferEncodingSemantics');
    if (clValue > 0) raise('UndefinedContentLengthSemantics');
    else if (clValue === 0) raise('GetHeadZeroContentLength');
  }
  if (host !== null && authorityDiffers(url, host)) raise('HostMismatch');
  return verdict;
}

// The verdict being built by classifyRequest (single-threaded, so module state instead of a
// per-call closure).
let verdict: Classification = VERDICT.Compliant;
let rank = 0;

function raise(reason: ClassificationReason): void {
  const v = VERDICT[reason];
  const r = RANK[v.tier];
  if (r > rank) {
    verdict = v;
    rank = r;
  }
}

/**
 * Removes, in place, every header field whose name is a look-alike of Transfer-Encoding or
 * Content-Length (`Transfer_Encoding`, `Content-Lengtʜ`, …). A request forwarded despite one
 * (monitor, defensive) must not carry it: a target that folds the spelling would read a second
 * framing. Returns how many fields were removed.
 */
export function stripLookAlikeHeaders(raw: string[]): number {
  let w = 0;
  let removed = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (nameKind(raw[i]!) === Name.SUSPICIOUS) {
      removed++;
      continue;
    }
    raw[w] = raw[i]!;
    raw[w + 1] = raw[i + 1]!;
    w += 2;
  }
  raw.length = w;
  return removed;
}

// ---- the response check ----------------------------------------------------------------------

/** Why a target's response head is refused (→ 502), or null when it is framed unambiguously. */
export type ResponseProblem =
  | 'BadStatus'
  | 'BadReason'
  | 'BadHeader'
  | 'SuspiciousHeader'
  | 'BadContentLength'
  | 'MultipleContentLength'
  | 'BadTransferEncoding'
  | 'BothTeClPresent'
  | 'UndefinedTransferEncodingSemantics';

/**
 * Checks a response head as llhttp delivered it. Beyond what llhttp refuses, a response is
 * refused when its status is outside 100–599; when it has a Transfer-Encoding other than exactly
 * one `chunked` (`chunked, chunked`, `,chunked`, `gzip`, `gzip, chunked`: Switchyard re-frames
 * bodies and decodes no other coding, so it could not relay them faithfully); TE on HTTP/1.0;
 * TE together with Content-Length; a Content-Length that is not one safe integer; a header name
 * that looks like a framing header without being one; NUL/CR/LF in a name or value; or a
 * control byte in the reason phrase (llhttp lets a NUL through there, and it would be relayed).
 */
export function checkResponseHead(status: number, versionMinor: number, rawHeaders: readonly string[], reason = ''): ResponseProblem | null {
  if (status < 100 || status > 599) return 'BadStatus';
  if (CTL_NOT_TAB.test(reason)) return 'BadReason';
  let te = 0;
  let cl = -1;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.length === 0 || badNameByte(name) === 2 || valueBytes(value) === 2) return 'BadHeader';
    const kind = nameKind(name);
    if (kind === Name.SUSPICIOUS) return 'SuspiciousHeader';
    if (kind === Name.TE) {
      te++;
      if (te > 1 || !eqLower(value.trim(), 'chunked')) return 'BadTransferEncoding';
    } else if (kind === Name.CL) {
      const n = parseContentLength(value);
      if (n < 0) return 'BadContentLength';
      if (cl >= 0 && n !== cl) return 'MultipleContentLength';
      cl = n;
    }
  }
  if (te > 0 && cl >= 0) return 'BothTeClPresent';
  if (te > 0 && versionMinor === 0) return 'UndefinedTransferEncodingSemantics';
  return null;
}
