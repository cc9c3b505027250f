#!/usr/bin/env node
// init() latency of a generated Node package (`coolbpf-gen build X.bpf.c
// --lang node`), the Node peer of init-coolbpf.c and init-skel.c: in a fresh
// node process,
//
//   boot     node's start-up until this script runs (performance.now() at its top)
//   import   `await import(PKG_ENTRY)`: the generated module and the runtime's JS
//   dlopen   the runtime's loadLibrary() of the package's bpf.so, as init()
//            would do on its first call: require() of the native addon,
//            dlopen(bpf.so), its ABI version and object SHA-256 checked. Done
//            first and timed apart, so that init() below is the object's work
//            alone (init() then finds the library loaded: one realpath and a
//            lookup)
//   init     ROUNDS times init({ rodata }) (open + set .rodata + load + attach,
//            timed) and destroy() (timed apart); the first is the cold one
//
//   node init-node.mjs PKG_ENTRY ROUNDS [NAME=VALUE ...]
//
// NAME=VALUE: .rodata values passed to init() (VALUEn: a bigint, else a
// number; the value "pid" is this process's pid). Prints
// {"boot_us":..,"import_us":..,"dlopen_us":..,"init_us":[..],"destroy_us":[..]}
// on stdout; fails loudly.
const tBoot = performance.now();

import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function die(msg) {
  process.stderr.write(`init-node: ${msg}\n`);
  process.exit(1);
}

const [entry, roundsArg, ...sets] = process.argv.slice(2);
if (!entry || !roundsArg) die('usage: init-node.mjs PKG_ENTRY ROUNDS [NAME=VALUE ...]');
const rounds = Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) die(`ROUNDS must be 1..1000, got '${roundsArg}'`);
const rodata = {};
for (const s of sets) {
  const m = /^(\w+)=(pid|-?\d+n?)$/.exec(s);
  if (!m) die(`expected NAME=VALUE (an integer, VALUEn for a bigint, or pid), got '${s}'`);
  rodata[m[1]] = m[2] === 'pid' ? process.pid : m[2].endsWith('n') ? BigInt(m[2].slice(0, -1)) : Number(m[2]);
}

const us = (ms) => Math.round(ms * 10000) / 10;

// the package's runtime: DIR/node/dist/index.js imports DIR/node/runtime/index.js
const pkgDir = dirname(dirname(resolve(entry)));
let t0 = performance.now();
const pkg = await import(pathToFileURL(entry).href);
const rt = await import(pathToFileURL(join(pkgDir, 'runtime', 'index.js')).href);
const tImport = performance.now() - t0;

t0 = performance.now();
// the path init() loads by default (bpf.so beside the package), the checks it makes
rt.loadLibrary(join(pkgDir, 'bpf.so'), { abiVersion: pkg.ABI_VERSION, sha256: pkg.OBJECT_SHA256 });
const tDlopen = performance.now() - t0;

const init = [], destroy = [];
for (let i = 0; i < rounds; i++) {
  t0 = performance.now();
  let skel;
  try {
    skel = pkg.init({ rodata });
  } catch (e) {
    die(`init() (round ${i + 1}): ${e?.stack ?? e}`);
  }
  init.push(us(performance.now() - t0));
  t0 = performance.now();
  skel.destroy();
  destroy.push(us(performance.now() - t0));
}
process.stdout.write(`${JSON.stringify({ boot_us: us(tBoot), import_us: us(tImport), dlopen_us: us(tDlopen), init_us: init, destroy_us: destroy })}\n`);
