import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectModel } from '@coolbpf/model';
import { ToolOutputError } from './errors.js';
import { runTool } from './exec.js';
import { linkArgv, SHARED_OBJECT, SHIM_C, shimCompileArgv } from './link.js';
import type { Runtime } from './runtime.js';
import { shimSource } from './shim.js';
import type { Cc } from './toolchain.js';

export const OBJECT_FILE = 'bpf.o';
export const HEADER_FILE = 'include/coolbpf.h';

export interface SharedObjectInputs {
  readonly version: string;
  /** base name of the source or object, for the shim's header comment */
  readonly from: string;
  readonly name: string;
  readonly model: ObjectModel;
  readonly runtime: Runtime;
  readonly cc: Cc;
  /** a minimal BTF file in scratch to embed (--min-btf), or null */
  readonly minBtfFile: string | null;
}

/**
 * Makes `bpf.so` and `include/coolbpf.h` in `scratch`, which must already
 * hold `bpf.o` (and the minimal BTF, if one is embedded). cc runs inside scratch on relative names, so the outputs
 * are the same whatever directory they are built in.
 */
export function makeSharedObject(scratch: string, i: SharedObjectInputs): string[] {
  writeFileSync(join(scratch, SHIM_C), shimSource({ version: i.version, from: i.from, model: i.model, name: i.name, objectFile: OBJECT_FILE, minBtfFile: i.minBtfFile }));
  cc(i.cc, scratch, shimCompileArgv(scratch), 'compiling the generated shim failed');
  cc(i.cc, scratch, linkArgv(i.runtime), 'linking failed');
  mkdirSync(join(scratch, 'include'), { recursive: true });
  copyFileSync(i.runtime.header, join(scratch, HEADER_FILE));
  return [SHARED_OBJECT, HEADER_FILE];
}

function cc(tool: Cc, cwd: string, args: string[], what: string): void {
  const r = runTool(tool.tool, args, { cwd });
  if (r.status !== 0) {
    const how = r.status === null ? `killed by ${r.signal}` : `${tool.tool.name} exit status ${r.status}`;
    throw new ToolOutputError(`${what} (${how})`, [SHARED_OBJECT], r.stdout + r.stderr);
  }
}
