/** The objects the tests generate for (every fixture, little-endian, and examples/hello) and how a crate is laid out on disk. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureNames, fixturePath, type Endian } from '@coolbpf/fixtures';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { buildModel, type ObjectModel } from '@coolbpf/model';
import { generateRust, runtimeFiles } from './index.js';
import { buildView } from './view.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the tests' cargo builds go: one target directory for every Rust build of the repository's tests. */
export const BUILD_DIR = join(repoRoot, 'build');
export const CARGO_TARGET_DIR = process.env.CARGO_TARGET_DIR || join(BUILD_DIR, 'rust-target');

/** What golden files are generated with: a fixed version and hash, so they do not change with the object's bytes. */
export const GOLDEN = { version: '0.1.0', sha256: 'c001bbf0'.repeat(8) } as const;

export interface Case {
  readonly name: string;
  readonly file: string;
  readonly events: Readonly<Record<string, string>>;
}

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

export function optionsOf(c: Case, model: ObjectModel, golden: boolean) {
  return { objectName: c.name, objectFile: `${c.name}.bpf.o`, sha256: golden ? GOLDEN.sha256 : model.object.sha256, version: GOLDEN.version };
}

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; typeNames: ReadonlyMap<string, string> } {
  const model = modelOf(c);
  const options = optionsOf(c, model, golden);
  return { model, files: generateRust(model, options), typeNames: buildView(model, options, ABI_VERSION).typeNames };
}

/** Writes a generated crate as the CLI lays it out (the runtime's sources in coolbpf/, bpf.so beside Cargo.toml: empty unless given). */
export function materialize(dir: string, files: ReadonlyMap<string, string>, bpfSo?: string): string {
  for (const [p, text] of files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    if (!existsSync(join(dir, p)) || readFileSync(join(dir, p), 'utf8') !== text) writeFileSync(join(dir, p), text);
  }
  for (const f of runtimeFiles()) {
    mkdirSync(dirname(join(dir, f.to)), { recursive: true });
    const text = readFileSync(f.from);
    if (!existsSync(join(dir, f.to)) || !readFileSync(join(dir, f.to)).equals(text)) copyFileSync(f.from, join(dir, f.to));
  }
  if (bpfSo) copyFileSync(bpfSo, join(dir, 'bpf.so'));
  else if (!existsSync(join(dir, 'bpf.so'))) writeFileSync(join(dir, 'bpf.so'), '');
  return dir;
}

export const has = (tool: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

/** PATH with ~/.cargo/bin, where rustup installs cargo. */
export function cargoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = process.env.HOME || '/root';
  return { ...process.env, PATH: `${process.env.PATH ?? ''}:${join(home, '.cargo', 'bin')}`, CARGO_TARGET_DIR, CARGO_TERM_COLOR: 'never', ...extra };
}

/** Whether a cargo tool runs ('cargo', 'rustfmt', 'cargo clippy'). */
export function hasCargo(args: string[] = ['--version'], cmd = 'cargo'): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'pipe', env: cargoEnv() });
    return true;
  } catch {
    return false;
  }
}
