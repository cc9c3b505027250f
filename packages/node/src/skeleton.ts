// The plumbing of a generated package's object classes: its maps (typed
// views made from a table generated code writes), the opened and loaded
// classes' common part, and open()/init() (finding and checking bpf.so,
// applying the options' initial values). The generated classes add only
// what is the object's own: its sections, maps and programs, typed.
import { fileURLToPath } from 'node:url';
import type { Codec } from './codecs.js';
import { TypedEvents, type RawEvents } from './events.js';
import { PerCpuMap, TypedMap, type RawMap } from './maps.js';
import type { ObjectState } from './native.js';
import { loadLibrary, type BpfObject, type Expected, type Library, type OpenOptions } from './object.js';

// ---- maps ---------------------------------------------------------------------

/** What kind of event map a map is: its reader is opened when the object is loaded. */
export type EventMapKind = 'ringbuf' | 'perf_event_array';

/** One map of an object: its name, and how to make its typed view. */
export interface MapSpec<M> {
  readonly name: string;
  /** an event map, or null */
  readonly events: EventMapKind | null;
  /** made when the object is loaded (event readers), else on first use */
  readonly eager: boolean;
  make(object: BpfObject, littleEndian: boolean, perfPages: number | undefined): M;
}

/** Generated code's table of maps: one spec per property of the maps type. */
export type MapTable<M> = { readonly [K in keyof M]: MapSpec<M[K]> };

const mapSpec = <M>(name: string, events: EventMapKind | null, eager: boolean, make: MapSpec<M>['make']): MapSpec<M> =>
  Object.freeze({ name, events, eager, make });

/** A hash, array, LRU, LPM trie… map with typed keys and values. */
export function typedMap<K, V>(name: string, key: Codec<K>, value: Codec<V>): MapSpec<TypedMap<K, V>> {
  return mapSpec(name, null, false, (o, le) => new TypedMap(o.map(name), key, value, le));
}

/** A per-CPU map: values are one per possible CPU. */
export function perCpuMap<K, V>(name: string, key: Codec<K>, value: Codec<V>): MapSpec<PerCpuMap<K, V>> {
  return mapSpec(name, null, false, (o, le) => new PerCpuMap(o.map(name), key, value, le));
}

/** A map with no typed view (keyless maps, user ring buffers, struct_ops). */
export function rawMap(name: string): MapSpec<RawMap> {
  return mapSpec(name, null, false, (o) => o.map(name));
}

/** A ring buffer or perf event array whose record type is known: its reader is opened at load. */
export function eventMap<T>(name: string, kind: EventMapKind, codec: Codec<T>): MapSpec<TypedEvents<T>> {
  return mapSpec(name, kind, true, (o, le, perfPages) => new TypedEvents(o.events(name, perfPages === undefined ? {} : { perfPages }), codec, le));
}

/**
 * A ring buffer or perf event array whose records are raw bytes. A ring
 * buffer's reader is opened at load; a perf event array's on first use: with
 * no record type declared it may hold perf event fds for counters
 * (bpf_perf_event_read_value) rather than carry events, and a reader would
 * replace them.
 */
export function rawEventMap(name: string, kind: EventMapKind): MapSpec<RawEvents> {
  return mapSpec(name, kind, kind === 'ringbuf', (o, _le, perfPages) => o.events(name, perfPages === undefined ? {} : { perfPages }));
}

/** Pages per CPU must be a power of two (what the kernel maps a perf buffer in). */
function checkPerfPages(perfPages: Readonly<Record<string, number | undefined>>): void {
  for (const [k, pages] of Object.entries(perfPages)) {
    if (pages !== undefined && (typeof pages !== 'number' || !Number.isSafeInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0))
      throw new RangeError(`perfPages.${k}: ${String(pages)} is not a power of two (pages per CPU, e.g. 64)`);
  }
}

/**
 * The maps of a loaded object, by the table's property names. Event maps'
 * readers are opened now (see eventMap and rawEventMap), so that nothing
 * BPF sends from the moment its programs are attached is missed (a perf
 * event array has no buffer to send to until its reader exists); they are
 * closed by the object's destroy(). The other maps' typed views are made on
 * first use. perfPages: buffer pages per CPU of perf event arrays, by
 * property name (a power of two; default 64).
 */
export function makeMaps<M>(object: BpfObject, table: MapTable<M>, littleEndian: boolean,
  perfPages: Readonly<Record<string, number | undefined>> = {}): M {
  const specs = Object.entries(table) as [string, MapSpec<unknown>][];
  checkPerfPages(perfPages);
  for (const k of Object.keys(perfPages)) {
    const s = specs.find(([key]) => key === k)?.[1];
    if (s?.events !== 'perf_event_array') {
      const perf = specs.filter(([, x]) => x.events === 'perf_event_array').map(([key]) => key);
      throw new TypeError(`perfPages: '${k}' is not a perf event array (${perf.length ? `those are: ${perf.join(', ')}` : 'the object has none'})`);
    }
  }
  const maps: Record<string, unknown> = {};
  for (const [k, s] of specs) {
    if (s.eager) {
      Object.defineProperty(maps, k, { value: s.make(object, littleEndian, perfPages[k]), enumerable: true });
      continue;
    }
    let made: unknown;
    Object.defineProperty(maps, k, { get: () => (made ??= s.make(object, littleEndian, perfPages[k])), enumerable: true });
  }
  return Object.freeze(maps) as M;
}

