// Loading a bpf.so, and the lifecycle of the object it embeds.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { CoolbpfError } from './errors.js';
import { RawEvents } from './events.js';
import { RawMap } from './maps.js';
import { native, type NativeLibrary, type NativeObject, type ObjectState } from './native.js';

/** What generated code expects of its bpf.so. */
export interface Expected {
  abiVersion: number;
  sha256: string;
}

export interface OpenOptions {
  /** kernel BTF to use instead of /sys/kernel/btf/vmlinux */
  btfPath?: string;
  /** libbpf messages up to this level go to logFd: 0 warnings, 1 info, 2 debug */
  logLevel?: 0 | 1 | 2;
  /** where libbpf's log goes (2 for stderr); default: nowhere (failures are in the errors) */
  logFd?: number;
}

const libraries = new Map<string, Library>();

/**
 * Loads a bpf.so (dlopen through the addon) and checks it is the one the code
 * was generated for: ABI version and object SHA-256; on a mismatch throws
 * CoolbpfError code 'EMISMATCH' saying which differs (expected vs found, path).
 *
 * One Library per file: loading the same file again (by any path that
 * resolves to it) returns the same Library. A bpf.so stays loaded for the
 * life of the process (it is never dlclose()d), so a file rebuilt in place
 * is not picked up until the process restarts: the SHA-256 check says so.
 * `expected` may be left out to load any bpf.so of this runtime's ABI.
 */
