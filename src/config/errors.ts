/**
 * Configuration errors as data: where in the document (a JSON-pointer path plus the line and
 * column in the source text), what was wrong and what was expected.
 *
 * Owns: the `ConfigError` shape, its one-line rendering (`validate`, startup and reload all
 * print the same text) and `ConfigLoadError`, the exception form for callers that prefer to
 * throw. No I/O.
 */

/** One problem found while loading or validating a configuration document. */
export interface ConfigError {
  /**
   * JSON pointer into the document, e.g. `/listeners/0/rules/1/priority`. Empty for the
   * document itself (YAML syntax errors, unreadable file).
   */
  readonly path: string;
  /** 1-based line of the offending node in the source text; 0 when unknown. */
  readonly line: number;
  /** 1-based column of the offending node in the source text; 0 when unknown. */
  readonly column: number;
  /** What would have been accepted, e.g. `integer 1–50000`. May be empty. */
  readonly expected: string;
  /** What is wrong, e.g. `must be <= 50000`. */
  readonly message: string;
}

/**
 * Renders one error as a single line:
 * `config.yaml:12:9 /listeners/0/rules/1/priority: must be <= 50000 (expected: integer 1–50000)`.
 * The position is left out when unknown (line 0), the path when it is the whole document.
 */
export function formatConfigError(file: string, err: ConfigError): string {
  const where = err.line > 0 ? `${file}:${err.line}:${err.column}` : file;
  const path = err.path === '' ? '' : ` ${err.path}`;
  const expected = err.expected === '' ? '' : ` (expected: ${err.expected})`;
  return `${where}${path}: ${err.message}${expected}`;
}

/** Orders errors by their position in the source, then by path, so output reads top to bottom. */
export function compareConfigErrors(a: ConfigError, b: ConfigError): number {
  return a.line - b.line || a.column - b.column || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Thrown by callers that turn a failed load into an exception (startup, programmatic API). */
export class ConfigLoadError extends Error {
  readonly code = 'SY_ERR_CONFIG_INVALID';
  readonly errors: ConfigError[];

  /** `file` is only used to render the message (the first error, and how many more). */
  constructor(errors: readonly ConfigError[], file = 'config') {
    const first = errors[0];
    const summary = first === undefined ? 'invalid configuration' : formatConfigError(file, first);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super(`${summary}${more}`);
    this.name = 'ConfigLoadError';
    this.errors = [...errors];
  }
}
