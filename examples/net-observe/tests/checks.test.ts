// The apps compile clean: mypy --strict for Python, go vet for Go, cargo
// build without warnings for Rust (each skipped with the reason printed when
// its tool or the generated package is missing). No kernel needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDir, exampleDir } from './harness.js';

const mypy = join(exampleDir, '..', '..', 'bindings-python', '.venv', 'bin', 'mypy');
const cargoEnv = { ...process.env, PATH: `${process.env.PATH ?? ''}:${join(process.env.HOME || '/root', '.cargo', 'bin')}`, CARGO_TERM_COLOR: 'never' };
const ok = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => spawnSync(cmd, args, { env }).status === 0;

function skipReason(tool: string | undefined, pkg: string): string | undefined {
  if (tool) return tool;
  if (!existsSync(join(buildDir, pkg))) return `build/${pkg} is not built (npm run build)`;
  return undefined;
}

const checks = [
  {
    name: 'the Python app passes mypy --strict',
    why: skipReason(existsSync(mypy) ? undefined : 'no mypy in bindings-python/.venv (scripts/setup.sh installs it)', 'python'),
    run: () => spawnSync(mypy, ['--strict', '--no-incremental', join(exampleDir, 'python', 'netobserve')], { encoding: 'utf8', env: { ...process.env, MYPYPATH: join(buildDir, 'python') } }),
  },
  {
    name: 'the Go app passes go vet',
    why: skipReason(ok('go', ['version']) ? undefined : 'no Go toolchain', 'go'),
    run: () => spawnSync('go', ['vet', './...'], { encoding: 'utf8', cwd: join(exampleDir, 'go'), env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod' } }),
  },
  {
    name: 'the Rust app builds without warnings',
    why: skipReason(ok('cargo', ['--version'], cargoEnv) ? undefined : 'no cargo', 'rust'),
    run: () => spawnSync('cargo', ['build', '--offline', '--release'], {
      encoding: 'utf8', cwd: join(exampleDir, 'rust'), env: { ...cargoEnv, CARGO_TARGET_DIR: join(buildDir, 'rust-check-target'), RUSTFLAGS: '-D warnings' },
    }),
  },
];

describe('net-observe apps compile clean', () => {
  for (const c of checks) {
    if (c.why) console.log(`net-observe: ${c.name}: skipped: ${c.why}`);
    it.skipIf(c.why !== undefined)(c.name, () => {
      const r = c.run();
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    }, 300_000);
  }
});
