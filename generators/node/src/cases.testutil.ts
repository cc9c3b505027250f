/** The objects the tests generate for: every fixture (each byte order) and examples/hello. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixtureNames, fixturePath, type Endian } from '@coolbpf/fixtures';
import { buildModel, type ObjectModel } from '@coolbpf/model';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { generateNode } from './index.js';
import { RUNTIME_DECLARATIONS } from './environment.js';
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

export const FIXTURES: readonly string[] = fixtureNames;

export function modelOf(c: Case): ObjectModel {
  return buildModel(readFileSync(c.file), { events: c.events });
}

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; typeNames: ReadonlyMap<string, string> } {
  const model = modelOf(c);
  const options = {
    objectName: c.name,
    objectFile: `${c.name}.bpf.o`,
    sha256: golden ? GOLDEN.sha256 : model.object.sha256,
    version: GOLDEN.version,
  };
  const files = generateNode(model, options);
  const { typeNames } = buildView(model, options, ABI_VERSION);
  return { model, files, typeNames };
}

/** packages/node's built runtime (dist/), the files a generated package's runtime/ holds besides the addon. */
const RUNTIME_DIST = join(repoRoot, 'packages', 'node', 'dist');

/**
 * The runtime's compiled JavaScript, by file name, as the CLI vendors it
 * (without source map references: the maps stay in the repository).
 */
export function runtimeJs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(RUNTIME_DIST).sort()) {
    if (f.endsWith('.js')) out.set(f, readFileSync(join(RUNTIME_DIST, f), 'utf8').replace(/^\/\/# sourceMappingURL=.*\n?/m, ''));
  }
  return out;
}

/**
 * Writes a generated package to `dir` as the CLI lays it out (DIR/node/…),
 * with a runtime: `decls` (the declarations only, for tsc) or `js` (the
 * runtime's JavaScript and declarations without the native addon: enough to
 * import the package and use its codecs and classes without bpf.so).
 */
export function materialize(dir: string, files: ReadonlyMap<string, string>, runtime: 'decls' | 'js'): string {
  const pkg = join(dir, 'node');
  for (const [p, text] of files) {
    mkdirSync(dirname(join(pkg, p)), { recursive: true });
    writeFileSync(join(pkg, p), text);
  }
  mkdirSync(join(pkg, 'runtime'), { recursive: true });
  for (const [p, text] of RUNTIME_DECLARATIONS.files) writeFileSync(join(pkg, 'runtime', p), text);
  if (runtime === 'js') for (const [p, text] of runtimeJs()) writeFileSync(join(pkg, 'runtime', p), text);
  return pkg;
}

/** Imports a materialized package's dist/index.js. */
export async function importPackage(pkg: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href)) as Record<string, unknown>;
}
