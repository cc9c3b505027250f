// The HTTP load of bench/net-observe.mjs: C keep-alive connections to
// 127.0.0.1:PORT, each sending POSTs of 64 bytes back to back for S seconds
// (after a 0.5 s warmup). Prints {"requests": n, "seconds": s} (the measured window).
//   node load.mjs PORT CONNECTIONS SECONDS
import http from 'node:http';

const [port, conns, seconds] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const body = Buffer.alloc(64, 'b');
let measuring = false;
let stop = false;
let count = 0;

function one() {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function worker() {
  while (!stop) {
    await one();
    if (measuring) count++;
  }
}

const workers = Array.from({ length: conns }, worker);
await new Promise((r) => setTimeout(r, 500));
measuring = true;
const t0 = process.hrtime.bigint();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const measured = count;
stop = true;
await Promise.all(workers);
agent.destroy();
process.stdout.write(`${JSON.stringify({ requests: measured, seconds: elapsed })}\n`);
