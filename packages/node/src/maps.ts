// Maps: RawMap (bytes in, bytes out, one N-API call per operation) and the
// typed views generated code makes of it.
import { checkByteOrder, type Codec } from './codecs.js';
import { CoolbpfError } from './errors.js';
import type { NativeMap, NativeMapInfo } from './native.js';

export interface MapInfo {
  /** BPF_MAP_TYPE_* */
  type: number;
  keySize: number;
  /** one value (one CPU's, for per-CPU maps) */
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** -1 before load */
  fd: number;
  perCpu: boolean;
  /** bytes of the value buffer lookup/update take: valueSize, or for per-CPU
   *  maps valueSize rounded up to 8, times the possible CPUs */
  valueBufferSize: number;
}

/** update() flags */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** A map with raw bytes; TypedMap wraps it with codecs. Operations need the
 *  object loaded ('ESTATE' before, 'EDESTROYED' after destroy). */
export class RawMap {
  readonly name: string;
  readonly #native: NativeMap;

  /** @internal made by BpfObject.map() */
  constructor(nativeMap: NativeMap, name: string) {
    this.#native = nativeMap;
    this.name = name;
  }

  info(): MapInfo {
    return this.#native.info();
  }

  /** The map's fd (after load); it stays owned by the object. */
  fd(): number {
    return this.#native.fd();
  }

  /** Copies the value of `key` into `out` (exactly valueBufferSize bytes); false: no such key. */
  lookup(key: Uint8Array, out: Uint8Array, flags: number = 0): boolean {
    return this.#native.lookup(key, out, flags);
  }

  /** flags: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2, BPF_F_LOCK 4 */
  update(key: Uint8Array, value: Uint8Array, flags: number = 0): void {
    this.#native.update(key, value, flags);
  }

  /** false: no such key */
  delete(key: Uint8Array): boolean {
    return this.#native.delete(key);
  }

  /** The key after `key` (null: the first) into `out`; false: no more. */
  nextKey(key: Uint8Array | null, out: Uint8Array): boolean {
    return this.#native.nextKey(key, out);
  }

