import { CoolbpfError } from '@coolbpf/reader';

/** The command line was not understood. */
export class UsageError extends CoolbpfError {
  override readonly name: string = 'UsageError';
}

export interface OptionSpec {
  /** takes a value (`--out DIR`); otherwise a flag */
  value?: boolean;
  /** may be given several times; values collect in order */
  repeat?: boolean;
}

export interface Parsed {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string[]>;
}

/** Parses `--name`, `--name value` and `--name=value` against a spec; anything unknown is a UsageError. */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>, command: string): Parsed {
  const out: Parsed = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a.startsWith('-') && a !== '-') throw new UsageError(`${command}: unknown option '${a}'`);
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const opt = spec[name];
    if (!opt) throw new UsageError(`${command}: unknown option '--${name}'`);
    if (!opt.value) {
      if (eq >= 0) throw new UsageError(`${command}: option '--${name}' takes no value`);
      out.flags.add(name);
      continue;
    }
    let v: string | undefined;
    if (eq >= 0) v = a.slice(eq + 1);
    else {
      v = argv[++i];
      if (v === undefined) throw new UsageError(`${command}: option '--${name}' needs a value`);
    }
    const list = out.values.get(name) ?? [];
    if (list.length && !opt.repeat) throw new UsageError(`${command}: option '--${name}' given twice`);
    list.push(v);
    out.values.set(name, list);
  }
  return out;
}

/** `MAP=TYPE` pairs from repeated `--event` options. */
export function parseEvents(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const eq = s.indexOf('=');
    const map = s.slice(0, eq).trim();
    const type = s.slice(eq + 1).trim();
    if (eq < 0 || !map || !type) throw new UsageError(`--event '${s}': expected MAP=TYPE, e.g. --event events='struct event'`);
    if (map in out) throw new UsageError(`--event: map '${map}' given twice`);
    out[map] = type;
  }
  return out;
}
