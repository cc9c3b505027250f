// The peer of bench/server.mjs's cached-artifact figures: a bare node:http
// server that reads the request body and answers a buffer of the given size,
// nothing else. Prints its port on stdout.
import { createServer } from 'node:http';

const size = Number(process.argv[2]);
const body = Buffer.alloc(size, 7);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Length': body.length, 'X-Coolbpf-Cache': 'hit' });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
