#!/usr/bin/env node
// Builds scenarios with coolbpf-gen into build/<name>/ (bpf.o, bpf.so, and
// the generated package of every language coolbpf-gen has, in
// build/<name>/<lang>/): every scenario, or the ones named on the command
// line, all at once.
//
// `npm test` runs this first (pretest), so the type check sees the generated
// packages the tests import; the Node column's vitest globalSetup runs it
// again, so a test run never uses a stale package.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = dirname(createRequire(import.meta.url).resolve('coolbpf-gen/package.json'));
const cli = join(cliDir, 'bin', 'coolbpf-gen.js');
// Every language coolbpf-gen can generate, so each column finds its package
// in build/<name>/<lang>/ and one build serves them all.
const { AVAILABLE_LANGUAGES } = await import(join(cliDir, 'dist', 'index.js'));
const scenarios = join(pkg, 'scenarios');

/** The scenarios: directories of scenarios/ with an expect.json. */
export function scenarioNames() {
  return readdirSync(scenarios).filter((n) => existsSync(join(scenarios, n, 'expect.json'))).sort();
}

function buildOne(name) {
  const src = join(scenarios, name, `${name}.bpf.c`);
  if (!existsSync(src)) return Promise.resolve(`no scenario '${name}' (${src})`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'build', src, '--out', join(pkg, 'build', name), '--lang', AVAILABLE_LANGUAGES.join(',')],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve(`${name}: ${e.message}`));
    child.on('close', (code) => resolve(code === 0 ? null : `${name}: coolbpf-gen build failed (exit ${code}):\n${err}`));
  });
}

/** Builds the scenarios; resolves with the failures' messages (empty: all built). */
export async function buildScenarios(names = scenarioNames()) {
  return (await Promise.all(names.map(buildOne))).filter((m) => m !== null);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const failures = await buildScenarios(process.argv.length > 2 ? process.argv.slice(2) : undefined);
  for (const f of failures) console.error(`build-scenarios: ${f}`);
  process.exit(failures.length ? 1 : 0);
}
