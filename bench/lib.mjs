// Helpers shared by the bpf.so benchmarks (bench/ringbuf.mjs, bench/init.mjs):
// building with coolbpf-gen, compiling the C drivers, running them, the
// machine's facts, statistics and markdown. Node >= 20, no dependencies.

import { spawn, execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the benchmarks build: covered by the root .gitignore's `build/`. */
export const BUILD = join(REPO, 'bench', 'build');
const CLI = join(REPO, 'packages', 'cli', 'bin', 'coolbpf-gen.js');

export function dier(name) {
  return (msg) => {
    process.stderr.write(`${name}: ${msg}\n`);
    process.exit(1);
  };
}

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** Runs a command to completion; returns stdout; throws with the command's stderr. */
export function run(cmd, args, { cwd = REPO, env } = {}) {
  try {
    return execFileSync(cmd, args, { cwd, env: env ? { ...process.env, ...env } : process.env, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  } catch (e) {
    const err = String(e.stderr ?? '').trim() || String(e.stdout ?? '').trim() || e.message;
    throw new Error(`${[cmd, ...args].join(' ')} failed:\n${err}`);
  }
}

/** The checks every bpf.so benchmark needs before it starts. */
export function requireTools(die) {
  for (const t of ['bpftool', 'cc', 'node']) if (!which(t)) die(`${t} not found on PATH (npm run setup installs what is missing)`);
  if (process.getuid?.() !== 0) die('loading BPF programs needs root (run as root)');
  try { accessSync(join(REPO, 'packages', 'cli', 'dist'), constants.R_OK); } catch { die('the workspace is not built (npm run setup)'); }
}

/**
 * `coolbpf-gen build SOURCE --out OUT [--lang LANGS]` (the CLI's launcher run
 * by node, as `npx coolbpf-gen` would), paths relative to the repository.
 * Returns the output paths; `node` is the generated Node package (DIR/node/,
 * its entry point dist/index.js) when `lang` names node.
 */
export function coolbpfBuild(source, out, { lang } = {}) {
  run(process.execPath, [CLI, 'build', source, '--out', out, ...(lang ? ['--lang', lang] : [])]);
  const dir = resolve(REPO, out);
  const built = { dir, object: join(dir, 'bpf.o'), sharedObject: join(dir, 'bpf.so'), include: join(dir, 'include') };
  if (lang && lang.split(',').includes('node')) built.node = { dir: join(dir, 'node'), entry: join(dir, 'node', 'dist', 'index.js') };
  return built;
}

/** coolbpf-gen's model of an object (`inspect --json`). */
export function coolbpfModel(object) {
  return JSON.parse(run(process.execPath, [CLI, 'inspect', object, '--json']));
}

/** Offset of a global in a data section, from the model. */
export function globalOffset(model, section, name) {
  const s = model.dataSections.find((d) => d.name === section);
  const v = s?.variables.find((x) => x.name === name);
  if (!v) throw new Error(`the object has no global '${name}' in ${section}`);
  return v.offset;
}

/** `bpftool gen skeleton OBJECT name NAME > HEADER`. */
export function skeleton(object, name, header) {
  mkdirSync(dirname(header), { recursive: true });
  writeFileSync(header, run('bpftool', ['gen', 'skeleton', object, 'name', name]));
}

/** cc -O2 with warnings as errors, so a driver never builds half-right. */
export function cc(args) {
  run('cc', ['-O2', '-g', '-Wall', '-Wextra', '-Werror', ...args]);
}

/** Spawns a driver; resolves to its last stdout line parsed as JSON. */
export function runJson(cmd, args, { env } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    let out = '', err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { if (err.length < 8000) err += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`${[cmd, ...args].join(' ')}: ${signal ? `killed by ${signal}` : `exit status ${code}`}\n${err.trim()}${last ? `\nstdout: ${last}` : ''}`));
        return;
      }
      try { resolveRun(JSON.parse(last)); } catch { reject(new Error(`${cmd}: no JSON on stdout: '${last}'`)); }
    });
  });
}

// ------------------------------------------------------------------- stats

const sorted = (xs) => [...xs].sort((a, b) => a - b);
export function median(xs) {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Nearest-rank percentile. */
export function pct(xs, p) {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ------------------------------------------------------------------- facts

function firstLine(cmd, args) {
  try { return run(cmd, args).split('\n')[0].trim(); } catch { return 'unknown'; }
}

export function machineFacts() {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  const dpkg = (p) => firstLine('dpkg-query', ['-W', '-f=${Version}', p]);
  let runtimeLibbpf = 'unknown';
  try { runtimeLibbpf = readFileSync(join(REPO, 'packages', 'runtime-c', 'build', 'VERSION'), 'utf8').split('\n')[0].trim(); } catch { /* not built */ }
  return {
    date: new Date().toISOString(),
    kernel: release(),
    cpu,
    cores: typeof availableParallelism === 'function' ? availableParallelism() : cpus().length,
    node: process.version,
    bpftool: firstLine('bpftool', ['version']),
    cc: firstLine('cc', ['--version']),
    // the peer links this one (-lbpf)
    systemLibbpf: `libbpf1 ${dpkg('libbpf1')} (libbpf-dev ${dpkg('libbpf-dev')})`,
    // bpf.so has this one inside (packages/runtime-c/build/VERSION)
    runtimeLibbpf,
  };
}

// ---------------------------------------------------------------- markdown

export const mdTable = (rows) => {
  const [head, ...body] = rows;
  const sep = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [head, sep, ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
};

export const times = (x) => `${x.toFixed(2)}×`;
