/** The objects the tests generate for (every fixture, examples/hello), and running Python on the results. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureNames, fixturePath, type Endian } from '@coolbpf/fixtures';
import { buildModel, type ObjectModel } from '@coolbpf/model';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { generatePython, runtimeSources } from './index.js';
import { buildView } from './view.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; typeNames: ReadonlyMap<string, string>; module: string } {
  const model = modelOf(c);
  const options = { objectName: c.name, objectFile: `${c.name}.bpf.o`, sha256: golden ? GOLDEN.sha256 : model.object.sha256, version: GOLDEN.version };
  const files = generatePython(model, options);
  const view = buildView(model, options, ABI_VERSION);
  return { model, files, typeNames: view.typeNames, module: view.pkg.module };
}

/** Writes a generated package to `dir` as the CLI lays it out (DIR/python/…, the runtime in <module>/_coolbpf/); returns DIR/python. */
export function materialize(dir: string, files: ReadonlyMap<string, string>): string {
  const pkg = join(dir, 'python');
  for (const [p, text] of files) {
    mkdirSync(dirname(join(pkg, p)), { recursive: true });
    writeFileSync(join(pkg, p), text);
  }
  const init = [...files.keys()].find((k) => /^[^/]+\/__init__\.py$/.test(k))!;
  const runtime = join(pkg, dirname(init), '_coolbpf');
  mkdirSync(runtime, { recursive: true });
  for (const [name, text] of runtimeSources()) writeFileSync(join(runtime, name), text);
  return pkg;
}

/** The Python with mypy and pytest (scripts/setup.sh makes bindings-python/.venv; $COOLBPF_PYTHON overrides), or why there is none. */
export function pythonTools(): { python: string | null; why: string | null } {
  const python = process.env.COOLBPF_PYTHON ?? join(repoRoot, 'bindings-python', '.venv', 'bin', 'python');
  if (!existsSync(python)) return { python: null, why: `no ${python} (scripts/setup.sh makes it: a venv with mypy and pytest)` };
  const r = spawnSync(python, ['-c', 'import mypy, pytest'], { encoding: 'utf8' });
  if (r.status !== 0) return { python: null, why: `${python} has no mypy or pytest (${r.stderr.trim().split('\n').pop()})` };
  return { python, why: null };
}

/** Runs a Python script with `cwd` on sys.path; stdout, or throws with stderr. */
export function runPython(python: string, cwd: string, script: string, args: readonly string[] = []): string {
  const r = spawnSync(python, ['-c', script, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, PYTHONPATH: cwd, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`python failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
