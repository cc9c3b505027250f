// The native addon (native/addon.cc), loaded on first use, and its shapes.
// Nothing outside this package uses these types.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CoolbpfError } from './errors.js';

export type ObjectState = 'opened' | 'loaded' | 'attached' | 'destroyed';

export interface NativeMapInfo {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  fd: number;
  perCpu: boolean;
  valueBufferSize: number;
}

export interface NativeMap {
  info(): NativeMapInfo;
  fd(): number;
  lookup(key: Uint8Array, out: Uint8Array, flags?: number | bigint): boolean;
  update(key: Uint8Array, value: Uint8Array, flags?: number | bigint): void;
  delete(key: Uint8Array): boolean;
  nextKey(key: Uint8Array | null, out: Uint8Array): boolean;
  /** -1 when unsupported, else count * 2 + (done ? 1 : 0) */
  lookupBatch(cursor: Uint8Array | null, next: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number): number;
}

export interface NativeEvents {
  read(buf: Uint8Array): number;
  stats(): [bigint, bigint];
  fd(): number;
  watch(callback: (status: number) => void): void;
  unwatch(): void;
  close(): void;
}

export interface NativeObject {
  state(): ObjectState;
  setInitial(section: string, offset: number, bytes: Uint8Array): void;
  setAutoload(program: string, on: boolean): void;
  load(): void;
  attach(): void;
  attachUprobe(program: string, binary: string, symbol: string | null, offset: number | bigint, pid: number, retprobe: boolean): number;
  attachKprobe(program: string, fn: string, offset: number | bigint, retprobe: boolean): number;
  attachTracepoint(program: string, category: string, name: string): number;
  attachRawTracepoint(program: string, name: string): number;
  attachXdp(program: string, ifindex: number, flags: number): number;
  attachTc(program: string, ifindex: number, egress: boolean): number;
  attachCgroup(program: string, cgroupPath: string): number;
  attachPerfEvent(program: string, perfEventFd: number): number;
  detach(linkId: number): void;
  /** the section's ArrayBuffer, and whether it is a read-only copy */
  section(name: string): [ArrayBuffer, boolean];
  map(name: string): NativeMap;
  events(map: string, perfPages: number): NativeEvents;
  destroy(): void;
}

export interface NativeLibrary {
  abiVersion(): number;
  objectSha256(): string;
  possibleCpus(): number;
  open(btfPath: string | undefined, logLevel: number, logFd: number | undefined): NativeObject;
}

export interface NativeAddon {
  Library: new (path: string) => NativeLibrary;
  setErrorClass(cls: typeof CoolbpfError): void;
  /** the ABI version this addon was built against */
  abiVersion: number;
}

/** Where the addon may be: beside this file (a generated package's runtime/
 *  copy), or in the package's node-gyp build directory. */
const CANDIDATES = ['./coolbpf_node.node', '../build/Release/coolbpf_node.node'];

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    tried.push(path);
    if (!existsSync(path)) continue;
    const a = require(path) as NativeAddon;
    a.setErrorClass(CoolbpfError);
    addon = a;
    return a;
  }
  throw new CoolbpfError(
    `@coolbpf/node: the native addon is not built (looked for ${tried.join(', ')}); run \`npm run build\` in packages/node`,
    'ENOENT', 2);
}
