import { CoolbpfError } from '@coolbpf/reader';

/**
 * A generator cannot produce code for something in the model, or produced
 * code it should not have (a generator bug). The message names where, outermost
 * first: "map 'counts': value type 'struct cfg': member 'fl': …".
 */
export class GeneratorError extends CoolbpfError {
  override readonly name: string = 'GeneratorError';
}

/** Runs `fn`, adding `place` to the location of any CoolbpfError (GeneratorError, ModelError, …) it throws. */
export { within } from '@coolbpf/reader';
