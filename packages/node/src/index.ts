// @coolbpf/node: the runtime generated TypeScript packages use to load a
// bpf.so and work with its object (docs/design/node-runtime-api.md).
export { CoolbpfError, errnoName } from './errors.js';
export { codecs, makeCodecs, hostLittleEndian, type Codec, type Codecs } from './codecs.js';
export {
  loadLibrary, Library, BpfObject, Link, type Expected, type OpenOptions, type UprobeTarget, type KprobeTarget,
} from './object.js';
export { RawMap, TypedMap, PerCpuMap, BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, type MapInfo } from './maps.js';
export { RawEvents, TypedEvents, type EventStats, type EventOptions } from './events.js';
export type { ObjectState } from './native.js';

/** The coolbpf ABI version this runtime speaks. */
export const ABI_VERSION = 1;
