/** The objects the tests generate for (every fixture, examples/hello), and running Python on the results. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ObjectModel } from '@coolbpf/model';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { FIXTURES, fixtureCase, helloCase, modelOf, optionsOf, repoRoot, type Case } from '@coolbpf/gen-core/testing';
import { generatePython, runtimeSources } from './index.js';
import { buildView } from './view.js';

export { FIXTURES, fixtureCase, helloCase, repoRoot, type Case };

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; typeNames: ReadonlyMap<string, string>; module: string } {
  const model = modelOf(c);
  const options = optionsOf(c, model, golden);
  const files = generatePython(model, options);
  const view = buildView(model, options, ABI_VERSION);
  return { model, files, typeNames: view.typeNames, module: view.pkg.module };
}

/** Writes a generated package to `dir` as the CLI lays it out (DIR/python/…, the runtime in <module>/_coolbpf/); returns DIR/python. */
export function materialize(dir: string, files: ReadonlyMap<string, string>): string {
  const pkg = join(dir, 'python');
  for (const [p, text] of files) {
    mkdirSync(dirname(join(pkg, p)), { recursive: true });
    writeFileSync(join(pkg, p), text);
  }
  const init = [...files.keys()].find((k) => /^[^/]+\/__init__\.py$/.test(k))!;
  const runtime = join(pkg, dirname(init), '_coolbpf');
  mkdirSync(runtime, { recursive: true });
  for (const [name, text] of runtimeSources()) writeFileSync(join(runtime, name), text);
  return pkg;
}

/** The Python with mypy and pytest (scripts/setup.sh makes bindings-python/.venv; $COOLBPF_PYTHON overrides), or why there is none. */
export function pythonTools(): { python: string | null; why: string | null } {
  const python = process.env.COOLBPF_PYTHON ?? join(repoRoot, 'bindings-python', '.venv', 'bin', 'python');
  if (!existsSync(python)) return { python: null, why: `no ${python} (scripts/setup.sh makes it: a venv with mypy and pytest)` };
  const r = spawnSync(python, ['-c', 'import mypy, pytest'], { encoding: 'utf8' });
  if (r.status !== 0) return { python: null, why: `${python} has no mypy or pytest (${r.stderr.trim().split('\n').pop()})` };
  return { python, why: null };
}

/** Runs a Python script with `cwd` on sys.path; stdout, or throws with stderr. */
export function runPython(python: string, cwd: string, script: string, args: readonly string[] = []): string {
  const r = spawnSync(python, ['-c', script, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, PYTHONPATH: cwd, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`python failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
