import { CoolbpfError } from '@coolbpf/reader';

/**
 * A request the server answers with an error status: `message` is the
 * one-line `{"error": …}`, `extra` more JSON fields (clang's diagnostics).
 */
export class HttpError extends CoolbpfError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message, []);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
