// Run by src/exit.test.ts as its own process: worker threads use the
// runtime and end (terminated while a subscription waits, or by returning
// after destroy()); then the main thread uses it. Prints one JSON line.
//
//   node worker-child.mjs BPF_SO
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadLibrary, TypedEvents } from '../dist/index.js';

if (isMainThread) {
  const bpfSo = process.argv[2];
  const exits = {};
  for (const mode of ['terminate', 'return']) {
    const w = new Worker(new URL(import.meta.url), { workerData: { mode, bpfSo } });
    w.on('message', (m) => { if (m === 'waiting' && mode === 'terminate') void w.terminate(); });
    exits[mode] = await new Promise((r) => w.on('exit', r));
  }
  const o = loadLibrary(bpfSo).open();
  o.load();
  o.destroy();
  console.log(JSON.stringify({ exits, main: o.state }));
} else {
  const { mode, bpfSo } = workerData;
  const o = loadLibrary(bpfSo).open();
  o.load();
  o.attach();
  const ev = new TypedEvents(o.events('rt_events'), { size: 32, decode: () => 1, encode() {} }, true);
  const sub = ev.subscribe(() => {});
  const iterating = (async () => { for await (const _ of ev.iterate()) { /* nothing comes */ } })();
  o.section('.bss');
  parentPort.postMessage('waiting');
  if (mode === 'return') {
    setTimeout(() => { sub.stop(); o.destroy(); }, 50);
    await iterating;
  }
}