  /**
   * BPF_MAP_LOOKUP_BATCH: up to `count` entries after `cursor` (null: from
   * the start) into keys (count × keySize bytes) and values (count ×
   * valueBufferSize); nextCursor (max(keySize, 8) bytes) receives the cursor
   * for the next call. done: this was the last batch. null when the kernel
   * or the map type has no batch operations. A hash bucket larger than
   * `count` throws 'ENOSPC' (call again with a larger count).
   */
  lookupBatch(cursor: Uint8Array | null, nextCursor: Uint8Array, keys: Uint8Array, values: Uint8Array,
    count: number): { count: number; done: boolean } | null {
    const r = this.#native.lookupBatch(cursor, nextCursor, keys, values, count);
    if (r < 0) return null;
    return { count: Math.floor(r / 2), done: (r & 1) === 1 };
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

/** A latin1 string of a key's bytes, for the set of keys seen. */
function keyString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

/**
 * Walks a map's entries: batch lookup where the kernel has it for the map
 * type, next_key (plus a lookup for the value) otherwise.
 *
 * Semantics while the map changes (by BPF programs, or by the loop's own
 * set/delete):
 * - never loops forever, and yields no key twice;
 * - an entry present for the whole walk and not deleted is yielded once;
 *   entries added or deleted during the walk may or may not be;
 * - batch lookup reads up to `batch` entries at a time: their values are
 *   as of that read (snapshot per batch); with next_key each value is read
 *   when its key is reached;
 * - deleting the entry just yielded (the usual "drain" loop) is safe in both
 *   modes: next_key reads the following key before yielding.
 */
class Cursor {
  keyView: DataView;
  keyOffset = 0;
  valueView: DataView;
  valueOffset = 0;

  readonly #raw: RawMap;
  readonly #info: NativeMapInfo;
  readonly #values: boolean;
  #mode: 'batch' | 'next' | 'done' = 'batch';
  // batch mode
  #count: number;
  #keys: Uint8Array;
  #vals: Uint8Array;
  #kv: DataView;
  #vv: DataView;
  #cursorIn: Uint8Array;
  #cursorOut: Uint8Array;
  #started = false;
  #last = false;
  #n = 0;
  #i = 0;
  // next_key mode
  #k: [Uint8Array, Uint8Array] | null = null;
  #kViews: [DataView, DataView] | null = null;
  #cur = 0;
  #hasPending = false;
  #seen = new Set<string>();
  #steps = 0;

  constructor(raw: RawMap, info: NativeMapInfo, values: boolean) {
    this.#raw = raw;
    this.#info = info;
    this.#values = values;
    this.#count = Math.max(1, Math.min(info.maxEntries || 1, 256));
    this.#keys = new Uint8Array(this.#count * info.keySize || 1);
    this.#vals = new Uint8Array(this.#count * info.valueBufferSize || 1);
    this.#kv = new DataView(this.#keys.buffer);
    this.#vv = new DataView(this.#vals.buffer);
    const cs = Math.max(info.keySize, 8);
    this.#cursorIn = new Uint8Array(cs);
    this.#cursorOut = new Uint8Array(cs);
    this.keyView = this.#kv;
    this.valueView = this.#vv;
  }

  /** Advances; true when keyView/keyOffset (and valueView/valueOffset) hold the next entry. */
  next(): boolean {
    for (;;) {
      if (this.#mode === 'batch') {
        if (this.#i < this.#n) {
          const i = this.#i++;
          this.keyOffset = i * this.#info.keySize;
          this.valueOffset = i * this.#info.valueBufferSize;
          this.keyView = this.#kv;
          this.valueView = this.#vv;
          return true;
        }
        if (this.#last) {
          this.#mode = 'done';
          return false;
        }
        this.#fetchBatch();
        continue;
      }
      if (this.#mode === 'next') return this.#nextKey();
      return false;
    }
  }

  #fetchBatch(): void {
    for (let guard = 0; ; guard++) {
      let r: { count: number; done: boolean } | null;
      try {
        r = this.#raw.lookupBatch(this.#started ? this.#cursorIn : null, this.#cursorOut, this.#keys, this.#vals, this.#count);
      } catch (e) {
        // a hash bucket larger than the batch: retry with room for it
        if (e instanceof CoolbpfError && e.code === 'ENOSPC' && this.#count < Math.max(this.#info.maxEntries, 1) * 2) {
          this.#grow(this.#count * 2);
          continue;
        }
        throw e;
      }
      if (r === null) {
        if (this.#started) throw new CoolbpfError(`map '${this.#raw.name}': batch lookup stopped working mid-walk`, 'EOPNOTSUPP', 95);
        this.#startNextKey();
        return;
      }
      this.#started = true;
      [this.#cursorIn, this.#cursorOut] = [this.#cursorOut, this.#cursorIn];
      this.#n = r.count;
      this.#i = 0;
      this.#last = r.done;
      if (r.count > 0 || r.done || guard > 1024) {
        if (r.count === 0 && !r.done) this.#last = true; // the kernel made no progress: stop rather than spin
        return;
      }
    }
  }

  #grow(count: number): void {
    this.#count = count;
    this.#keys = new Uint8Array(count * this.#info.keySize || 1);
    this.#vals = new Uint8Array(count * this.#info.valueBufferSize || 1);
    this.#kv = new DataView(this.#keys.buffer);
    this.#vv = new DataView(this.#vals.buffer);
  }

  #startNextKey(): void {
    this.#mode = 'next';
    const ks = this.#info.keySize || 1;
    const a = new Uint8Array(ks), b = new Uint8Array(ks);
    this.#k = [a, b];
    this.#kViews = [new DataView(a.buffer), new DataView(b.buffer)];
    this.#cur = 0;
    this.#hasPending = this.#raw.nextKey(null, a);
    this.#vals = new Uint8Array(this.#info.valueBufferSize || 1);
    this.#vv = new DataView(this.#vals.buffer);
  }

  #nextKey(): boolean {
    const k = this.#k!, views = this.#kViews!;
    // bounded even if the map churns so that next_key keeps restarting
    const limit = 4 * Math.max(this.#info.maxEntries, 1) + 64;
    while (this.#hasPending) {
      if (++this.#steps > limit) break;
      const cur = this.#cur, key = k[cur]!;
      // read the following key first, so deleting this one does not lose our place
      const other = 1 - cur;
      this.#hasPending = this.#raw.nextKey(key, k[other]!);
      this.#cur = other;
      const id = keyString(key);
      if (this.#seen.has(id)) continue;
      if (this.#values && !this.#raw.lookup(key, this.#vals)) continue; // deleted meanwhile
      this.#seen.add(id);
      this.keyView = views[cur]!;
      this.keyOffset = 0;
      this.valueView = this.#vv;
      this.valueOffset = 0;
      return true;
    }
    this.#mode = 'done';
    this.#seen.clear();
    return false;
  }
}

/** Shared by TypedMap and PerCpuMap: keys through a codec, values through `VV`. */
abstract class KeyedMap<K, VV> implements Iterable<[K, VV]> {
  protected readonly raw: RawMap;
  protected readonly mapInfo: NativeMapInfo;
  protected readonly keyCodec: Codec<K>;
  readonly #kb: Uint8Array;
  readonly #kv: DataView;
  protected readonly vb: Uint8Array;
  protected readonly vv: DataView;

  constructor(raw: RawMap, key: Codec<K>, valueSize: number, littleEndian: boolean, perCpu: boolean, kind: string) {
    checkByteOrder(littleEndian, `${kind} '${raw.name}'`);
    const info = raw.info();
    if (info.perCpu !== perCpu)
      throw new CoolbpfError(`${kind} '${raw.name}': it is ${info.perCpu ? 'a per-CPU map: use PerCpuMap' : 'not a per-CPU map: use TypedMap'}`,
        'EMISMATCH', 0);
    if (key.size !== info.keySize)
      throw new CoolbpfError(`${kind} '${raw.name}': the key type is ${key.size} bytes, the map's keys are ${info.keySize}`, 'EMISMATCH', 0);
    if (valueSize !== info.valueSize)
      throw new CoolbpfError(`${kind} '${raw.name}': the value type is ${valueSize} bytes, the map's values are ${info.valueSize}`,
        'EMISMATCH', 0);
    this.raw = raw;
    this.mapInfo = info;
    this.keyCodec = key;
    this.#kb = new Uint8Array(Math.max(info.keySize, 1));
    this.#kv = new DataView(this.#kb.buffer);
    this.vb = new Uint8Array(Math.max(info.valueBufferSize, 1));
    this.vv = new DataView(this.vb.buffer);
  }

  /** The map's type, sizes, flags and fd, as the kernel has them. */
  info(): MapInfo {
    return this.raw.info();
  }

  protected abstract decodeValue(view: DataView, offset: number): VV;
  protected abstract encodeValue(value: VV): void;

  protected key(k: K): Uint8Array {
    // zeroed first: hash maps compare whole keys, padding included
    this.#kb.fill(0);
    this.keyCodec.encode(this.#kv, 0, k);
    return this.#kb;
  }

  /** The value of `key`, or undefined when there is no such key. */
  get(key: K, flags: number = 0): VV | undefined {
    return this.raw.lookup(this.key(key), this.vb, flags) ? this.decodeValue(this.vv, 0) : undefined;
  }

  /** flags: BPF_ANY 0 (default), BPF_NOEXIST 1, BPF_EXIST 2, BPF_F_LOCK 4 */
  set(key: K, value: VV, flags: number = 0): void {
    const kb = this.key(key);
    this.encodeValue(value);
    this.raw.update(kb, this.vb, flags);
  }

  /** false: no such key (array maps cannot delete: 'EINVAL') */
  delete(key: K): boolean {
    return this.raw.delete(this.key(key));
  }

  has(key: K): boolean {
    return this.raw.lookup(this.key(key), this.vb);
  }

  /** Every key (see entries() for what happens while the map changes). */
  *keys(): IterableIterator<K> {
    const c = new Cursor(this.raw, this.mapInfo, false);
    while (c.next()) yield this.keyCodec.decode(c.keyView, c.keyOffset);
  }

  *values(): IterableIterator<VV> {
    const c = new Cursor(this.raw, this.mapInfo, true);
    while (c.next()) yield this.decodeValue(c.valueView, c.valueOffset);
  }

  /**
   * Every entry: batch lookup (256 entries per system call) where the kernel
   * has it for this map type, next_key + lookup otherwise. While the map
   * changes: no key is yielded twice and the walk always ends; entries
   * present throughout are yielded once, entries added or deleted meanwhile
   * may or may not be; deleting the entry just yielded is safe.
   */
  *entries(): IterableIterator<[K, VV]> {
    const c = new Cursor(this.raw, this.mapInfo, true);
    while (c.next()) yield [this.keyCodec.decode(c.keyView, c.keyOffset), this.decodeValue(c.valueView, c.valueOffset)];
  }

  [Symbol.iterator](): IterableIterator<[K, VV]> {
    return this.entries();
  }
}

/** Typed view of a map: generated code makes one per map. */
export class TypedMap<K, V> extends KeyedMap<K, V> {
  readonly #value: Codec<V>;

  constructor(raw: RawMap, key: Codec<K>, value: Codec<V>, littleEndian: boolean) {
    super(raw, key, value.size, littleEndian, false, 'TypedMap');
    this.#value = value;
  }

  protected decodeValue(view: DataView, offset: number): V {
    return this.#value.decode(view, offset);
  }

  protected encodeValue(value: V): void {
    this.vb.fill(0);
    this.#value.encode(this.vv, 0, value);
  }
}

/** Per-CPU maps: values are one per possible CPU (index = CPU number). */
export class PerCpuMap<K, V> extends KeyedMap<K, V[]> {
  readonly #value: Codec<V>;
  readonly #slot: number;
  /** possible CPUs: the length of every value array */
  readonly cpus: number;

  constructor(raw: RawMap, key: Codec<K>, value: Codec<V>, littleEndian: boolean) {
    super(raw, key, value.size, littleEndian, true, 'PerCpuMap');
    this.#value = value;
    this.#slot = align8(value.size);
    this.cpus = this.mapInfo.valueBufferSize / this.#slot;
  }

  protected decodeValue(view: DataView, offset: number): V[] {
    const out = new Array<V>(this.cpus);
    for (let i = 0; i < this.cpus; i++) out[i] = this.#value.decode(view, offset + i * this.#slot);
    return out;
  }

  /** values: exactly one per possible CPU (RangeError otherwise) */
  protected encodeValue(values: V[]): void {
    if (!Array.isArray(values) || values.length !== this.cpus)
      throw new RangeError(`PerCpuMap '${this.raw.name}': expected an array of ${this.cpus} values (one per possible CPU), got ${
        Array.isArray(values) ? values.length : typeof values}`);
    this.vb.fill(0);
    for (let i = 0; i < this.cpus; i++) this.#value.encode(this.vv, i * this.#slot, values[i] as V);
  }
}
