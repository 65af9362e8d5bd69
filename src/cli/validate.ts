/**
 * `switchyard validate FILE`: load and validate a configuration, print every error (one line
 * each, `file:line:column /path: message (expected: …)`) or a one-line summary.
 *
 * Owns: the validate subcommand's arguments, output and exit code (0 valid, 1 invalid or
 * unreadable or bad usage). Output goes through the injected writers so tests need no process.
 */
import { formatConfigError } from '../config/errors.js';
import { loadConfigFile } from '../config/load.js';

const USAGE = 'usage: switchyard validate FILE';

/**
 * Runs `validate` with the arguments after the subcommand name. Writers receive whole lines
 * without a trailing newline. Resolves to the exit code.
 */
export async function runValidate(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    out(USAGE);
    out('Checks a YAML or JSON configuration; exits 0 when valid, 1 with every error otherwise.');
    return 0;
  }
  const files = argv.filter((a) => a !== '--');
  const unknown = files.find((a) => a.startsWith('-') && a.length > 1);
  if (unknown !== undefined || files.length !== 1) {
    err(unknown !== undefined ? `switchyard validate: unknown option ${unknown}` : USAGE);
    if (unknown !== undefined) err(USAGE);
    return 1;
  }
  const file = files[0]!;
  const result = await loadConfigFile(file, env);
  if (!result.ok) {
    for (const e of result.errors) err(formatConfigError(file, e));
    const n = result.errors.length;
    err(`${file}: ${n} error${n === 1 ? '' : 's'}`);
    return 1;
  }
  const listeners = result.config.listeners.length;
  const groups = result.config.targetGroups?.length ?? 0;
  out(`${file}: valid (${listeners} listener${listeners === 1 ? '' : 's'}, ${groups} target group${groups === 1 ? '' : 's'})`);
  return 0;
}
