// The apps compile clean: mypy --strict for Python, go vet for Go, cargo
// build without warnings for Rust, and the Go and Rust libraries pass their
// unit tests (each skipped with the reason printed when
// its tool or the generated package is missing); and the BPF object's CO-RE
// relocations resolve on an older kernel (Debian 12's 6.1) as well as here.
// No kernel needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

const sharedBtf = join(exampleDir, '..', '..', '..', 'shared', 'btf', 'debian-6.1.0-47-cloud-amd64.btf.gz');
const cli = join(dirname(createRequire(import.meta.url).resolve('coolbpf-gen/package.json')), 'bin', 'coolbpf-gen.js');

const checks = [
  {
    name: 'every CO-RE relocation of the BPF object resolves against the BTF of Debian 12\'s 6.1 kernel',
    why: existsSync(sharedBtf) ? skipReason(undefined, 'bpf.o') : `${sharedBtf} does not exist`,
    run: () => spawnSync(process.execPath, [cli, 'check', join(buildDir, 'bpf.o'), '--btf', sharedBtf], { encoding: 'utf8' }),
  },
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
    name: 'the Go library passes go test (the latency histogram\'s vectors)',
    why: skipReason(ok('go', ['version']) ? undefined : 'no Go toolchain', 'go'),
    run: () => spawnSync('go', ['test', './...'], { encoding: 'utf8', cwd: join(exampleDir, 'go'), env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod' } }),
  },
  {
    name: 'the Rust library passes cargo test (the latency histogram\'s vectors)',
    why: skipReason(ok('cargo', ['--version'], cargoEnv) ? undefined : 'no cargo', 'rust'),
    run: () => spawnSync('cargo', ['test', '--offline', '--release'], {
      encoding: 'utf8', cwd: join(exampleDir, 'rust'), env: { ...cargoEnv, CARGO_TARGET_DIR: join(buildDir, 'rust-check-target'), RUSTFLAGS: '-D warnings' },
    }),
  },
  {
    name: 'the Rust app builds without warnings',
    why: skipReason(ok('cargo', ['--version'], cargoEnv) ? undefined : 'no cargo', 'rust'),
    run: () => spawnSync('cargo', ['build', '--offline', '--release'], {
      encoding: 'utf8', cwd: join(exampleDir, 'rust'), env: { ...cargoEnv, CARGO_TARGET_DIR: join(buildDir, 'rust-check-target'), RUSTFLAGS: '-D warnings' },
    }),
  },
];

describe('net-observe checks that need no kernel', () => {
  for (const c of checks) {
    if (c.why) console.log(`net-observe: ${c.name}: skipped: ${c.why}`);
    it.skipIf(c.why !== undefined)(c.name, () => {
      const r = c.run();
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    }, 300_000);
  }
});
