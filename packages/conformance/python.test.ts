// The Python column: pytest runs python/test_<scenario>.py against the
// scenarios' generated Python packages (build/<name>/python/, built by
// global-setup.ts with every language coolbpf-gen has), and each pytest test
// becomes a vitest test here, titled with the expect.json case ids it covers
// (failed: its message; skipped: the reason printed; a known gap marked
// xfail in pytest: it.fails). Also: the column has a test for every case of
// every expect.json, and a generated package installs with pip into a fresh
// virtual environment and works from there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { built, expected, kernelSkipReason, pkgDir, skipNote } from './node/harness.js';

interface Entry { nodeid: string; cases: string[]; outcome: 'passed' | 'failed' | 'skipped' | 'xfailed' | 'xpassed'; message: string; doc: string }

/** The Python with pytest (scripts/setup.sh makes bindings-python/.venv; $COOLBPF_PYTHON overrides), or why there is none. */
function pythonTools(): { python: string | null; why: string | null } {
  const python = process.env['COOLBPF_PYTHON'] ?? join(pkgDir, '..', '..', 'bindings-python', '.venv', 'bin', 'python');
  if (!existsSync(python)) return { python: null, why: `no ${python} (scripts/setup.sh makes it: a venv with pytest)` };
  if (spawnSync(python, ['-c', 'import pytest']).status !== 0) return { python: null, why: `${python} has no pytest` };
  return { python, why: null };
}

const { python, why } = pythonTools();
if (why) skipNote('the Python column', why);

const scenarios = readdirSync(join(pkgDir, 'scenarios')).filter((n) => existsSync(join(pkgDir, 'scenarios', n, 'expect.json'))).sort();

/** pytest over python/, once, while vitest collects this file. */
function runPytest(): { tests: Entry[] } | { error: string } {
  const work = mkdtempSync(join(tmpdir(), 'coolbpf-conformance-python-'));
  const report = join(work, 'report.json');
  try {
    const r = spawnSync(python!, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-o', 'addopts=', 'python'], {
      cwd: pkgDir, encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 26,
      env: { ...process.env, COOLBPF_PYTEST_REPORT: report, PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (!existsSync(report)) return { error: `pytest wrote no report (exit ${r.status}, ${r.error?.message ?? ''}):\n${r.stdout}\n${r.stderr}` };
    return JSON.parse(readFileSync(report, 'utf8')) as { tests: Entry[] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const result = python ? runPytest() : null;

describe.skipIf(python === null)('the Python column (pytest, python/test_<scenario>.py)', () => {
  if (result === null) return;
  if ('error' in result) {
    it('pytest ran', () => {
      throw new Error(result.error);
    });
    return;
  }
  for (const t of result.tests) {
    const title = `${t.cases.join(', ') || '(no case)'}: ${t.doc || t.nodeid} [${t.nodeid.replace(/^python\//, '')}]`;
    if (t.outcome === 'passed') it(title, () => {});
    else if (t.outcome === 'failed') {
      it(title, () => {
        throw new Error(t.message);
      });
    } else if (t.outcome === 'skipped') {
      skipNote(t.nodeid, t.message.replace(/^Skipped: /, ''));
      it.skip(title, () => {});
    } else if (t.outcome === 'xfailed') {
      // a gap the column knows (pytest.mark.xfail(strict=True) with the reason)
      it.fails(title, () => {
        throw new Error(t.message);
      });
    } else {
      it(title, () => {
        throw new Error(`marked as a known gap (xfail: ${t.message}) but passed: remove the mark`);
      });
    }
  }
});

describe.skipIf(python === null)('the Python column covers every case', () => {
  for (const name of scenarios) {
    it(name, () => {
      expect(existsSync(join(pkgDir, 'python', `test_${name}.py`))).toBe(true);
      const ids = expected<{ scenario: string; cases: { id: string }[] }>(name).cases.map((c) => c.id);
      expect(result !== null && !('error' in result)).toBe(true);
      const mine = (result as { tests: Entry[] }).tests.filter((t) => t.nodeid.startsWith(`python/test_${name}.py::`));
      for (const t of mine) expect(t.cases, `${t.nodeid} names no case id`).not.toEqual([]);
      const titled = new Set(mine.flatMap((t) => t.cases));
      expect([...titled].filter((id) => !ids.includes(id))).toEqual([]);
      expect(ids.filter((id) => !titled.has(id))).toEqual([]);
    });
  }
});

describe.skipIf(python === null)('a generated Python package installs with pip', () => {
  const skip = kernelSkipReason();
  it('pip install build/lifecycle/python into a fresh virtual environment (offline), then init, trigger, read, destroy from there', (ctx) => {
    const work = mkdtempSync(join(tmpdir(), 'coolbpf-pip-'));
    try {
      const venv = join(work, 'venv');
      const mk = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
      expect(mk.status, mk.stderr).toBe(0);
      const pip = spawnSync(join(venv, 'bin', 'pip'), ['install', '-q', '--no-index', '--disable-pip-version-check', built('lifecycle').dir + '/python'], { encoding: 'utf8', cwd: work });
      expect(pip.status, `${pip.stdout}\n${pip.stderr}`).toBe(0);
      const check = [
        'import os, json, lifecycle',
        'from pathlib import Path',
        'here = Path(lifecycle.__file__).parent',
        'out = {"site": "site-packages" in str(here), "so": (here / "bpf.so").exists(), "runtime": (here / "_coolbpf" / "_abi.py").exists()}',
        'if os.environ.get("RUN") == "1":',
        '    with lifecycle.init(rodata={"target_tgid": os.getpid()}) as x:',
        '        for _ in range(4): os.getppid()',
        '        out["count"] = x.bss.count',
        '        out["state"] = x.object.state',
        'print(json.dumps(out))',
      ].join('\n');
      const run = spawnSync(join(venv, 'bin', 'python'), ['-c', check], { encoding: 'utf8', cwd: work, env: { ...process.env, RUN: skip ? '0' : '1', COOLBPF_BPF_SO: '' } });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(out).toMatchObject({ site: true, so: true, runtime: true });
      if (skip) {
        skipNote('using the pip-installed package against the kernel', skip);
        ctx.skip();
      }
      expect(out).toMatchObject({ count: 4, state: 'attached' });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
