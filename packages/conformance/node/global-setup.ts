// Builds every scenario (coolbpf-gen build … --lang node into build/<name>/)
// once before the test files run, so they import fresh generated packages.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pkgDir } from './harness.js';

export default function setup(): void {
  const r = spawnSync(process.execPath, [join(pkgDir, 'scripts', 'build-scenarios.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the scenarios failed:\n${r.stderr}`);
}
