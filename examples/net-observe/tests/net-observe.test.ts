// End to end, per language: each app watches a real peer (a Node http
// server; redis-server driven by redis-benchmark) by its pid, and what it
// reports with --json must equal the traffic the test made.
import { afterEach, describe, expect, it } from 'vitest';
import {
  apps, driveHttp, killAll, notRoot, redisBenchmark, redisCommands, redisMissing, serverClosed, serverClosed6, sleep, startApp, startHttpServer, startRedis,
} from './harness.js';

afterEach(killAll);

const REQUESTS = 20;

for (const app of apps) {
  const why = notRoot() ?? app.missing();
  if (why) console.log(`net-observe ${app.name}: skipped: ${why}`);
  describe.skipIf(why !== undefined)(`net-observe (${app.name})`, () => {
    it(`counts ${REQUESTS} keep-alive HTTP requests and their bytes exactly, attributed to the server's pid and port`, async () => {
      const server = await startHttpServer();
      const observer = await startApp(app, ['--pid', String(server.pid)]);
      const sent = await driveHttp(server.port, REQUESTS);
      await serverClosed(server.port, sent.localPort);
      await sleep(100);
      const report = await observer.stop();
      await server.stop();

      expect(sent.responses).toBe(REQUESTS);
      const mine = report.connections.filter((c) => c.remote_port === sent.localPort);
      expect(mine).toHaveLength(1);
      const c = mine[0]!;
      expect(c).toMatchObject({
        pid: server.pid, role: 'server', protocol: 'http', local_port: server.port, local_addr: '127.0.0.1',
        requests: REQUESTS, bytes_in: sent.bytesWritten, bytes_out: sent.bytesRead, closed: true,
      });
      expect(c.p50_ms).toBeGreaterThan(0);
      expect(c.p99_ms).toBeGreaterThanOrEqual(c.p50_ms!);
      expect(c.p99_ms).toBeLessThan(1000); // loopback: well under a second
      // only the server's connections: the test's own client end is another process
      expect(report.connections.every((x) => x.pid === server.pid)).toBe(true);
      expect(report.dropped).toBe(0);
    }, 120_000);

    it('counts the client side too: connect() makes the connection, the test process is the client', async () => {
      const server = await startHttpServer();
      try {
        const observer = await startApp(app, ['--pid', String(process.pid), '--port', String(server.port)]);
        const sent = await driveHttp(server.port, REQUESTS);
        await sleep(200);
        const report = await observer.stop();

        expect(report.connections).toHaveLength(1);
        expect(report.connections[0]).toMatchObject({
          pid: process.pid, role: 'client', protocol: 'http', local_port: sent.localPort, remote_port: server.port,
          remote_addr: '127.0.0.1', requests: REQUESTS, bytes_out: sent.bytesWritten, bytes_in: sent.bytesRead, closed: true,
        });
      } finally {
        await server.stop();
      }
    }, 120_000);

    it('reports a dual-stack server\'s IPv4 connection with IPv4-mapped IPv6 addresses', async () => {
      const server = await startHttpServer('::');
      try {
        const observer = await startApp(app, ['--pid', String(server.pid)]);
        const sent = await driveHttp(server.port, 3);
        await serverClosed6(server.port, sent.localPort);
        const report = await observer.stop();

        const mine = report.connections.filter((c) => c.remote_port === sent.localPort);
        expect(mine).toHaveLength(1);
        expect(mine[0]).toMatchObject({
          local_addr: '::ffff:127.0.0.1', remote_addr: '::ffff:127.0.0.1', local_port: server.port,
          protocol: 'http', requests: 3, bytes_in: sent.bytesWritten, bytes_out: sent.bytesRead,
        });
      } finally {
        await server.stop();
      }
    }, 120_000);

    const noRedis = redisMissing();
    if (noRedis) console.log(`net-observe ${app.name} redis: skipped: ${noRedis}`);
    it.skipIf(noRedis !== undefined)("counts redis-benchmark requests per connection exactly, attributed to redis-server's pid and port", async () => {
      const redis = await startRedis();
      try {
        const before = redisCommands(redis.port);
        const observer = await startApp(app, ['--pid', String(redis.pid), '--port', String(redis.port)]);
        redisBenchmark(redis.port, 200); // -c 1 -t set,get: 2 × 200 requests, one at a time
        await sleep(300);
        const report = await observer.stop();
        const ran = redisCommands(redis.port) - before - 1; // - the first INFO

        expect(report.connections.length).toBeGreaterThanOrEqual(2);
        for (const c of report.connections) {
          expect(c).toMatchObject({ pid: redis.pid, comm: 'redis-server', local_port: redis.port, protocol: 'redis', role: 'server' });
        }
        // the SET and the GET connections, each 200 commands, one at a time
        const byRequests = report.connections.map((c) => c.requests).sort((a, b) => b - a);
        expect(byRequests.slice(0, 2)).toEqual([200, 200]);
        // the rest is redis-benchmark's own setup; pipelined commands (its
        // CONFIG GETs go in one write) are one request/response exchange
        const requests = byRequests.reduce((n, r) => n + r, 0);
        expect(requests).toBeGreaterThan(400);
        expect(requests).toBeLessThanOrEqual(ran);
      } finally {
        await redis.stop();
      }
    }, 180_000);
  });
}
