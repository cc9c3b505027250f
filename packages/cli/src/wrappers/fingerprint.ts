import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Language } from '../build/languages.js';
import { goRuntime } from './go.js';
import { nodeRuntimeFiles } from './node.js';
import { rustRuntimeFiles } from './rust.js';
import { pythonRuntimeFiles } from './python.js';

const require = createRequire(import.meta.url);

/** A package's directory, found from its entry point: not every package
 * exports its package.json. */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
}

/** Files whose contents decide a language's package: its generator's code
 * and templates, and the runtime copied into it. */
function inputsOf(lang: Language): string[] {
  const files: string[] = [];
  if (lang === 'node') {
    for (const pkg of ['@coolbpf/gen-core', '@coolbpf/gen-node']) {
      const root = packageRoot(pkg);
      for (const d of ['dist', 'templates', 'runtime']) walk(join(root, d), files);
    }
    files.push(...nodeRuntimeFiles().map((f) => f.from));
  }
  if (lang === 'go') {
    for (const pkg of ['@coolbpf/gen-core', '@coolbpf/gen-go']) {
      const root = packageRoot(pkg);
      for (const d of ['dist', 'templates']) walk(join(root, d), files);
    }
    files.push(...goRuntime().map((f) => f.from));
  }
  if (lang === 'python') {
    for (const pkg of ['@coolbpf/gen-core', '@coolbpf/gen-python']) {
      const root = packageRoot(pkg);
      for (const d of ['dist', 'templates']) walk(join(root, d), files);
    }
    files.push(...pythonRuntimeFiles('').map((f) => f.from));
  }
  if (lang === 'rust') {
    for (const pkg of ['@coolbpf/gen-core', '@coolbpf/gen-rust']) {
      const root = packageRoot(pkg);
      for (const d of ['dist', 'templates']) walk(join(root, d), files);
    }
    files.push(...rustRuntimeFiles().map((f) => f.from));
  }
  return files;
}

/**
 * A digest of everything the asked-for wrappers depend on, for the build
 * cache: package versions stay 0.1.0 while their code changes, so versions
 * alone would keep a stale package "up to date".
 */
export function wrapperFingerprint(languages: readonly Language[]): string {
  const h = createHash('sha256');
  for (const lang of languages) {
    h.update(`lang ${lang}\n`);
    for (const f of inputsOf(lang)) {
      h.update(`${f}\n`);
      h.update(existsSync(f) ? readFileSync(f) : 'missing');
    }
  }
  return `${languages.join(',') || 'none'} ${h.digest('hex')}`;
}
