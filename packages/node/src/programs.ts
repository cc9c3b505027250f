// The programs of an object as generated code exposes them: one class per
// attach family, with attach() where SEC() names the target and the typed
// attach call of the family. Generated code describes its programs with the
// spec functions at the end (a table), and the skeleton makes them.
import type { BpfObject, Link } from './object.js';

/** A loaded program. Programs whose family has no attach call of their own are attached by the object's attach(). */
export class Program {
  /** the runtime object, for subclasses */
  protected readonly $object: BpfObject;
  /** the C function name */
  readonly name: string;
  /** its SEC() name */
  readonly section: string;

  constructor(object: BpfObject, name: string, section: string) {
    this.$object = object;
    this.name = name;
    this.section = section;
  }

  protected $noTarget(call: string): never {
    throw new TypeError(`program '${this.name}': SEC("${this.section}") names no target to attach to; use ${call}`);
  }
}

/** Before load: whether the program is loaded at all (SEC("?…") programs are not, unless set). */
export class ProgramSetup {
  readonly #object: BpfObject;
  #autoload: boolean;
  readonly name: string;
  readonly section: string;

  constructor(object: BpfObject, name: string, section: string, autoload: boolean = !section.startsWith('?')) {
    this.#object = object;
    this.name = name;
    this.section = section;
    this.#autoload = autoload;
  }

  get autoload(): boolean {
    return this.#autoload;
  }

  set autoload(on: boolean) {
    this.#object.setAutoload(this.name, on);
    this.#autoload = on;
  }
}

/** tp/… and tracepoint/… programs. */
export class TracepointProgram extends Program {
  readonly #target: readonly [string, string] | null;

  constructor(object: BpfObject, name: string, section: string, target: readonly [string, string] | null) {
    super(object, name, section);
    this.#target = target;
  }

