/**
 * Every failure coolbpf reports about its input is a CoolbpfError: one line
 * naming where (file, section, type, member …) and what is wrong. Callers
 * (the CLI) print `message` and exit; no layer throws a bare Error for bad
 * input, so anything else reaching the CLI is a bug in coolbpf.
 */
export class CoolbpfError extends Error {
  override readonly name: string = 'CoolbpfError';
  constructor(
    /** what is wrong, without the location */
    readonly reason: string,
    /** where, outermost first: file, section, type, member … */
    readonly where: readonly string[] = [],
  ) {
    super(oneLine(where.length ? `${shortPath(where)}: ${reason}` : reason));
  }

  /** The same error one level further out (e.g. the file name around a section error). */
  within(place: string): this {
    const Ctor = this.constructor as new (reason: string, where: readonly string[]) => this;
    return new Ctor(this.reason, [place, ...this.where]);
  }
}

/** Outermost and innermost places of a deep path, so the message stays readable; `where` keeps all. */
const MAX_SHOWN = 12;
function shortPath(where: readonly string[]): string {
  if (where.length <= MAX_SHOWN) return where.join(': ');
  const head = where.slice(0, MAX_SHOWN / 2);
  const tail = where.slice(where.length - MAX_SHOWN / 2);
  return [...head, `… (${where.length - MAX_SHOWN} more)`, ...tail].join(': ');
}

/**
 * Names quoted in messages come from the input (section, symbol, type and
 * member names) and may hold any byte: escape line breaks and other control
 * characters so a message always stays one printable line.
 */
function oneLine(message: string): string {
  return message.replace(/[\x00-\x1f\x7f\x85\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: {
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
      }
    }
  });
}

/** The input could not be read: bad ELF, BTF or BTF.ext. */
export class ReadError extends CoolbpfError {
  override readonly name: string = 'ReadError';
}

/** The bytes are not an ELF object the reader accepts (wrong magic, class, machine, layout). */
export class ElfError extends ReadError {
  override readonly name = 'ElfError';
}

/** Malformed .BTF data or raw BTF file. */
export class BtfError extends ReadError {
  override readonly name = 'BtfError';
}

/** Malformed .BTF.ext data. */
export class BtfExtError extends ReadError {
  override readonly name = 'BtfExtError';
}

/** Runs `fn`, adding `place` to the location of any CoolbpfError it throws. */
export function within<T>(place: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CoolbpfError) throw e.within(place);
    throw e;
  }
}
