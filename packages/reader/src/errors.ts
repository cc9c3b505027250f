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
    super(where.length ? `${where.join(': ')}: ${reason}` : reason);
  }

  /** The same error one level further out (e.g. the file name around a section error). */
  within(place: string): this {
    const Ctor = this.constructor as new (reason: string, where: readonly string[]) => this;
    return new Ctor(this.reason, [place, ...this.where]);
  }
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
