import { HttpError } from './errors.js';

/**
 * At most `concurrency` jobs run at once and at most `maxQueued` wait;
 * beyond that run() rejects at once with a 503 carrying Retry-After.
 */
export class CompileQueue {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
    /** seconds a client is told to wait when the queue is full */
    readonly retryAfter = 5,
  ) {
    if (!(concurrency >= 1) || !(maxQueued >= 0)) throw new Error(`CompileQueue: bad limits ${concurrency}/${maxQueued}`);
  }

  /** jobs waiting for a slot */
  get depth(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueued) {
        throw new HttpError(503, `server busy: ${this.#running} compiles running and ${this.#waiting.length} queued`, {}, { 'Retry-After': String(this.retryAfter) });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      // the slot passes straight to the next job, so #running stays put
      if (next) next();
      else this.#running--;
    }
  }
}

/** Identical requests in flight share one promise, keyed by the cache key. */
export class InFlight<T> {
  readonly #pending = new Map<string, Promise<T>>();

  get size(): number {
    return this.#pending.size;
  }

  /** `make()` for the first caller of a key; later callers get the same promise and `shared: true`. */
  share(key: string, make: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const p = this.#pending.get(key);
    if (p) return { promise: p, shared: true };
    const promise = make().finally(() => this.#pending.delete(key));
    this.#pending.set(key, promise);
    return { promise, shared: false };
  }
}
