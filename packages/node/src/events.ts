// Ring buffer and perf buffer readers. Waiting happens in Node's own event
// loop: the addon watches the ABI's epoll fd with a libuv poll handle and
// calls back here; one non-blocking N-API call then copies a whole batch of
// records into a reused buffer, which is walked with a DataView.
import { checkByteOrder, type Codec } from './codecs.js';
import { CoolbpfError } from './errors.js';
import type { NativeEvents } from './native.js';

export interface EventStats {
  /** records delivered to this reader so far */
  records: bigint;
  /** perf buffers: samples the kernel dropped (ring buffers count none: a full ring drops in BPF, where bpf_ringbuf_reserve fails) */
  lost: bigint;
}

export interface EventOptions {
  /** ends the iteration or subscription (cleanly: no AbortError) */
  signal?: AbortSignal;
  /** bytes read per system call at most (default 256 KiB); grows by itself for a record larger than it */
  batchBytes?: number;
}

interface Waiter {
  wake(readable: boolean): void;
}

/**
 * A ring buffer / perf event array reader (BpfObject.events()).
 *
 * Records go to whichever consumer reads first: use one consumer (an
 * iterator, a subscription or your own drain loop) per reader.
 */
export class RawEvents implements Disposable {
  readonly map: string;
  /** the epoll fd that is readable when records wait (for callers with their own loop) */
  readonly fd: number;
  readonly #native: NativeEvents;
  readonly #forget: (e: RawEvents) => void;
  #closed = false;
  #watching = false;
  #rechecking = false;
  #waiters = new Set<Waiter>();
  readonly #subscribers = new Set<() => void>();
  readonly #closeListeners = new Set<() => void>();
  readonly #onReadable = (): void => this.#dispatch();

  /** @internal made by BpfObject.events() */
  constructor(nativeEvents: NativeEvents, map: string, forget: (e: RawEvents) => void) {
    this.#native = nativeEvents;
    this.map = map;
    this.fd = nativeEvents.fd();
    this.#forget = forget;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Non-blocking batch read: whole records {u32 size, u32 cpu, data, pad to
   *  8} (host byte order) into buf; returns the bytes used, 0 when none wait.
   *  A first record larger than buf throws 'ENOSPC' (it stays queued). */
  read(buf: Uint8Array): number {
    return this.#native.read(buf);
  }

  stats(): EventStats {
    const [records, lost] = this.#native.stats();
    return { records, lost };
  }

