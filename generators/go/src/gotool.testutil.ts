/** The Go toolchain for the tests: whether it is there, and running it offline (GOPROXY=off, no GOFLAGS). */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export { repoRoot } from '@coolbpf/gen-core/testing';

/** Why Go cannot run here, or null. */
export const noGo: string | null = spawnSync('go', ['version'], { encoding: 'utf8' }).status === 0 ? null : 'no Go toolchain (scripts/setup.sh installs golang-go)';
if (noGo) console.log(`skipping the Go toolchain checks: ${noGo}`);

export const goEnv = { ...process.env, GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'on', GOTOOLCHAIN: 'local' };

/** Runs `go args…` in dir; the result, output as text. */
export function go(dir: string, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync('go', args, { cwd: dir, env: goEnv, encoding: 'utf8', maxBuffer: 1 << 28, input, timeout: 600_000 });
}

/** Runs `gofmt -l` on dir: the files that are not formatted. */
export function gofmtList(dir: string): string[] {
  const r = spawnSync('gofmt', ['-l', '.'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gofmt failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}
