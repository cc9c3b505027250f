// The Rust column: packages/conformance/rust is a cargo test crate with one
// test program per scenario (tests/<name>.rs, over the generated crate
// build/<name>/rust, which global setup builds). It is built once, each
// scenario's program is run, and every case of every expect.json gets a
// vitest test with the result of the Rust tests named after it
// (`<case id>` or `<case id>/<part>`, in the lines libtest prints:
// `test <id> ... ok|FAILED|ignored, <why>`). A case whose tests were all
// ignored is skipped with the reason printed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const pkgDir = dirname(fileURLToPath(import.meta.url));
const crateDir = join(pkgDir, 'rust');
const repoRoot = join(pkgDir, '..', '..');
const env = {
  ...process.env,
  PATH: `${process.env.PATH ?? ''}:${join(process.env.HOME || '/root', '.cargo', 'bin')}`,
  CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || join(repoRoot, 'build', 'rust-target'),
  CARGO_TERM_COLOR: 'never',
};
const noCargo = spawnSync('cargo', ['--version'], { env }).status === 0 ? undefined : 'cargo is not installed (scripts/setup.sh checks for it; rustup puts it in ~/.cargo/bin)';
if (noCargo) console.log(`skipped: the Rust column: ${noCargo}`);

const scenarios = readdirSync(join(pkgDir, 'scenarios')).filter((n) => existsSync(join(pkgDir, 'scenarios', n, 'expect.json'))).sort();
const caseIds = (name: string): string[] =>
  (JSON.parse(readFileSync(join(pkgDir, 'scenarios', name, 'expect.json'), 'utf8')) as { cases: { id: string }[] }).cases.map((c) => c.id);

interface Result {
  status: 'ok' | 'FAILED' | 'ignored';
  detail: string;
}

/** libtest's lines: `test <id> ... ok`, `... FAILED`, `... ignored, <why>`; each failure's output. */
function parse(out: string): Map<string, Result> {
  const results = new Map<string, Result>();
  for (const m of out.matchAll(/^test (\S+) \.\.\. (ok|FAILED|ignored)(?:, (.*))?$/gm)) results.set(m[1]!, { status: m[2] as Result['status'], detail: m[3] ?? '' });
  for (const m of out.matchAll(/^---- (\S+) stdout ----\n([\s\S]*?)\n(?=---- |failures:\n)/gm)) {
    const r = results.get(m[1]!);
    if (r) r.detail = m[2]!.trim();
  }
  return results;
}

/** The ids the column's test programs register (`test("<id>", …)`), by scenario; from the sources. */
function registered(name: string): string[] {
  const file = join(crateDir, 'tests', `${name}.rs`);
  if (!existsSync(file)) return [];
  const src = readFileSync(file, 'utf8');
  const ids = [...src.matchAll(/\b(?:test|known_gap)\(\s*"([a-z0-9-]+)(?:\/[^"]*)?"/g)].map((m) => m[1]!);
  // ids registered per data item: test(format!("<id>/{…}"), …)
  ids.push(...[...src.matchAll(/\b(?:test|known_gap)\(\s*format!\("([a-z0-9-]+)\//g)].map((m) => m[1]!));
  return [...new Set(ids)];
}

describe('the Rust column covers every case', () => {
  for (const name of scenarios) {
    it(name, () => {
      expect(existsSync(join(crateDir, 'tests', `${name}.rs`))).toBe(true);
      const ids = caseIds(name);
      const have = registered(name);
      expect(have.filter((id) => !ids.includes(id))).toEqual([]);
      expect(ids.filter((id) => !have.includes(id))).toEqual([]);
    });
  }
});

describe.skipIf(noCargo !== undefined)('the Rust column', () => {
  const results = new Map<string, Map<string, Result>>();
  const logs = new Map<string, string>();
  let build = { ok: false, log: '' };
  beforeAll(() => {
    const b = spawnSync('cargo', ['test', '--no-run', '--quiet'], { cwd: crateDir, env, encoding: 'utf8', maxBuffer: 1 << 28 });
    build = { ok: b.status === 0, log: `${b.stdout}${b.stderr}` };
    if (!build.ok) return;
    for (const name of scenarios) {
      const r = spawnSync('cargo', ['test', '--quiet', '--test', name], { cwd: crateDir, env, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000 });
      logs.set(name, `${r.stdout}${r.stderr}`);
      results.set(name, parse(r.stdout));
    }
  }, 900_000);

  it('the column builds (cargo test --no-run over the generated crates)', () => {
    expect(build.ok ? '' : build.log).toBe('');
  });

  for (const name of scenarios) {
    describe(name, () => {
      for (const id of caseIds(name)) {
        it(id, (ctx) => {
          if (!build.ok) throw new Error('the column did not build');
          const all = results.get(name) ?? new Map<string, Result>();
          const mine = [...all].filter(([t]) => t === id || t.startsWith(`${id}/`));
          expect(mine.length, `no Rust test ran for case ${id}:\n${logs.get(name)?.slice(-3000)}`).toBeGreaterThan(0);
          const failed = mine.filter(([, r]) => r.status === 'FAILED');
          expect(failed.map(([t, r]) => `${t}: ${r.detail}`)).toEqual([]);
          if (mine.every(([, r]) => r.status === 'ignored')) {
            console.log(`skipped: rust ${name}: ${id}: ${mine[0]![1].detail}`);
            ctx.skip();
          }
        });
      }
    });
  }
});
