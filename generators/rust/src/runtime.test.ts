/**
 * The Rust runtime (bindings-rust) on the running kernel: its own cargo
 * tests (unit tests, and tests/runtime.rs over the bpf.so of
 * packages/runtime-tests/bpf/rt.bpf.c, built here with coolbpf-gen), one
 * vitest test per Rust test so they count in the summary; plus rustfmt and
 * clippy on its sources. A Rust test that cannot run here prints
 * `skipped: <test>: <reason>` and shows as skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cargoEnv, hasCargo, repoRoot } from './cases.testutil.js';
import { RUNTIME_DIR } from './index.js';

const noCargo = hasCargo() ? null : 'cargo is not installed (scripts/setup.sh checks for it; rustup puts it in ~/.cargo/bin)';
if (noCargo) console.log(`skipping the Rust runtime's tests: ${noCargo}`);
const clippy = !noCargo && hasCargo(['clippy', '--version']);

/** The Rust tests by name, from the sources: tests/*.rs `#[test] fn x` and unit tests in `mod tests` of src/<module>.rs. */
function rustTests(): string[] {
  const names: string[] = [];
  const testFns = (text: string) => [...text.matchAll(/#\[test\]\s*(?:#\[[^\]]*\]\s*)*fn\s+([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  for (const f of readdirSync(join(RUNTIME_DIR, 'tests')).filter((f) => f.endsWith('.rs')).sort()) names.push(...testFns(readFileSync(join(RUNTIME_DIR, 'tests', f), 'utf8')));
  for (const f of readdirSync(join(RUNTIME_DIR, 'src')).filter((f) => f.endsWith('.rs')).sort()) {
    const text = readFileSync(join(RUNTIME_DIR, 'src', f), 'utf8');
    const i = text.indexOf('mod tests {');
    if (i >= 0) names.push(...testFns(text.slice(i)).map((n) => `${f.replace(/\.rs$/, '')}::tests::${n}`));
  }
  return names;
}

type Result = { status: 'ok' | 'FAILED' | 'ignored' | 'skipped'; detail: string };

/** `test name ... ok|FAILED|ignored` lines, the failures' output, and `skipped: name: why` lines. */
function parseCargoTest(out: string): Map<string, Result> {
  const results = new Map<string, Result>();
  for (const m of out.matchAll(/^test (\S+) \.\.\. (ok|FAILED|ignored)(?:, (.*))?$/gm)) results.set(m[1]!, { status: m[2] as Result['status'], detail: m[3] ?? '' });
  for (const m of out.matchAll(/^---- (\S+) stdout ----\n([\s\S]*?)(?=\n---- |\nfailures:\n)/gm)) {
    const r = results.get(m[1]!);
    if (r) r.detail = m[2]!.trim();
  }
  for (const m of out.matchAll(/^skipped: ([A-Za-z0-9_:]+): (.*)$/gm)) {
    const r = results.get(m[1]!);
    if (r && r.status === 'ok') results.set(m[1]!, { status: 'skipped', detail: m[2]! });
  }
  return results;
}

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-rust-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(noCargo !== null)('the Rust runtime (bindings-rust)', () => {
  let results = new Map<string, Result>();
  let log = '';
  beforeAll(() => {
    const env = cargoEnv();
    if (process.getuid?.() === 0) {
      try {
        execFileSync(process.execPath, [join(repoRoot, 'packages', 'cli', 'bin', 'coolbpf-gen.js'), 'build', join(repoRoot, 'packages', 'runtime-tests', 'bpf', 'rt.bpf.c'), '--out', dir], { stdio: 'pipe' });
        env.COOLBPF_RT_SO = join(dir, 'bpf.so');
      } catch (e) {
        console.log(`the runtime's kernel tests will skip: coolbpf-gen build of rt.bpf.c failed: ${String((e as Error).message).split('\n')[0]}`);
      }
    }
    const r = spawnSync('cargo', ['test', '--lib', '--tests', '--manifest-path', join(RUNTIME_DIR, 'Cargo.toml'), '--', '--test-threads=1', '--show-output'], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
    log = `${r.stdout}\n${r.stderr}`;
    results = parseCargoTest(log);
  });

  it('cargo test ran every test of the sources', () => {
    expect([...results.keys()].sort(), log.slice(-4000)).toEqual(rustTests().sort());
  });

  for (const name of rustTests()) {
    it(name, (ctx) => {
      const r = results.get(name);
      expect(r, `no result for ${name}`).toBeDefined();
      if (r!.status === 'skipped' || r!.status === 'ignored') {
        console.log(`skipped: ${name}: ${r!.detail}`);
        ctx.skip();
      }
      expect([name, r!.status, r!.status === 'ok' ? '' : r!.detail]).toEqual([name, 'ok', '']);
    });
  }

  it('rustfmt: the sources are formatted', () => {
    const r = spawnSync('cargo', ['fmt', '--check', '--manifest-path', join(RUNTIME_DIR, 'Cargo.toml')], { env: cargoEnv(), encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!clippy)('clippy finds nothing (warnings denied)', () => {
    const r = spawnSync('cargo', ['clippy', '--all-targets', '--quiet', '--manifest-path', join(RUNTIME_DIR, 'Cargo.toml'), '--', '-D', 'warnings'], { env: cargoEnv(), encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});
