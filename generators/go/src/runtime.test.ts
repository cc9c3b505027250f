/**
 * The Go runtime's own tests (bindings-go, `go test`), counted here: the
 * bpf.so of packages/runtime-tests/bpf/rt.bpf.c, and of examples/hello as a
 * second object, are built with coolbpf-gen into a temporary directory, and
 * `go test -json ./...` in bindings-go runs against them; each Go test
 * becomes a vitest test with its result. Without root or the kernel's BTF
 * the kernel tests skip inside Go, saying why (printed here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { go, goEnv, noGo, repoRoot } from './gotool.testutil.js';

const runtimeDir = join(repoRoot, 'bindings-go');
const cli = join(repoRoot, 'packages', 'cli', 'bin', 'coolbpf-gen.js');
const dir = mkdtempSync(join(tmpdir(), 'coolbpf-go-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds a BPF program with coolbpf-gen (bpf.so only); its bpf.so, or the reason it could not. */
function build(src: string, out: string): { so: string | null; why: string | null } {
  if (process.getuid?.() !== 0) return { so: null, why: 'not root' };
  if (!existsSync('/sys/kernel/btf/vmlinux')) return { so: null, why: 'no kernel BTF' };
  const r = spawnSync(process.execPath, [cli, 'build', src, '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) return { so: null, why: `coolbpf-gen build ${src} failed:\n${r.stderr}` };
  return { so: join(out, 'bpf.so'), why: null };
}

interface Result { action: string; output: string[] }

function runGoTests(): { results: Map<string, Result>; text: string; status: number | null } {
  const rt = build(join(repoRoot, 'packages', 'runtime-tests', 'bpf', 'rt.bpf.c'), join(dir, 'rt'));
  const hello = rt.so ? build(join(repoRoot, 'examples', 'hello', 'hello.bpf.c'), join(dir, 'hello')) : rt;
  if (rt.why) console.log(`the Go runtime's kernel tests will skip: ${rt.why}`);
  const env = { ...goEnv, COOLBPF_RT_SO: rt.so ?? '', COOLBPF_RT_SO2: hello.so ?? '' };
  const r = spawnSync('go', ['test', '-json', '-count=1', './...'], { cwd: runtimeDir, env, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 900_000 });
  const results = new Map<string, Result>();
  let text = r.stderr ?? '';
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{')) {
      text += line ? `${line}\n` : '';
      continue;
    }
    const e = JSON.parse(line) as { Action: string; Test?: string; Output?: string };
    if (!e.Test) {
      if (e.Action === 'output' && e.Output) text += e.Output;
      continue;
    }
    const res = results.get(e.Test) ?? { action: 'run', output: [] };
    if (e.Action === 'output' && e.Output) res.output.push(e.Output);
    else if (['pass', 'fail', 'skip'].includes(e.Action)) res.action = e.Action;
    results.set(e.Test, res);
  }
  return { results, text, status: r.status };
}

const run = noGo ? null : runGoTests();

describe.skipIf(noGo !== null)('bindings-go: go test against the running kernel', () => {
  it('builds, vets, and runs its tests', () => {
    expect(go(runtimeDir, ['vet', './...']).stderr).toBe('');
    expect(run!.results.size, run!.text).toBeGreaterThan(10);
  });
  for (const [name, r] of run?.results ?? []) {
    if (name.includes('/')) continue; // subtests count in their test
    if (r.action === 'skip') {
      console.log(`skipped: bindings-go ${name}: ${r.output.filter((l) => !/^\s*(=== |--- )/.test(l)).join(' ').trim()}`);
      it.skip(name, () => {});
      continue;
    }
    it(name, () => {
      if (r.action !== 'pass') throw new Error(`${name}: ${r.action}\n${r.output.join('')}`);
    });
  }
});
