/** The objects the tests generate for (every fixture, each byte order, and examples/hello), and generated packages laid out as the CLI lays them out. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fixtureNames, fixturePath, type Endian } from '@coolbpf/fixtures';
import { buildModel, type ObjectModel } from '@coolbpf/model';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { goRuntimeFiles } from './environment.js';
import { repoRoot } from './gotool.testutil.js';
import { generateGo } from './index.js';
import { buildView, type GoView } from './view.js';

export { repoRoot };

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

export function fixtureCase(name: string, endian: Endian = 'bpfel'): Case {
  return { name, file: fixturePath(name, endian), events: EVENTS[name] ?? {} };
}

const HELLO_DIR = join(repoRoot, 'examples', 'hello');
const HELLO = join(HELLO_DIR, 'build', 'hello.bpf.o');

/** examples/hello, built if it is not (needs clang, bpftool and the kernel's BTF); null with the reason when it cannot be. */
export function helloCase(): { case: Case | null; why: string | null } {
  if (!existsSync(HELLO)) {
    try {
      execFileSync('make', ['-s', '-C', HELLO_DIR], { stdio: 'pipe' });
    } catch (e) {
      return { case: null, why: `examples/hello could not be built (${String((e as Error).message).split('\n')[0]})` };
    }
  }
  return { case: { name: 'hello', file: HELLO, events: EVENTS.hello! }, why: null };
}

export const FIXTURES: readonly string[] = fixtureNames;

export function modelOf(c: Case): ObjectModel {
  return buildModel(readFileSync(c.file), { events: c.events });
}

export function options(c: Case, golden = false, model = modelOf(c)) {
  return { objectName: c.name, objectFile: `${c.name}.bpf.o`, sha256: golden ? GOLDEN.sha256 : model.object.sha256, version: GOLDEN.version };
}

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; view: GoView } {
  const model = modelOf(c);
  const o = options(c, golden, model);
  return { model, files: generateGo(model, o), view: buildView(model, o, ABI_VERSION) };
}

/**
 * Writes a generated package to `dir` as the CLI lays it out (DIR/go/…):
 * the generated files, the runtime in coolbpf/, and a bpf.so (`so`, or an
 * empty stand-in: enough to build, and to use the types without loading).
 */
export function materialize(dir: string, files: ReadonlyMap<string, string>, so?: string): string {
  const pkg = join(dir, 'go');
  for (const [p, text] of files) {
    mkdirSync(dirname(join(pkg, p)), { recursive: true });
    writeFileSync(join(pkg, p), text);
  }
  for (const f of goRuntimeFiles()) {
    mkdirSync(dirname(join(pkg, f.to)), { recursive: true });
    copyFileSync(f.from, join(pkg, f.to));
  }
  if (so) copyFileSync(so, join(pkg, 'bpf.so'));
  else writeFileSync(join(pkg, 'bpf.so'), '');
  return pkg;
}