  /** Attaches to the tracepoint SEC() names. */
  attach(): Link {
    if (!this.#target) return this.$noTarget('attachTracepoint(category, name)');
    return this.$object.attachTracepoint(this.name, this.#target[0], this.#target[1]);
  }

  attachTracepoint(category: string, name: string): Link {
    return this.$object.attachTracepoint(this.name, category, name);
  }
}

/** raw_tp/… and raw_tracepoint/… programs. */
export class RawTracepointProgram extends Program {
  readonly #target: string | null;

  constructor(object: BpfObject, name: string, section: string, target: string | null) {
    super(object, name, section);
    this.#target = target;
  }

  /** Attaches to the raw tracepoint SEC() names. */
  attach(): Link {
    if (this.#target === null) return this.$noTarget('attachRawTracepoint(name)');
    return this.$object.attachRawTracepoint(this.name, this.#target);
  }

  attachRawTracepoint(name: string): Link {
    return this.$object.attachRawTracepoint(this.name, name);
  }
}

/** A kernel function SEC() names: kprobe/do_sys_open+8. */
export interface KprobeSectionTarget {
  readonly function: string;
  readonly offset: number;
}

/** kprobe/… and kretprobe/… programs (the section decides which). */
export class KprobeProgram extends Program {
  readonly #target: KprobeSectionTarget | null;
  /** a kretprobe: runs when the function returns */
  readonly retprobe: boolean;

  constructor(object: BpfObject, name: string, section: string, retprobe: boolean, target: KprobeSectionTarget | null) {
    super(object, name, section);
    this.retprobe = retprobe;
    this.#target = target;
  }

  /** Attaches to the kernel function SEC() names. */
  attach(): Link {
    if (!this.#target) return this.$noTarget('attachKprobe({ function })');
    return this.attachKprobe(this.#target);
  }

  attachKprobe(target: { function: string; offset?: number | bigint }): Link {
    const t: { function: string; offset?: number | bigint; retprobe: boolean } = { function: target.function, retprobe: this.retprobe };
    if (target.offset !== undefined) t.offset = target.offset;
    return this.$object.attachKprobe(this.name, t);
  }
}

/** A binary and function SEC() names: uprobe//bin/bash:readline. */
export interface UprobeSectionTarget {
  readonly binary: string;
  readonly function: string | null;
  readonly offset: number;
}

/** uprobe/… and uretprobe/… programs (the section decides which). */
export class UprobeProgram extends Program {
  readonly #target: UprobeSectionTarget | null;
  /** a uretprobe: runs when the function returns */
  readonly retprobe: boolean;

  constructor(object: BpfObject, name: string, section: string, retprobe: boolean, target: UprobeSectionTarget | null) {
    super(object, name, section);
    this.retprobe = retprobe;
    this.#target = target;
  }

  /** Attaches to the binary and function SEC() names. */
  attach(): Link {
    const t = this.#target;
    if (!t) return this.$noTarget('attachUprobe({ binary, symbol })');
    const target: { binary: string; symbol?: string; offset?: number } = { binary: t.binary };
    if (t.function !== null) target.symbol = t.function;
    if (t.offset !== 0) target.offset = t.offset;
    return this.attachUprobe(target);
  }

  attachUprobe(target: { binary: string; symbol?: string; offset?: number | bigint; pid?: number }): Link {
    const t: { binary: string; symbol?: string; offset?: number | bigint; pid?: number; retprobe: boolean } = { binary: target.binary, retprobe: this.retprobe };
    if (target.symbol !== undefined) t.symbol = target.symbol;
    if (target.offset !== undefined) t.offset = target.offset;
    if (target.pid !== undefined) t.pid = target.pid;
    return this.$object.attachUprobe(this.name, t);
  }
}

/** xdp programs: attached to a network interface. */
export class XdpProgram extends Program {
  attachXdp(ifindex: number, flags?: number): Link {
    return flags === undefined ? this.$object.attachXdp(this.name, ifindex) : this.$object.attachXdp(this.name, ifindex, flags);
  }
}

/** tc, tcx and classifier programs: attached to a network interface, ingress or egress. */
export class TcProgram extends Program {
  /** the direction SEC() names (tc/ingress, tcx/egress, …), or null */
  readonly direction: 'ingress' | 'egress' | null;

  constructor(object: BpfObject, name: string, section: string, direction: 'ingress' | 'egress' | null) {
    super(object, name, section);
    this.direction = direction;
  }

  attachTc(ifindex: number, direction?: 'ingress' | 'egress'): Link {
    const d = direction ?? this.direction;
    if (d === null) return this.$noTarget("attachTc(ifindex, 'ingress' | 'egress')");
    return this.$object.attachTc(this.name, ifindex, d);
  }
}

/** cgroup_skb/…, cgroup/…, sockops and lsm_cgroup programs: attached to a cgroup. */
export class CgroupProgram extends Program {
  attachCgroup(cgroupPath: string): Link {
    return this.$object.attachCgroup(this.name, cgroupPath);
  }
}

/** perf_event programs: attached to a perf event the caller opened. */
export class PerfEventProgram extends Program {
  attachPerfEvent(perfEventFd: number): Link {
    return this.$object.attachPerfEvent(this.name, perfEventFd);
  }
}

// ---- the table generated code describes its programs with ------------------------

/** One program of an object: its names, and how to make its class once loaded. */
export interface ProgramSpec<P> {
  readonly name: string;
  readonly section: string;
  make(object: BpfObject): P;
}

/** Generated code's table of programs: one spec per property of the programs type. */
export type ProgramTable<P> = { readonly [K in keyof P]: ProgramSpec<P[K]> };

/** The programs before load: whether each one loads. */
export type ProgramSetups<P> = { readonly [K in keyof P]: ProgramSetup };

const spec = <P>(name: string, section: string, make: (object: BpfObject) => P): ProgramSpec<P> =>
  Object.freeze({ name, section, make });

/** A program attached by the object's attach() (or not attachable). */
export function program(name: string, section: string): ProgramSpec<Program> {
  return spec(name, section, (o) => new Program(o, name, section));
}
export function tracepointProgram(name: string, section: string, target: readonly [string, string] | null): ProgramSpec<TracepointProgram> {
  return spec(name, section, (o) => new TracepointProgram(o, name, section, target));
}
export function rawTracepointProgram(name: string, section: string, target: string | null): ProgramSpec<RawTracepointProgram> {
  return spec(name, section, (o) => new RawTracepointProgram(o, name, section, target));
}
export function kprobeProgram(name: string, section: string, retprobe: boolean, target: KprobeSectionTarget | null): ProgramSpec<KprobeProgram> {
  return spec(name, section, (o) => new KprobeProgram(o, name, section, retprobe, target));
}
export function uprobeProgram(name: string, section: string, retprobe: boolean, target: UprobeSectionTarget | null): ProgramSpec<UprobeProgram> {
  return spec(name, section, (o) => new UprobeProgram(o, name, section, retprobe, target));
}
export function xdpProgram(name: string, section: string): ProgramSpec<XdpProgram> {
  return spec(name, section, (o) => new XdpProgram(o, name, section));
}
export function tcProgram(name: string, section: string, direction: 'ingress' | 'egress' | null): ProgramSpec<TcProgram> {
  return spec(name, section, (o) => new TcProgram(o, name, section, direction));
}
export function cgroupProgram(name: string, section: string): ProgramSpec<CgroupProgram> {
  return spec(name, section, (o) => new CgroupProgram(o, name, section));
}
export function perfEventProgram(name: string, section: string): ProgramSpec<PerfEventProgram> {
  return spec(name, section, (o) => new PerfEventProgram(o, name, section));
}

/** The programs of a loaded object, one per table entry. */
export function makePrograms<P>(object: BpfObject, table: ProgramTable<P>): P {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(table) as [string, ProgramSpec<unknown>][]) out[k] = s.make(object);
  return Object.freeze(out) as P;
}

/** The programs of an opened object: whether each loads (SEC("?…") ones default to no). */
export function programSetups<P>(object: BpfObject, table: ProgramTable<P>): ProgramSetups<P> {
  const out: Record<string, ProgramSetup> = {};
  for (const [k, s] of Object.entries(table) as [string, ProgramSpec<unknown>][]) out[k] = new ProgramSetup(object, s.name, s.section);
  return Object.freeze(out) as ProgramSetups<P>;
}
