// The coolbpf Python runtime's own tests (bindings-python/tests, pytest):
// codecs and batch decoding without the kernel, and, against the running
// kernel, a bpf.so of packages/runtime-tests/bpf/rt.bpf.c built here with
// coolbpf-gen (lifecycle and its errors, every attach kind the machine
// supports, sections, maps, ring and perf buffers, destroy from another
// thread, garbage collection). Each pytest test is a vitest test here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'vitest';
import { kernelSkipReason, pkgDir, skipNote } from './node/harness.js';

const repo = join(pkgDir, '..', '..');
const python = process.env['COOLBPF_PYTHON'] ?? join(repo, 'bindings-python', '.venv', 'bin', 'python');
const why = !existsSync(python) ? `no ${python} (scripts/setup.sh makes it: a venv with pytest)` : spawnSync(python, ['-c', 'import pytest']).status !== 0 ? `${python} has no pytest` : undefined;
if (why) skipNote('the Python runtime tests', why);

interface Entry { nodeid: string; outcome: 'passed' | 'failed' | 'skipped'; message: string }

function run(): { tests: Entry[] } | { error: string } {
  const work = mkdtempSync(join(tmpdir(), 'coolbpf-python-runtime-'));
  try {
    const env: Record<string, string> = { ...process.env as Record<string, string>, COOLBPF_PYTEST_REPORT: join(work, 'report.json'), PYTHONDONTWRITEBYTECODE: '1' };
    // rt.bpf.c built with coolbpf-gen (only when the kernel tests can run; the rest needs no bpf.so)
    if (kernelSkipReason() === undefined) {
      const cli = join(dirname(createRequire(import.meta.url).resolve('coolbpf-gen/package.json')), 'bin', 'coolbpf-gen.js');
      const b = spawnSync(process.execPath, [cli, 'build', join(repo, 'packages', 'runtime-tests', 'bpf', 'rt.bpf.c'), '--out', join(work, 'rt')], { encoding: 'utf8' });
      if (b.status !== 0) return { error: `coolbpf-gen build of rt.bpf.c failed:\n${b.stderr}` };
      env['COOLBPF_RT_SO'] = join(work, 'rt', 'bpf.so');
    }
    const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-o', 'addopts=', 'tests'], {
      cwd: join(repo, 'bindings-python'), encoding: 'utf8', timeout: 600_000, env,
    });
    const report = join(work, 'report.json');
    if (!existsSync(report)) return { error: `pytest wrote no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}` };
    return JSON.parse(readFileSync(report, 'utf8')) as { tests: Entry[] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const result = why ? null : run();

describe.skipIf(why !== undefined)('the coolbpf Python runtime (pytest, bindings-python/tests)', () => {
  if (result === null) return;
  if ('error' in result) {
    it('pytest ran', () => {
      throw new Error(result.error);
    });
    return;
  }
  for (const t of result.tests) {
    const title = t.nodeid.replace(/^tests\//, '');
    if (t.outcome === 'passed') it(title, () => {});
    else if (t.outcome === 'failed') {
      it(title, () => {
        throw new Error(t.message);
      });
    } else {
      skipNote(title, t.message.replace(/^Skipped: /, ''));
      it.skip(title, () => {});
    }
  }
});
