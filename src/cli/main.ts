#!/usr/bin/env -S node --max-semi-space-size=2 --initial-old-space-size=32 --no-memory-reducer
/**
 * The `switchyard` command: subcommand dispatch (SPEC §1).
 *
 * The first line starts Node with a 2 MiB young generation (V8's default grows it to 16 MiB):
 * a proxy's garbage is small and short-lived, and the smaller nursery measured 20-30 MB less
 * RSS under the benchmark with equal or better throughput (docs/decisions/0014). The benchmark
 * reads its flags from this line; workers inherit them (cluster uses the primary's execArgv).
 * `--initial-old-space-size=32` lets V8 skip full collections while the old generation is under
 * 32 MB: without it, once a process had idled (or after some full GCs) V8 kept the old
 * generation's limit just above its ~10 MB of live data and ran a full GC every ~40 ms under load,
 * halving throughput (docs/decisions/0016). `--no-memory-reducer`: after an idle spell V8's
 * memory reducer left the native data path promoting ~30 MB/s into the old generation under load
 * (a 3-7 ms full GC every ~0.65 s, the p99); without it the heap stays flat (decision 0016, addendum).
 */
import { runValidate } from './validate.js';
import { runExplain } from './explain.js';
import { runServer } from './run.js';
import { runQuickstart } from './quickstart.js';
import { startDemoBackend } from './demo-backend.js';
import { parseArgs, option } from './args.js';

const USAGE = `usage:
  switchyard --config FILE            run the load balancer (also: switchyard run --config FILE)
  switchyard validate FILE            check a config; exit 0 if valid, 1 with every error
  switchyard explain FILE 'METHOD URL' [-H 'Name: value']... [--source-ip IP] [--cookie k=v]...
                     [--admin URL [--admin-token T]] [--json]
                                      which listener, rule, action and targets a request meets, and why
  switchyard demo-backend --port N [--name NAME]
                                      a tiny HTTP target that echoes the request as JSON
  switchyard quickstart               demo backends + examples/quickstart.yaml (npm start)`;

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};
const err = (s: string): void => {
  process.stderr.write(s + '\n');
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'validate':
      return runValidate(rest, out, err);
    case 'demo-backend': {
      const args = parseArgs(rest);
      const port = Number(option(args, 'port') ?? '');
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        err('switchyard demo-backend: --port N is required (0-65535)');
        return 1;
      }
      const b = await startDemoBackend(port, option(args, 'name') ?? `backend-${port}`, option(args, 'host') ?? '127.0.0.1');
      out(`demo backend ${b.name} listening http 127.0.0.1:${b.port}`);
      const stop = (): void => void b.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      return new Promise(() => {});
    }
    case 'quickstart':
      return runQuickstart(out, err);
    case 'explain':
      return runExplain(rest, out, err);
    case '-h':
    case '--help':
    case 'help':
    case undefined:
      out(USAGE);
      return cmd === undefined ? 1 : 0;
    default: {
      const args = parseArgs(cmd === 'run' ? rest : argv);
      const config = option(args, 'config');
      if (config === undefined || config === '') {
        err(`switchyard: unknown command ${cmd}\n${USAGE}`);
        return 1;
      }
      return runServer(config, out, err);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(`switchyard: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
