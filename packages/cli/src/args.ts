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
  /** spelled with one dash, value separate or glued on, as compilers take it: `-I DIR`, `-IDIR` */
  short?: boolean;
}

export interface Parsed {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string[]>;
}

/**
 * Parses `--name`, `--name value` and `--name=value` (and `-X value`,
 * `-Xvalue` for one-letter `short` options) against a spec; anything
 * unknown is a UsageError.
 */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>, command: string): Parsed {
  const out: Parsed = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a.startsWith('-') && a !== '-') {
        const opt = option(spec, a[1]!);
        if (!opt?.short) throw new UsageError(`${command}: unknown option '${a}'`);
        let v: string | undefined = a.slice(2);
        if (!v) {
          v = argv[++i];
          if (v === undefined) throw new UsageError(`${command}: option '-${a[1]}' needs a value`);
        }
        add(out, a[1]!, v, opt, `-${a[1]}`, command);
        continue;
      }
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const opt = option(spec, name);
    if (!opt || opt.short) throw new UsageError(`${command}: unknown option '--${name}'`);
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
    add(out, name, v, opt, `--${name}`, command);
  }
  return out;
}

// Own properties only: `--constructor` is an unknown option, not Object.prototype's.
function option(spec: Readonly<Record<string, OptionSpec>>, name: string): OptionSpec | undefined {
  return Object.hasOwn(spec, name) ? spec[name] : undefined;
}

function add(out: Parsed, name: string, value: string, opt: OptionSpec, spelled: string, command: string): void {
  const list = out.values.get(name) ?? [];
  if (list.length && !opt.repeat) throw new UsageError(`${command}: option '${spelled}' given twice`);
  list.push(value);
  out.values.set(name, list);
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
