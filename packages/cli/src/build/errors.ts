import { CoolbpfError } from '@coolbpf/reader';

/** Building failed outside the object reader: a tool, a file, the runtime, the host. */
export class BuildError extends CoolbpfError {
  override readonly name: string = 'BuildError';
}

/**
 * A tool rejected the input and explained why in its own words (clang's
 * diagnostics): the CLI prints `output` unchanged, then the one-line message,
 * so editors can still jump to file:line:col.
 */
export class ToolOutputError extends BuildError {
  override readonly name: string = 'ToolOutputError';
  constructor(reason: string, where: readonly string[], readonly output: string = '') {
    super(reason, where);
  }

  override within(place: string): this {
    const Ctor = this.constructor as new (reason: string, where: readonly string[], output: string) => this;
    return new Ctor(this.reason, [place, ...this.where], this.output);
  }
}
