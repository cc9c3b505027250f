#!/usr/bin/env node
// `npm run build` for @coolbpf/node: the native addon with node-gyp, then
// the TypeScript. Incremental and quiet: node-gyp configures only when
// build/ has no Makefile or binding.gyp changed, make rebuilds only what
// changed, and output is shown only when a step fails.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function run(what, cmd, args) {
  const r = spawnSync(cmd, args, { cwd: pkg, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(`@coolbpf/node: ${what} failed${r.error ? `: ${r.error.message}` : ''}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
    process.exit(1);
  }
}

// Node's headers: npm's nodedir setting, else the ones installed beside this
// node (Debian's nodejs-dev, or an official tarball's include/), so node-gyp
// never tries to download them.
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return undefined;
}

const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const dir = nodedir();
const common = ['--loglevel=error', ...(dir ? [`--nodedir=${dir}`] : [])];
const makefile = join(pkg, 'build', 'Makefile');
const config = join(pkg, 'build', 'config.gypi');
const mtime = (p) => statSync(p).mtimeMs;
if (!existsSync(makefile) || !existsSync(config) || mtime(join(pkg, 'binding.gyp')) > mtime(config)) {
  run('node-gyp configure', process.execPath, [gyp, 'configure', ...common]);
}
run('node-gyp build', process.execPath, [gyp, 'build', ...common]);
run('tsc', process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