// ---- the object classes --------------------------------------------------------

/** What the opened and the loaded classes of a generated package have in common. */
export abstract class Skeleton implements Disposable {
  /** the runtime object underneath */
  readonly object: BpfObject;

  constructor(object: BpfObject) {
    this.object = object;
  }

  /** 'opened', 'loaded', 'attached' or 'destroyed' */
  get state(): ObjectState {
    return this.object.state;
  }

  /** Detaches and unloads everything, closes the event readers; idempotent. */
  destroy(): void {
    this.object.destroy();
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
}

/** An opened object: globals can be set and programs left out, until load(). */
export abstract class OpenedSkeleton<L> extends Skeleton {
  /** Loads every program and creates every map (the verifier runs here), opens the event readers; returns the loaded object's class. */
  load(): L {
    this.object.load();
    return this.$loaded();
  }

  /** the loaded object's class, made once the object is loaded */
  protected abstract $loaded(): L;
}

/** A loaded object (attached too when made by init()). */
export abstract class LoadedSkeleton extends Skeleton {
  /** Attaches every auto-attachable program (the ones whose SEC() names a target). */
  attach(): void {
    this.object.attach();
  }
}

// ---- open() and init() ---------------------------------------------------------

/** What a generated package says about its object. */
export interface ObjectSpec {
  /** the object file, for messages */
  readonly file: string;
  /** what its bpf.so must be: ABI version and the object's SHA-256 */
  readonly expected: Expected;
  /** the bpf.so beside the package */
  readonly bpfSo: URL;
  /** the options (and properties of the opened class) that hold initial values of globals, by section */
  readonly sections: readonly string[];
}

/** The options every generated InitOptions has (it adds one option per section, of its globals). */
export interface SkeletonOptions extends OpenOptions {
  /** bpf.so to load: else $COOLBPF_BPF_SO, else the bpf.so beside the package */
  soPath?: string;
  /** which programs load, by name (SEC("?…") programs only when set here) */
  autoload?: Readonly<Record<string, boolean | undefined>>;
  /** buffer pages per CPU of perf event arrays, by map (a power of two; default 64) */
  perfPages?: Readonly<Record<string, number | undefined>>;
}

const libraries = new Map<string, Library>();

/** bpf.so: options.soPath, else $COOLBPF_BPF_SO, else beside the package; loaded once per path and checked. */
function library(spec: ObjectSpec, soPath: string | undefined): Library {
  const path = soPath ?? (process.env['COOLBPF_BPF_SO'] || undefined) ?? fileURLToPath(spec.bpfSo);
  const key = `${spec.expected.sha256}\0${path}`;
  let lib = libraries.get(key);
  if (lib === undefined) {
    lib = loadLibrary(path, spec.expected);
    libraries.set(key, lib);
  }
  return lib;
}

/** A writable global of a section object: a setter on its prototype. */
function isGlobal(section: object, key: string): boolean {
  return typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(section), key)?.set === 'function';
}

/**
 * Opens the object (nothing is in the kernel yet), makes the generated
 * opened class and applies the options: initial values of globals, section
 * by section, and autoload. A global or program the object does not have is
 * a TypeError. On failure the object is destroyed.
 */
export function openSkeleton<O extends OpenedSkeleton<unknown>>(spec: ObjectSpec, options: SkeletonOptions,
  make: (object: BpfObject) => O): O {
  checkPerfPages(options.perfPages ?? {}); // before anything is loaded
  const openOptions: OpenOptions = {};
  if (options.btfPath !== undefined) openOptions.btfPath = options.btfPath;
  if (options.logLevel !== undefined) openOptions.logLevel = options.logLevel;
  if (options.logFd !== undefined) openOptions.logFd = options.logFd;
  const object = library(spec, options.soPath).open(openOptions);
  try {
    const opened = make(object);
    const props = opened as unknown as Record<string, Record<string, unknown>>;
    for (const s of spec.sections) {
      const values = (options as Record<string, unknown>)[s];
      if (values === undefined) continue;
      const target = props[s]!;
      for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
        if (v === undefined) continue;
        if (!isGlobal(target, k)) throw new TypeError(`${spec.file}: options.${s} sets '${k}', which is not one of its globals`);
        target[k] = v;
      }
    }
    const programs = props['programs']!;
    for (const [k, on] of Object.entries(options.autoload ?? {})) {
      if (on === undefined) continue;
      const p = Object.hasOwn(programs, k) ? (programs[k] as { autoload: boolean }) : undefined;
      if (p === undefined) throw new TypeError(`${spec.file}: options.autoload names '${k}', which is not one of its programs`);
      p.autoload = on;
    }
    return opened;
  } catch (e) {
    object.destroy();
    throw e;
  }
}

/** opened.load() + attach(): on failure the object is destroyed, nothing stays loaded. */
export function initSkeleton<L extends LoadedSkeleton>(opened: OpenedSkeleton<L>): L {
  try {
    const loaded = opened.load();
    loaded.attach();
    return loaded;
  } catch (e) {
    opened.destroy();
    throw e;
  }
}
