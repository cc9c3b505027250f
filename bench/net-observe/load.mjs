// The HTTP load of bench/net-observe.mjs: C keep-alive connections to
// 127.0.0.1:PORT, each sending POSTs of 64 bytes back to back until SIGTERM.
// Prints one line per window of about WINDOW_MS milliseconds (default 50):
//   START END REQUESTS
// START and END in CLOCK_MONOTONIC seconds (process.hrtime), REQUESTS the
// responses completed in between (see bench/windows.mjs).
//   node load.mjs PORT CONNECTIONS [WINDOW_MS]
import http from 'node:http';

const [port, conns, windowMs = 50] = process.argv.slice(2).map(Number);
if (!(port > 0) || !(conns > 0) || !(windowMs > 0)) {
  process.stderr.write('usage: node load.mjs PORT CONNECTIONS [WINDOW_MS]\n');
  process.exit(1);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const body = Buffer.alloc(64, 'b');
const monotonic = () => Number(process.hrtime.bigint()) / 1e9;
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
    count++;
  }
}

let start = monotonic();
const flush = () => {
  const now = monotonic();
  process.stdout.write(`${start.toFixed(6)} ${now.toFixed(6)} ${count}\n`);
  start = now;
  count = 0;
};
const ticker = setInterval(flush, windowMs);
process.on('SIGTERM', () => { stop = true; });
try {
  await Promise.all(Array.from({ length: conns }, worker));
} catch (e) {
  stop = true;
  process.stderr.write(`load: ${e.message}\n`);
  process.exitCode = 1;
}
clearInterval(ticker);
flush();
agent.destroy();
