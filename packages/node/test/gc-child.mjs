// Run by src/gc.test.ts with --expose-gc: an object nobody destroy()s is
// destroyed by the garbage collector once nothing made from it is reachable,
// and not before (a live section view keeps its memory mapped).
//
//   node --expose-gc gc-child.mjs BPF_SO
import { readdirSync, readlinkSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { loadLibrary, TypedEvents, TypedMap, codecs } from '../dist/index.js';

/** this process's BPF fds by kind: programs, maps, links */
function bpfFds() {
  const n = { prog: 0, map: 0, link: 0 };
  for (const fd of readdirSync('/proc/self/fd')) {
    let t = '';
    try { t = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (t === 'anon_inode:bpf-prog') n.prog++;
    else if (t === 'anon_inode:bpf-map') n.map++;
    else if (t === 'anon_inode:bpf_link') n.link++;
  }
  return n;
}
async function collect() {
  for (let i = 0; i < 5; i++) {
    globalThis.gc();
    await turn();
  }
}

const lib = loadLibrary(process.argv[2]);
const before = bpfFds();
let view;
(() => {
  const o = lib.open();
  o.load();
  o.attach();
  new TypedEvents(o.events('rt_events'), { size: 32, decode: () => 0, encode() {} }, true).drain();
  new TypedMap(o.map('rt_kv'), codecs.u32, codecs.bytes(24), true).set(1, new Uint8Array(24));
  view = o.section('.bss');
})();
const loaded = bpfFds();
await collect();
// only the .bss view is left: the object must still be there, its memory mapped
const whileViewed = bpfFds();
const read = String(view.getBigUint64(0, true) >= 0n);
view = undefined;
await collect();
const after = bpfFds();
console.log(JSON.stringify({ before, loaded, whileViewed, read, after }));
