// Builds the BPF program and the apps (scripts/build.mjs; unchanged inputs are
// not rebuilt) once before the test files run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building tcp-jitter failed:\n${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
}
