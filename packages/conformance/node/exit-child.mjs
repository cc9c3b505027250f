// Run by ringbuf's and perfbuf's "exit" case in a process of its own:
//   node exit-child.mjs <generated package's dist/index.js> <event map>
// Reads events through an aborted iteration and a stopped subscription,
// then returns from its top level without destroy() or process.exit(): the
// process must exit by itself. Prints one JSON line with what it read.
import { pathToFileURL } from 'node:url';

const [pkg, mapName] = process.argv.slice(2);
const g = await import(pathToFileURL(pkg).href);
const x = g.init({ rodata: { target_tgid: process.pid } });
const events = x.maps[mapName];
const trigger = (n) => {
  for (let i = 0; i < n; i++) void process.ppid;
};

trigger(3);
const ac = new AbortController();
const iterated = [];
for await (const ev of events.iterate({ signal: ac.signal })) {
  iterated.push(Number(ev.seq));
  if (iterated.length === 3) ac.abort();
}

const subscribed = [];
let wake;
const two = new Promise((r) => (wake = r));
const sub = events.subscribe((ev) => {
  subscribed.push(Number(ev.seq));
  if (subscribed.length === 2) wake();
});
trigger(2);
await two;
sub.stop();
await sub.done;
console.log(JSON.stringify({ iterated, subscribed }));
