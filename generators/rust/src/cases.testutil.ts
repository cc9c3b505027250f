/** The objects the tests generate for (every fixture, little-endian, and examples/hello) and how a crate is laid out on disk. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { FIXTURES, fixtureCase, helloCase, modelOf, optionsOf, repoRoot, type Case } from '@coolbpf/gen-core/testing';
import type { ObjectModel } from '@coolbpf/model';
import { generateRust, runtimeFiles } from './index.js';
import { buildView } from './view.js';

export { FIXTURES, fixtureCase, helloCase, repoRoot, type Case };

/** Where the tests' cargo builds go: one target directory for every Rust build of the repository's tests. */
export const BUILD_DIR = join(repoRoot, 'build');
export const CARGO_TARGET_DIR = process.env.CARGO_TARGET_DIR || join(BUILD_DIR, 'rust-target');

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
