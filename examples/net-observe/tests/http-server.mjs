// The HTTP peer of the tests and the benchmark: a Node http server on
// 127.0.0.1:0, or $HOST (prints its port) answering every request with a body of
// 2 × the request body's length + 1 bytes.
import http from 'node:http';

const server = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => {
    const body = Buffer.alloc(n * 2 + 1, 'r');
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, process.env.HOST ?? '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
