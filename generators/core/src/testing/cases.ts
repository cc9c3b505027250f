/** The objects every generator's tests generate for: every fixture of @coolbpf/fixtures (each byte order) and examples/hello. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureNames, fixturePath, type Endian } from '@coolbpf/fixtures';
import { buildModel, type ObjectModel } from '@coolbpf/model';

/** The repository's root (this file is generators/core/{src,dist}/testing/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** What golden files are generated with: a fixed version and hash, so they do not change with the object's bytes. */
export const GOLDEN = { version: '0.1.0', sha256: 'c001bbf0'.repeat(8) } as const;

export interface Case {
  readonly name: string;
  readonly file: string;
  readonly events: Readonly<Record<string, string>>;
}

/** Ring buffer record types that are only named on the command line (as the model's tests do). */
const EVENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  events: { events: 'struct event', perf_events: 'struct exit_event' },
  hello: { events: 'struct event' },
};

export const FIXTURES: readonly string[] = fixtureNames;

export function fixtureCase(name: string, endian: Endian = 'bpfel'): Case {
  return { name, file: fixturePath(name, endian), events: EVENTS[name] ?? {} };
}

const HELLO_DIR = join(repoRoot, 'examples', 'hello');
const HELLO = join(HELLO_DIR, 'build', 'hello.bpf.o');

/** examples/hello, brought up to date by its Makefile (an object left from an
 * older hello.bpf.c must not stand in); null with the reason when it cannot be
 * built (needs clang, bpftool and the kernel's BTF). */
export function helloCase(): { case: Case | null; why: string | null } {
  try {
    execFileSync('make', ['-s', '-C', HELLO_DIR], { stdio: 'pipe' });
  } catch (e) {
    return { case: null, why: `examples/hello could not be built (${String((e as Error).message).split('\n')[0]})` };
  }
  return { case: { name: 'hello', file: HELLO, events: EVENTS.hello! }, why: null };
}

export function modelOf(c: Case): ObjectModel {
  return buildModel(readFileSync(c.file), { events: c.events });
}

/** The generator options for a case: golden ones (fixed hash and version) or the object's own hash. */
export function optionsOf(c: Case, model: ObjectModel, golden = false) {
  return { objectName: c.name, objectFile: `${c.name}.bpf.o`, sha256: golden ? GOLDEN.sha256 : model.object.sha256, version: GOLDEN.version };
}

/** Whether a command is on PATH. */
export function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
