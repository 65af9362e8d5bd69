/**
 * Running the real CLI (`node dist/src/cli/switchyard.js …`) as a child process, for tests of what
 * only a process shows: signals (SIGHUP, SIGTERM, SIGINT), startup lines and exit codes.
 */
import net from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './wait.js';

/**
 * The command as it ships: the bundle scripts/bundle.mjs builds from tsc's output
 * (docs/decisions/0015). Checked once against the modules it was built from, so that running
 * the tests after `tsc` alone fails with the fix instead of testing yesterday's bundle.
 */
export const CLI_MAIN = freshBundle(fileURLToPath(new URL('../../../src/cli/switchyard.js', import.meta.url)));

function freshBundle(bundle: string): string {
  const built = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const src = fileURLToPath(new URL('../../../src/', import.meta.url));
  let newest = '';
  let newestMs = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.js') && !e.name.startsWith('switchyard')) {
        const ms = statSync(path).mtimeMs;
        if (ms > newestMs) [newest, newestMs] = [path, ms];
      }
    }
  };
  walk(src);
  if (built < newestMs) throw new Error(`${bundle} is missing or older than ${newest}: run \`node scripts/bundle.mjs\` (npm test does)`);
  return bundle;
}

const MAIN = CLI_MAIN;

export interface SwitchyardProcess {
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stdout match of `re` (waits for it). */
  line(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGKILL if still running (for `after` hooks). */
  kill(): void;
}

/** Starts `switchyard …args`; stdout and stderr are collected. */
export function spawnSwitchyard(args: readonly string[], env: NodeJS.ProcessEnv = {}): SwitchyardProcess {
  const proc = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SWITCHYARD_LOG_LEVEL: 'warn', ...env },
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    line: (re, timeoutMs = 10_000) =>
      within(
        new Promise<RegExpMatchArray>((resolve, reject) => {
          const check = (): void => {
            const m = re.exec(out);
            if (m) {
              proc.stdout!.off('data', check);
              resolve(m);
            }
          };
          proc.stdout!.on('data', check);
          check();
          void exited.then(() => {
            const m = re.exec(out);
            if (m) resolve(m);
            else reject(new Error(`exited before printing ${re}; stdout: ${out} stderr: ${err}`));
          });
        }),
        timeoutMs,
        `stdout line ${re}`,
      ),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/** Resolves true when a TCP connection to 127.0.0.1:port is refused, false when accepted. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}