export function loadLibrary(path: string, expected?: Expected): Library {
  if (typeof path !== 'string' || path === '') throw new TypeError('loadLibrary: path must be a non-empty string');
  const abs = resolve(path);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CoolbpfError(`loadLibrary: '${abs}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
      err.code ?? 'ENOENT', typeof err.errno === 'number' ? Math.abs(err.errno) : 2);
  }
  let lib = libraries.get(real);
  if (!lib) {
    lib = new Library(new (native().Library)(real), real);
    libraries.set(real, lib);
  }
  if (expected) {
    if (lib.abiVersion !== expected.abiVersion)
      throw new CoolbpfError(`loadLibrary: '${real}' has coolbpf ABI version ${lib.abiVersion}, expected ${expected.abiVersion}` +
        ' (regenerate the code, or rebuild the bpf.so with the matching coolbpf-gen)', 'EMISMATCH', 0);
    if (lib.objectSha256 !== String(expected.sha256).toLowerCase())
      throw new CoolbpfError(`loadLibrary: '${real}' embeds the object with SHA-256 ${lib.objectSha256}, expected ${expected.sha256}` +
        ' (the bpf.so was built from another object than the code was generated for)', 'EMISMATCH', 0);
  }
  return lib;
}

/** A loaded bpf.so. Made by loadLibrary(). */
export class Library {
  /** the bpf.so's canonical path (symlinks resolved) */
  readonly path: string;
  readonly abiVersion: number;
  /** SHA-256 of the embedded object, 64 lowercase hex digits */
  readonly objectSha256: string;
  readonly #native: NativeLibrary;
  #cpus = 0;

  /** @internal use loadLibrary() */
  constructor(nativeLibrary: NativeLibrary, path: string) {
    this.#native = nativeLibrary;
    this.path = path;
    this.abiVersion = nativeLibrary.abiVersion();
    this.objectSha256 = nativeLibrary.objectSha256();
  }

  /** Opens the embedded object: nothing is in the kernel until load(). */
  open(options: OpenOptions = {}): BpfObject {
    const level = options.logLevel ?? 0;
    if (![0, 1, 2].includes(level)) throw new RangeError(`open: logLevel must be 0, 1 or 2, got ${String(level)}`);
    return new BpfObject(this.#native.open(options.btfPath, level, options.logFd), this);
  }

  /** The number of possible CPUs: the length of every per-CPU value. */
  possibleCpus(): number {
    if (this.#cpus === 0) this.#cpus = this.#native.possibleCpus();
    return this.#cpus;
  }
}

export interface UprobeTarget {
  /** the executable or library (a path; libbpf also searches PATH and the library path for a bare name) */
  binary: string;
  /** a function's symbol in it; left out: `offset` alone is the address */
  symbol?: string;
  /** added to the symbol's address (or the address itself) */
  offset?: number | bigint;
  /** only this process; left out or -1: every process */
  pid?: number;
  /** on return instead of entry */
  retprobe?: boolean;
}

export interface KprobeTarget {
  function: string;
  offset?: number | bigint;
  retprobe?: boolean;
}

/** DataView over a frozen section's contents (a copy: .rodata after load):
 *  reads work, writes throw TypeError. */
class ReadOnlyDataView extends DataView<ArrayBuffer> {
  readonly #section: string;
  constructor(buffer: ArrayBuffer, section: string) {
    super(buffer);
    this.#section = section;
  }
  #deny(): never {
    throw new TypeError(`section '${this.#section}' is read-only after load (the kernel froze it); set it with setInitial() before load()`);
  }
  override setInt8(): void { this.#deny(); }
  override setUint8(): void { this.#deny(); }
  override setInt16(): void { this.#deny(); }
  override setUint16(): void { this.#deny(); }
  override setInt32(): void { this.#deny(); }
  override setUint32(): void { this.#deny(); }
  override setFloat32(): void { this.#deny(); }
  override setFloat64(): void { this.#deny(); }
  override setBigInt64(): void { this.#deny(); }
  override setBigUint64(): void { this.#deny(); }
}

/**
 * The object embedded in a bpf.so: opened → (setInitial, setAutoload) →
 * load() → attach() / attach*() → destroy(). Calls out of order throw
 * CoolbpfError 'ESTATE', any call after destroy() 'EDESTROYED' (destroy()
 * itself is idempotent). An object that becomes unreachable without
 * destroy() is destroyed by the garbage collector once nothing made from it
 * (maps, readers, section views) is reachable either; keep a reference for
 * as long as its programs should stay attached.
 */
export class BpfObject implements Disposable {
  readonly library: Library;
  readonly #native: NativeObject;
  readonly #maps = new Map<string, RawMap>();
  readonly #sections = new Map<string, DataView>();
  readonly #events = new Set<RawEvents>();
  readonly #links = new Set<Link>();

  /** @internal use Library.open() */
  constructor(nativeObject: NativeObject, library: Library) {
    this.#native = nativeObject;
    this.library = library;
  }

  get state(): ObjectState {
    return this.#native.state();
  }

  /** Before load: writes bytes at an offset of a data section's initial contents ('.rodata', '.data', '.bss', '.data.foo', …). */
  setInitial(section: string, offset: number, bytes: Uint8Array): void {
    this.#native.setInitial(section, offset, bytes);
  }

  /** Before load: whether a program is loaded at all (SEC("?…") programs default to off). */
  setAutoload(program: string, on: boolean): void {
    this.#native.setAutoload(program, on);
  }

  /** Loads every program and creates every map (the verifier runs here). A
   *  verifier rejection throws 'EACCES' (or 'EINVAL') with the log's tail in
   *  the message. A failed load cannot be retried: destroy() and open again. */
  load(): void {
    this.#native.load();
    // .rodata's view from before load was detached (the memory became
    // read-only); the next section() call gives its frozen contents
    for (const [name, view] of this.#sections) if (view.buffer.byteLength === 0) this.#sections.delete(name);
  }

  /** Attaches every auto-attachable program (those whose SEC() names a target). */
  attach(): void {
    this.#native.attach();
  }

  #link(id: number, what: string): Link {
    const l = new Link(this, this.#native, id, what);
    this.#links.add(l);
    return l;
  }

  /** @internal */
  forgetLink(l: Link): void {
    this.#links.delete(l);
  }

  attachUprobe(program: string, t: UprobeTarget): Link {
    const id = this.#native.attachUprobe(program, t.binary, t.symbol ?? null, t.offset ?? 0, t.pid ?? -1, t.retprobe ?? false);
    return this.#link(id, `${program} → ${t.retprobe ? 'uretprobe' : 'uprobe'} ${t.binary}:${t.symbol ?? ''}+${String(t.offset ?? 0)}`);
  }

  attachKprobe(program: string, t: KprobeTarget): Link {
    const id = this.#native.attachKprobe(program, t.function, t.offset ?? 0, t.retprobe ?? false);
    return this.#link(id, `${program} → ${t.retprobe ? 'kretprobe' : 'kprobe'} ${t.function}`);
  }

  attachTracepoint(program: string, category: string, name: string): Link {
    return this.#link(this.#native.attachTracepoint(program, category, name), `${program} → tracepoint ${category}/${name}`);
  }

  attachRawTracepoint(program: string, name: string): Link {
    return this.#link(this.#native.attachRawTracepoint(program, name), `${program} → raw tracepoint ${name}`);
  }

  attachXdp(program: string, ifindex: number, flags = 0): Link {
    return this.#link(this.#native.attachXdp(program, ifindex, flags), `${program} → XDP ifindex ${ifindex}`);
  }

  attachTc(program: string, ifindex: number, direction: 'ingress' | 'egress'): Link {
    if (direction !== 'ingress' && direction !== 'egress') throw new TypeError(`attachTc: direction must be 'ingress' or 'egress'`);
    return this.#link(this.#native.attachTc(program, ifindex, direction === 'egress'), `${program} → tc ${direction} ifindex ${ifindex}`);
  }

  attachCgroup(program: string, cgroupPath: string): Link {
    return this.#link(this.#native.attachCgroup(program, cgroupPath), `${program} → cgroup ${cgroupPath}`);
  }

  attachPerfEvent(program: string, perfEventFd: number): Link {
    return this.#link(this.#native.attachPerfEvent(program, perfEventFd), `${program} → perf event fd ${perfEventFd}`);
  }

  /**
   * The section's bytes, without copies or system calls: before load its
   * initial image (writable: the same as setInitial), after load the live
   * memory-mapped map for .data, .bss and custom sections (the same DataView
   * goes on working across load). .rodata is frozen by load: its view from
   * before load is detached then, and after load section('.rodata') gives
   * its (unchanging) contents in a view whose setters throw TypeError. Every
   * view (.rodata's copy included) is detached on destroy: any access then
   * throws TypeError instead of touching unmapped memory, and section()
   * itself throws 'EDESTROYED'.
   */
  section(name: string): DataView {
    const cached = this.#sections.get(name);
    if (cached && cached.buffer.byteLength !== 0) return cached;
    const [buffer, readOnly] = this.#native.section(name);
    const view = readOnly ? new ReadOnlyDataView(buffer, name) : new DataView(buffer);
    this.#sections.set(name, view);
    return view;
  }

  /** A map by name (the same RawMap for the same name). Usable after load. */
  map(name: string): RawMap {
    let m = this.#maps.get(name);
    if (!m) {
      m = new RawMap(this.#native.map(name), name);
      this.#maps.set(name, m);
    }
    return m;
  }

  /** A new reader of a ring buffer or perf event array (after load).
   *  perfPages: per-CPU buffer pages of a perf event array, a power of two
   *  (default 64). Two readers of one ring buffer share its records. */
  events(map: string, options: { perfPages?: number } = {}): RawEvents {
    const ev = new RawEvents(this.#native.events(map, options.perfPages ?? 0), map, (e) => this.#events.delete(e));
    this.#events.add(ev);
    return ev;
  }

  /** Detaches every program, closes every reader (their iterators and
   *  subscriptions end), unloads, and detaches every section view.
   *  Idempotent. */
  destroy(): void {
    if (this.#native.state() === 'destroyed') return;
    for (const ev of [...this.#events]) ev.close();
    this.#events.clear();
    for (const l of this.#links) l.forget();
    this.#links.clear();
    this.#native.destroy();
    // the native side detached the views over the object's memory; the
    // copies of frozen sections (.rodata after load) are detached here, so
    // that every view throws after destroy, as the others do
    for (const view of this.#sections.values()) {
      if (view instanceof ReadOnlyDataView && view.buffer.byteLength !== 0) structuredClone(view.buffer, { transfer: [view.buffer] });
    }
    this.#sections.clear();
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
}

/** An explicit attachment; detach() (or the object's destroy()) removes it. */
export class Link implements Disposable {
  readonly #owner: BpfObject;
  readonly #native: NativeObject;
  readonly #id: number;
  /** what is attached where, for messages */
  readonly description: string;
  #attached = true;

  /** @internal made by BpfObject.attach*() */
  constructor(owner: BpfObject, nativeObject: NativeObject, id: number, description: string) {
    this.#owner = owner;
    this.#native = nativeObject;
    this.#id = id;
    this.description = description;
  }

  get attached(): boolean {
    return this.#attached;
  }

  /** Detaches the program. Idempotent; a no-op after the object's destroy(). */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#owner.forgetLink(this);
    this.#native.detach(this.#id);
  }

  /** @internal the object was destroyed, which released the link */
  forget(): void {
    this.#attached = false;
  }

  [Symbol.dispose](): void {
    this.detach();
  }
}
