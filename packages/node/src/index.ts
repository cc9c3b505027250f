// @coolbpf/node: the runtime generated TypeScript packages use to load a
// bpf.so and work with its object (docs/design/node-runtime-api.md).
export { CoolbpfError, errnoName } from './errors.js';
export { codecs, makeCodecs, hostLittleEndian, type Codec, type Codecs } from './codecs.js';
export {
  layout, type Layout, type FieldLayout, type StructCodec, type StructSpec, type Union, type UnionAll, type Alternative,
} from './layout.js';
export {
  loadLibrary, Library, BpfObject, Link, type Expected, type OpenOptions, type UprobeTarget, type KprobeTarget,
} from './object.js';
export { RawMap, TypedMap, PerCpuMap, BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, type MapInfo } from './maps.js';
export { RawEvents, TypedEvents, type EventStats, type EventOptions } from './events.js';
export type { ObjectState } from './native.js';
export { section, type SectionLayout, type SectionVars, type SectionWritable } from './sections.js';
export {
  Program, ProgramSetup, TracepointProgram, RawTracepointProgram, KprobeProgram, UprobeProgram, XdpProgram, TcProgram,
  CgroupProgram, PerfEventProgram, program, tracepointProgram, rawTracepointProgram, kprobeProgram, uprobeProgram, xdpProgram,
  tcProgram, cgroupProgram, perfEventProgram, makePrograms, programSetups, type ProgramSpec, type ProgramTable,
  type ProgramSetups, type KprobeSectionTarget, type UprobeSectionTarget,
} from './programs.js';
export {
  Skeleton, OpenedSkeleton, LoadedSkeleton, typedMap, perCpuMap, rawMap, eventMap, rawEventMap, makeMaps, openSkeleton,
  initSkeleton, type MapSpec, type MapTable, type EventMapKind, type ObjectSpec, type SkeletonOptions,
} from './skeleton.js';

/** The coolbpf ABI version this runtime speaks. */
export const ABI_VERSION = 1;