  /** Closes the reader: waiting iterators end, subscriptions stop. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watching = false;
    this.#native.close();
    this.#forget(this);
    const ws = this.#waiters;
    this.#waiters = new Set();
    for (const w of ws) w.wake(false);
    for (const l of [...this.#closeListeners]) l();
    this.#closeListeners.clear();
    this.#subscribers.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * @internal Resolves true when records may be waiting, false when the
   * reader closed or the signal aborted. The poll handle runs (and keeps
   * the process alive) only while someone waits or subscribes.
   */
  waitReadable(signal?: AbortSignal): Promise<boolean> {
    if (this.#closed || signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        this.#waiters.delete(w);
        this.#sync();
        resolve(false);
      };
      const w: Waiter = {
        wake(readable) {
          signal?.removeEventListener('abort', onAbort);
          resolve(readable);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(w);
      if (!this.#watching) this.#sync();
    });
  }

  /** @internal fn runs whenever the fd is readable, until the returned function is called */
  subscribe(fn: () => void): () => void {
    if (this.#closed) return () => {};
    this.#subscribers.add(fn);
    this.#sync();
    return () => {
      this.#subscribers.delete(fn);
      this.#sync();
    };
  }

  /** @internal fn runs once when the reader closes */
  onClose(fn: () => void): () => void {
    if (this.#closed) {
      fn();
      return () => {};
    }
    this.#closeListeners.add(fn);
    return () => this.#closeListeners.delete(fn);
  }

  #dispatch(): void {
    if (this.#waiters.size === 0 && this.#subscribers.size === 0) {
      // readable with nobody to read: stop watching (level-triggered, it would spin)
      this.#sync();
      return;
    }
    if (this.#waiters.size > 0) {
      const ws = this.#waiters;
      this.#waiters = new Set();
      for (const w of ws) w.wake(true);
    }
    for (const s of this.#subscribers) s();
    // still watching: a consumer that drains and waits again (the usual
    // loop) costs no epoll_ctl per wait; #sync stops it when nobody waits
  }

  /** @internal an iteration ended: stop watching unless someone still waits */
  idle(): void {
    this.#sync();
  }

  // Watch the fd while anyone waits or subscribes, and not otherwise: the
  // poll handle keeps the process alive, and with nobody to drain a
  // level-triggered readable fd would spin.
  #sync(): void {
    if (this.#closed) return;
    const want = this.#waiters.size > 0 || this.#subscribers.size > 0;
    if (want === this.#watching) return;
    this.#watching = want;
    if (want) {
      this.#native.watch(this.#onReadable);
      this.#recheck();
    } else {
      this.#native.unwatch();
    }
  }

  // A perf buffer announces a sample once, and epoll polls a nested epoll
  // fd twice when the outer one adds it (libuv does that on the loop's next
  // poll phase after watch()): a sample announced before that is consumed
  // without being reported. So once the fd is surely in libuv's epoll set,
  // look once more, as if it were readable: two check phases after watch()
  // one poll phase has run, whichever phase watch() was called in.
  #recheck(): void {
    if (this.#rechecking) return;
    this.#rechecking = true;
    setImmediate(() => setImmediate(() => {
      this.#rechecking = false;
      if (this.#watching && !this.#closed) this.#dispatch();
    }));
  }
}

const DEFAULT_BATCH = 256 * 1024;
/** batches one wakeup of a subscription drains before yielding to the loop */
const BATCHES_PER_TURN = 16;
const MAX_BUFFER = 1 << 30;

/** Typed events: generated code makes one per event map. */
export class TypedEvents<T> {
  readonly #raw: RawEvents;
  readonly #codec: Codec<T>;
  readonly #size: number;
  #buf = new Uint8Array(0);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  #end = 0;
  #batch = DEFAULT_BATCH;

  constructor(raw: RawEvents, codec: Codec<T>, littleEndian: boolean) {
    checkByteOrder(littleEndian, `TypedEvents '${raw.map}'`);
    this.#raw = raw;
    this.#codec = codec;
    this.#size = codec.size;
  }

  get raw(): RawEvents {
    return this.#raw;
  }

  /** for await (const ev of events) — see iterate() */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#generate(undefined, undefined);
  }

  /**
   * for await (const ev of x.iterate({ signal })) { … }
   *
   * Waits in the event loop (the process stays alive while an iteration
   * waits). Ends cleanly — no exception — when the signal aborts, the reader
   * closes or the object is destroyed, and when the loop body breaks. A read
   * error (or a record shorter than the event type: 'EMISMATCH') throws
   * from the loop. Records already read but not yet yielded when it ends
   * stay for the next iterate()/drain()/subscribe().
   */
  iterate(options: EventOptions = {}): AsyncIterable<T> {
    return { [Symbol.asyncIterator]: () => this.#generate(options.signal, options.batchBytes) };
  }

  // A hand-written iterator rather than an async generator: per event, one
  // resolved promise and no generator machinery.
  #generate(signal: AbortSignal | undefined, batchBytes: number | undefined): AsyncIterableIterator<T> {
    const raw = this.#raw;
    const done: IteratorReturnResult<undefined> = { value: undefined, done: true };
    // ends a wait when return() is called or the caller's signal aborts
    const stopper = new AbortController();
    let finished = false;
    const onAbort = (): void => stopper.abort();
    const finish = (): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      stopper.abort();
      raw.idle();
    };
    if (signal?.aborted) finish();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        try {
          for (;;) {
            if (finished || raw.closed || signal?.aborted) {
              finish();
              return Promise.resolve(done);
            }
            if (this.#pos < this.#end) return Promise.resolve({ value: this.#take(), done: false });
            if (this.#fill(batchBytes) === 0) break;
          }
        } catch (e) {
          finish();
          return Promise.reject(e);
        }
        return raw.waitReadable(stopper.signal).then((readable) => (readable ? it.next() : (finish(), done)));
      },
      return: (): Promise<IteratorResult<T>> => {
        finish();
        return Promise.resolve(done);
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /**
   * Callback form: calls cb for every event, with its CPU for perf buffers
   * (0 for ring buffers), from the event loop, until stop(), the signal, or
   * the reader's close / the object's destroy. `done` resolves then; if cb
   * throws (or a read fails), the subscription stops and `done` rejects
   * with that error. Each wakeup drains everything waiting (yielding to
   * the loop between every 16 batches).
   */
  subscribe(cb: (event: T, cpu: number) => void, options: EventOptions = {}): { stop(): void; done: Promise<void> } {
    const { signal, batchBytes } = options;
    const raw = this.#raw;
    let stopped = false;
    let resolveDone!: () => void, rejectDone!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    let immediate: NodeJS.Immediate | undefined;
    let unsubscribe = (): void => {};
    let unClose = (): void => {};
    const finish = (err?: unknown): void => {
      if (stopped) return;
      stopped = true;
      if (immediate) clearImmediate(immediate);
      immediate = undefined;
      unsubscribe();
      unClose();
      signal?.removeEventListener('abort', stop);
      if (err === undefined) resolveDone();
      else rejectDone(err);
    };
    const stop = (): void => finish();
    const codec = this.#codec, size = this.#size;
    const pump = (): void => {
      immediate = undefined;
      if (stopped) return;
      try {
        for (let batches = 0; ;) {
          if (this.#pos >= this.#end) {
            if (batches === BATCHES_PER_TURN) {
              // more may wait: continue after other callbacks had a turn
              // (perf buffers do not signal data already announced)
              immediate = setImmediate(pump);
              return;
            }
            if (raw.closed || this.#fill(batchBytes) === 0) return;
            batches++;
          }
          const view = this.#view;
          const p = this.#pos;
          const len = view.getUint32(p, true);
          const cpu = view.getUint32(p + 4, true);
          this.#pos = p + 8 + ((len + 7) & ~7);
          if (len < size) throw this.#short(len);
          cb(codec.decode(view, p + 8), cpu);
          if (stopped) return;
        }
      } catch (e) {
        finish(e);
      }
    };
    if (signal?.aborted || raw.closed) {
      finish();
      return { stop, done };
    }
    signal?.addEventListener('abort', stop, { once: true });
    unClose = raw.onClose(stop);
    unsubscribe = raw.subscribe(pump);
    // what is already waiting (or left by an earlier drain) without waiting for a wakeup
    immediate = setImmediate(pump);
    return { stop, done };
  }

  stats(): EventStats {
    return this.#raw.stats();
  }

  /** Events decoded from one read without waiting (for callers running their
   *  own loop): records left from an earlier read first, else one read. */
  drain(max: number = Infinity): T[] {
    const out: T[] = [];
    if (this.#pos >= this.#end) this.#fill(undefined);
    while (out.length < max && this.#pos < this.#end) out.push(this.#take());
    return out;
  }

  #short(len: number): CoolbpfError {
    return new CoolbpfError(`events '${this.#raw.map}': a record of ${len} bytes is shorter than the ${this.#size}-byte event type`,
      'EMISMATCH', 0);
  }

  #take(): T {
    const view = this.#view;
    const p = this.#pos;
    const len = view.getUint32(p, true);
    this.#pos = p + 8 + ((len + 7) & ~7);
    if (len < this.#size) throw this.#short(len);
    return this.#codec.decode(view, p + 8);
  }

  /** One read into the reused buffer (grown for a record larger than it). */
  #fill(batchBytes: number | undefined): number {
    if (batchBytes !== undefined) {
      if (!Number.isSafeInteger(batchBytes) || batchBytes < 16) throw new RangeError(`batchBytes must be an integer >= 16, got ${batchBytes}`);
      this.#batch = batchBytes;
    }
    if (this.#buf.length !== this.#batch) this.#setBuffer(this.#batch);
    for (;;) {
      try {
        const n = this.#raw.read(this.#buf);
        this.#pos = 0;
        this.#end = n;
        return n;
      } catch (e) {
        if (e instanceof CoolbpfError && e.code === 'ENOSPC' && this.#buf.length < MAX_BUFFER) {
          this.#setBuffer(this.#buf.length * 2);
          this.#batch = this.#buf.length;
          continue;
        }
        throw e;
      }
    }
  }

  #setBuffer(size: number): void {
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
    this.#pos = this.#end = 0;
  }
}
