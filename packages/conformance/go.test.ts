// The Go column, counted with the others: `go test -json ./...` in go/ runs
// every scenario's <name>_test.go against the generated packages in
// build/<name>/go (built by the global setup), once, while this file is
// collected; each case of each expect.json becomes a vitest test with the
// Go subtest's result (failed: its output; skipped: skipped with the reason
// printed). A second part checks that the Go column has a test for every
// case id (no kernel needed).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expected, pkgDir, skipNote } from './node/harness.js';

const goDir = join(pkgDir, 'go');
const scenarios = readdirSync(join(pkgDir, 'scenarios')).filter((n) => existsSync(join(pkgDir, 'scenarios', n, 'expect.json'))).sort();
const testName = (scenario: string) => `Test${scenario[0]!.toUpperCase()}${scenario.slice(1)}`;

interface GoEvent { Action: string; Test?: string; Output?: string; Package?: string }
interface Result { action: string; output: string[] }

const noGo = spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0 ? 'no Go toolchain (scripts/setup.sh installs golang-go)' : undefined;
if (noGo) skipNote('the Go column', noGo);

/** Runs the Go column; results by test name ("TestMaps/array"), and the package's own output when it failed to build. */
async function runGo(): Promise<{ results: Map<string, Result>; packageOutput: string; exitCode: number | null }> {
  const child = spawn('go', ['test', '-json', '-count=1', '-timeout=15m', './...'], {
    cwd: goDir,
    env: { ...process.env, GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'on' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const results = new Map<string, Result>();
  let packageOutput = err;
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) {
      if (line.trim()) packageOutput += `${line}\n`;
      continue;
    }
    const e = JSON.parse(line) as GoEvent;
    if (!e.Test) {
      if (e.Action === 'output' && e.Output) packageOutput += e.Output;
      continue;
    }
    const r = results.get(e.Test) ?? { action: 'run', output: [] };
    if (e.Action === 'output' && e.Output) r.output.push(e.Output);
    else if (['pass', 'fail', 'skip'].includes(e.Action)) r.action = e.Action;
    results.set(e.Test, r);
  }
  return { results, packageOutput, exitCode };
}

const run = noGo ? undefined : await runGo();

/** Why a Go test was skipped: what it logged, without the RUN/SKIP lines. */
function reason(r: Result): string {
  return r.output.filter((l) => !/^\s*(=== |--- )/.test(l)).map((l) => l.trim()).filter(Boolean).join(' ') || 'no reason given';
}

describe.skipIf(noGo !== undefined)('the Go column', () => {
  for (const scenario of scenarios) {
    const cases = expected<{ cases: { id: string; does: string }[] }>(scenario).cases;
    describe(scenario, () => {
      for (const c of cases) {
        const name = `${testName(scenario)}/${c.id}`;
        const r = run?.results.get(name);
        const parent = run?.results.get(testName(scenario));
        const title = `${c.id}: ${c.does.length > 100 ? `${c.does.slice(0, 97)}…` : c.does}`;
        const skipped = r?.action === 'skip' ? r : !r && parent?.action === 'skip' ? parent : undefined;
        if (skipped) {
          skipNote(`go ${scenario}/${c.id}`, reason(skipped));
          it.skip(title, () => {});
          continue;
        }
        it(title, () => {
          if (!r) {
            throw new Error(`no Go test ${name} ran (go test exit ${run?.exitCode}):\n${parent?.output.join('') ?? ''}${run?.packageOutput ?? ''}`);
          }
          if (r.action !== 'pass') throw new Error(`${name}: ${r.action}\n${r.output.join('')}`);
        });
      }
    });
  }
});

describe('the Go column covers every case', () => {
  for (const name of scenarios) {
    it(name, () => {
      const file = join(goDir, `${name}_test.go`);
      expect(existsSync(file)).toBe(true);
      const src = readFileSync(file, 'utf8');
      expect(src).toContain(`func ${testName(name)}(t *testing.T)`);
      const ids = expected<{ cases: { id: string }[] }>(name).cases.map((c) => c.id);
      // the case subtests: t.Run("<id>", …) directly in the scenario's test function (one tab in)
      const titled = [...src.matchAll(/^\tt\.Run\("([^"]+)"/gm)].map((m) => m[1]!);
      expect(titled.filter((id) => !ids.includes(id))).toEqual([]);
      expect(ids.filter((id) => !titled.includes(id))).toEqual([]);
    });
  }
});
