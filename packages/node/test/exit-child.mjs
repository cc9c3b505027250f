// Run by src/exit.test.ts as its own process: uses the built package
// (dist/) like an application would, then stops reading in one of several
// ways and returns WITHOUT process.exit(): the test checks that the process
// ends by itself, i.e. that no handle of the runtime keeps the loop alive.
//
//   node exit-child.mjs BPF_SO HELPER TGID_OFFSET MODE
//   MODE: destroy   destroy() while an iterator waits and a subscription runs
//         abort     abort the iterator, stop the subscription, close nothing
//         close     close the reader, keep the object
//         idle      open a reader, never wait on it
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadLibrary, TypedEvents } from '../dist/index.js';

const [bpfSo, helperPath, tgidOffset, mode] = process.argv.slice(2);
const Ev = { size: 32, decode: (v, o) => ({ kind: v.getUint32(o, true), pid: v.getUint32(o + 8, true) }), encode() {} };

const helper = spawn(helperPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: helper.stdout })[Symbol.asyncIterator]();
const pid = Number(String((await lines.next()).value).split(' ')[1]);
const run = async (cmd) => {
  helper.stdin.write(`${cmd}\n`);
  await lines.next();
};

const o = loadLibrary(bpfSo).open();
o.setInitial('.rodata', Number(tgidOffset), new Uint8Array(new Uint32Array([pid]).buffer));
o.load();
o.attach();
const events = new TypedEvents(o.events('rt_events'), Ev, true);
const result = { mode, iterated: 0, subscribed: 0, iteratorEnded: false, subscriptionDone: false };

if (mode !== 'idle') {
  const ac = new AbortController();
  // iterator and subscription share one reader: count both
  const iterating = (async () => {
    for await (const e of events.iterate({ signal: ac.signal })) if (e.pid === pid) result.iterated++;
    result.iteratorEnded = true;
  })();
  const sub = events.subscribe((e) => { if (e.pid === pid) result.subscribed++; });
  sub.done.then(() => { result.subscriptionDone = true; });
  await run('ppid 50');
  while (result.iterated + result.subscribed < 50) await new Promise((r) => setTimeout(r, 5));
  if (mode === 'destroy') o.destroy();
  else if (mode === 'abort') { ac.abort(); sub.stop(); }
  else if (mode === 'close') events.raw.close();
  await iterating;
  await sub.done;
}
helper.stdin.end();
await new Promise((r) => helper.once('exit', r));
console.log(JSON.stringify({ ...result, state: o.state }));
// returning here: nothing must keep the process alive
