import { CoolbpfError } from '@coolbpf/reader';

/** The object was read but does not describe something coolbpf can model. */
export class ModelError extends CoolbpfError {
  override readonly name: string = 'ModelError';
}

/** Runs `fn`, adding `place` to the location of any CoolbpfError it throws. */
export { within } from '@coolbpf/reader';
