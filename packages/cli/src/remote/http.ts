import { BuildError } from '../build/errors.js';

/** A server URL and its bearer token, for every client command. */
export interface Remote {
  readonly url: string;
  readonly token: string | undefined;
}

export function endpoint(r: Remote, path: string): string {
  return `${r.url.replace(/\/+$/, '')}${path}`;
}

/** fetch with the token and a one-line error for a server that cannot be reached. */
export async function request(r: Remote, path: string, init: RequestInit = {}, timeoutMs = 600_000): Promise<Response> {
  const headers = new Headers(init.headers);
  if (r.token) headers.set('Authorization', `Bearer ${r.token}`);
  try {
    return await fetch(endpoint(r, path), { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : err.cause?.code ?? err.cause?.message ?? err.message;
    throw new BuildError(`cannot reach the build server: ${why}`, [r.url]);
  }
}

/** The server's `{"error": …}` of a failed response, as one line. */
export async function serverError(res: Response, r: Remote): Promise<BuildError> {
  let message = `HTTP ${res.status}`;
  try {
    const j = (await res.json()) as { error?: unknown };
    if (typeof j.error === 'string') message = `${j.error} (HTTP ${res.status})`;
  } catch {
    // not JSON: the status says enough
  }
  return new BuildError(`server: ${message}`, [r.url]);
}
