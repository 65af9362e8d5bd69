/**
 * A small argv reader for the CLI: `--name value`, `--name=value`, repeated options, and
 * positionals. Owns nothing else.
 */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], flags: ReadonlySet<string> = new Set()): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--') || (a.startsWith('-') && a.length === 2)) {
      const eq = a.indexOf('=');
      const name = (eq >= 0 ? a.slice(0, eq) : a).replace(/^-+/, '');
      let value: string;
      if (eq >= 0) value = a.slice(eq + 1);
      else if (flags.has(name)) value = 'true';
      else value = argv[++i] ?? '';
      const list = options.get(name) ?? [];
      list.push(value);
      options.set(name, list);
    } else {
      positionals.push(a);
    }
  }
  return { positionals, options };
}

export function option(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return v === undefined ? undefined : v[v.length - 1];
}
