/**
 * The optional built-in WAF rule set (`waf.builtin: true`, off by default): signatures of the
 * commonest attacks, for operators who want a baseline without writing rules.
 *
 * Owns: the signatures as data. Each is a case-insensitive regular expression tested against
 * percent-decoded values (decoded repeatedly, so double encoding hides nothing) of the path, the
 * query, the Cookie, Referer and User-Agent headers and the body prefix (waf.ts does the
 * decoding). The expressions avoid nested quantifiers and unbounded backtracking: their cost is
 * linear in the (bounded) input.
 *
 * These are signatures, not a parser: they catch scanners and copy-pasted payloads, and they
 * can match legitimate text (a CMS posting HTML, a forum post quoting SQL). Run them in
 * `mode: count` first and read `switchyard_protection_hits_total` before blocking.
 */

export interface BuiltinRule {
  /** `builtin-sqli`, `builtin-xss`, `builtin-traversal`: the metric and log label. */
  readonly name: string;
  readonly patterns: readonly RegExp[];
}

export const BUILTIN_RULES: readonly BuiltinRule[] = Object.freeze([
  {
    name: 'builtin-sqli',
    patterns: [
      // UNION [ALL] SELECT, also with comments or odd spacing between the words.
      /\bunion\b[\s/*()+]{1,40}(?:all[\s/*()+]{1,40}|distinct[\s/*()+]{1,40})?select\b/i,
      // Tautologies after a closing quote: ' or '1'='1, " OR 1=1, ' and a=a.
      /['"`]\s{0,10}(?:or|and|\|\||&&)\s{1,10}['"`]?[\w-]{1,40}['"`]?\s{0,10}(?:=|<>|!=|\blike\b)\s{0,10}['"`]?[\w-]{1,40}/i,
      /\bor\s{1,10}\d{1,10}\s{0,10}=\s{0,10}\d{1,10}\b/i,
      // A quote closed and the rest of the statement commented out.
      /['"`]\s{0,10}(?:--|\/\*|#\s*$)/i,
      // Stacked statements.
      /;\s{0,10}(?:drop|truncate|alter|create)\s{1,10}(?:table|database|schema|user|procedure)\b/i,
      /;\s{0,10}(?:insert\s{1,10}into|delete\s{1,10}from|exec(?:ute)?\s{1,10}(?:xp|sp)_|shutdown\b)/i,
      // Time-based blind probes and catalogue reads.
      /\b(?:sleep|benchmark|pg_sleep)\s{0,10}\(\s{0,10}\d/i,
      /\bwaitfor\s{1,10}delay\s{1,10}['"]/i,
      /\b(?:information_schema|pg_catalog|sysobjects|xp_cmdshell|mysql\.user|sqlite_master)\b/i,
    ],
  },
  {
    name: 'builtin-xss',
    patterns: [
      /<\s{0,10}\/?\s{0,10}script\b/i,
      /\b(?:java|vb)script\s{0,10}:/i,
      // An event handler attribute inside a tag: <img src=x onerror=…>, <svg onload=…>.
      /<[a-z][^>]{0,500}?[\s/"']on[a-z]{3,30}\s{0,10}=/i,
      /<\s{0,10}(?:iframe|object|embed|applet|base|meta)\b/i,
      /\bdocument\s{0,10}\.\s{0,10}(?:cookie|domain|write)\b/i,
      /\bstring\s{0,10}\.\s{0,10}fromcharcode\s{0,10}\(/i,
    ],
  },
  {
    name: 'builtin-traversal',
    patterns: [
      // ../ or ..\ as a segment (the path itself is normalised; this is for query, headers, body).
      /(?:^|[\\/=:;,\s'"])\.\.(?:[\\/;]|$)/,
      /(?:^|[\\/])(?:etc[\\/](?:passwd|shadow|group|hosts)|proc[\\/]self[\\/]|windows[\\/]system32|boot\.ini|win\.ini)\b/i,
      // A NUL byte (decoded %00) to truncate a file name.
      /\x00/,
    ],
  },
]);
