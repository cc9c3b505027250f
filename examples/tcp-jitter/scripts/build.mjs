#!/usr/bin/env node
// Builds tcp-jitter: the BPF program with coolbpf-gen into build/ (bpf.o,
// bpf.so and the Node, Python, Go and Rust packages), then the apps whose
// toolchain is here: node/dist (tsc), build/tcp-jitter-go (go build),
// build/rust-target/release/tcp-jitter (cargo build). Python needs no build.
// A missing toolchain is a printed note, not a failure. turbo.json turns off
// turbo's cache for this task: the build is incremental itself, and its
// inputs are not the src/** the root turbo.json lists.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = dirname(createRequire(import.meta.url).resolve('coolbpf-gen/package.json'));
const cargoPath = `${process.env.PATH ?? ''}:${join(process.env.HOME || '/root', '.cargo', 'bin')}`;

function run(what, cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error?.code === 'ENOENT') {
    console.error(`tcp-jitter build: ${cmd} not found: ${what} skipped`);
    return;
  }
  if (r.status !== 0) {
    console.error(`tcp-jitter build: ${what} failed`);
    process.exit(1);
  }
}

run('the BPF program', process.execPath, [join(cliDir, 'bin', 'coolbpf-gen.js'), 'build', 'tcp_jitter.bpf.c',
  '--out', 'build', '--lang', 'node,python,go,rust']);
run('the Node app', process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'node/tsconfig.json']);
run('the Go app', 'go', ['build', '-o', '../build/tcp-jitter-go', '.'], {
  cwd: join(dir, 'go'), env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod' },
});
run('the Rust app', 'cargo', ['build', '--offline', '--release', '--quiet'], {
  cwd: join(dir, 'rust'), env: { ...process.env, PATH: cargoPath, CARGO_TARGET_DIR: join(dir, 'build', 'rust-target') },
});
