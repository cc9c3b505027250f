import { createHash } from 'node:crypto';
import { badRequest } from './errors.js';
import { requestKey } from './key.js';
import { parseCompileRequest, type CompileRequest } from './request.js';

/** A parsed request and its cache key for the last BTF it was keyed with. */
export interface ParsedRequest {
  readonly request: CompileRequest;
  key(btfSha256: string): string;
}

/** JSON body → validated CompileRequest; a 400 when it is not one. */
export function parseBody(body: Buffer): CompileRequest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`request body is not JSON (${(e as Error).message})`);
  }
  return parseCompileRequest(json);
}

/**
 * Parsed requests by the SHA-256 of their body. Clients of a build farm send
 * the same body again and again (each a cache hit), and parsing, checking
 * and keying it again cost a sixth of a hit's time on the server. Bodies
 * over `maxBodyBytes` are not kept; beyond `entries` the least recently used
 * go, so at most entries × maxBodyBytes are held.
 */
export class RequestMemo {
  readonly #byBody = new Map<string, ParsedRequest>();

  constructor(
    readonly toolchain: string,
    readonly entries = 256,
    readonly maxBodyBytes = 64 << 10,
  ) {}

  parse(body: Buffer): ParsedRequest {
    if (body.length > this.maxBodyBytes) return this.#parsed(parseBody(body));
    const digest = createHash('sha256').update(body).digest('base64');
    const hit = this.#byBody.get(digest);
    if (hit) {
      this.#byBody.delete(digest);
      this.#byBody.set(digest, hit);
      return hit;
    }
    const parsed = this.#parsed(parseBody(body));
    this.#byBody.set(digest, parsed);
    if (this.#byBody.size > this.entries) this.#byBody.delete(this.#byBody.keys().next().value as string);
    return parsed;
  }

  #parsed(request: CompileRequest): ParsedRequest {
    const toolchain = this.toolchain;
    let last: { btf: string; key: string } | null = null;
    return {
      request,
      key(btfSha256: string): string {
        if (last?.btf !== btfSha256) last = { btf: btfSha256, key: requestKey(request, btfSha256, toolchain) };
        return last.key;
      },
    };
  }
}
