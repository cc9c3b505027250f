// End to end, for each language's app: the tool attached with --json --port P,
// then TCP servers on port P that read late (1 s after their data was queued)
// or promptly, on loopback (IPv4 and IPv6) and across a veth pair between two
// network namespaces. A late read is reported once, with the server's pid and
// ports and a delay of 1 s ± 100 ms; a prompt one is not. SIGTERM prints the
// histogram of every read and exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apps, bpfIds, e2eUnavailable, exchange, freePort, killAll, makeNetns, Proc, reports, stillLoaded, type Netns, type Report } from './harness.js';

const unavailable = e2eUnavailable();
if (unavailable) console.log(`tcp-jitter e2e: skipped: ${unavailable}`);

let netns: Netns | undefined;
beforeAll(() => {
  if (!unavailable) netns = makeNetns(`cbj${process.pid}`);
});
afterAll(async () => {
  await killAll();
  netns?.remove();
});

/** The one report of the read whose client used clientPort, waiting for it to arrive. */
async function reportOf(tool: Proc, clientPort: number): Promise<Report> {
  await tool.waitFor(new RegExp(`"rport":${clientPort},`), 'out', 10_000);
  const mine = reports(tool.out).filter((r) => r.rport === clientPort);
  expect(mine).toHaveLength(1);
  return mine[0]!;
}

/** Waits long enough for a report of clientPort's read to have arrived, and says whether one did. */
async function reportedAtAll(tool: Proc, clientPort: number): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 1000));
  return reports(tool.out).some((r) => r.rport === clientPort);
}

for (const app of apps()) {
  const skip = unavailable ?? app.missing;
  if (skip && !unavailable) console.log(`tcp-jitter e2e (${app.lang}): skipped: ${skip}`);

  describe.skipIf(skip !== undefined)(`${app.lang} app`, () => {
    let tool: Proc;
    let port = 0;
    const reads: string[] = [];

    beforeAll(async () => {
      port = await freePort();
      tool = new Proc(app.cmd, [...app.args, '--json', '--port', String(port)], app.env);
      await tool.waitFor(/attached/, 'err', 60_000);
    });
    afterAll(() => tool?.kill());

    it('reports a loopback server that reads 1 s late, with its pid, ports and delay', async () => {
      const { serverPid, clientPort } = await exchange({ host: '127.0.0.1', port, delayS: 1 });
      reads.push('loopback slow');
      const r = await reportOf(tool, clientPort);
      expect(r).toMatchObject({ pid: serverPid, comm: 'python3', family: 'ipv4', local: '127.0.0.1', lport: port, remote: '127.0.0.1' });
      expect(Math.abs(r.delay_ms - 1000)).toBeLessThanOrEqual(100);
    });

    it('does not report a loopback server that reads promptly', async () => {
      const { clientPort } = await exchange({ host: '127.0.0.1', port, delayS: 0 });
      reads.push('loopback prompt');
      expect(await reportedAtAll(tool, clientPort)).toBe(false);
    });

    it('reports a late reader on IPv6 loopback with its addresses', async () => {
      const { serverPid, clientPort } = await exchange({ host: '::1', port, delayS: 1 });
      reads.push('ipv6 slow');
      const r = await reportOf(tool, clientPort);
      expect(r).toMatchObject({ pid: serverPid, family: 'ipv6', local: '::1', lport: port, remote: '::1' });
      expect(Math.abs(r.delay_ms - 1000)).toBeLessThanOrEqual(100);
    });

    it('reports a server across a veth pair (another network namespace) that reads 1 s late', async () => {
      const ns = netns!;
      const { serverPid, clientPort } = await exchange({ host: ns.serverAddr, port, delayS: 1, ns: ns.server, clientNs: ns.client });
      reads.push('veth slow');
      const r = await reportOf(tool, clientPort);
      expect(r).toMatchObject({ pid: serverPid, family: 'ipv4', local: ns.serverAddr, lport: port, remote: ns.clientAddr });
      expect(Math.abs(r.delay_ms - 1000)).toBeLessThanOrEqual(100);
    });

    it('does not report a server across the veth pair that reads promptly', async () => {
      const ns = netns!;
      const { clientPort } = await exchange({ host: ns.serverAddr, port, delayS: 0, ns: ns.server, clientNs: ns.client });
      reads.push('veth prompt');
      expect(await reportedAtAll(tool, clientPort)).toBe(false);
    });

    it('on SIGTERM prints the histogram of every read, exits 0 and leaves nothing loaded', async () => {
      const held = bpfIds(tool.child.pid!);
      expect(held.progs).toHaveLength(2);
      expect(held.maps.length).toBeGreaterThanOrEqual(3);
      tool.kill('SIGTERM');
      expect(await tool.exited).toBe(0);
      expect(await stillLoaded(held)).toEqual([]);
      const hist = tool.out.filter((l) => l.startsWith('{"histogram"')).map((l) => JSON.parse(l) as { histogram: { lo_us: number; hi_us: number; count: number }[] });
      expect(hist).toHaveLength(1);
      const slots = hist[0]!.histogram;
      // every exchange above read at least once; the three late ones are in the slot of 1 s
      expect(slots.reduce((n, s) => n + s.count, 0)).toBeGreaterThanOrEqual(reads.length);
      const slow = reads.filter((r) => r.endsWith('slow')).length;
      expect(slots.find((s) => s.lo_us <= 1_000_000 && 1_000_000 <= s.hi_us)?.count).toBe(slow);
      expect(reports(tool.out)).toHaveLength(slow);
    });

    it('with --duration exits by itself, printing the histogram every --interval and at the end', async () => {
      const timed = new Proc(app.cmd, [...app.args, '--json', '--port', String(await freePort()), '--duration', '1.5', '--interval', '0.5'], app.env);
      await timed.waitFor(/attached/, 'err', 60_000);
      const code = await Promise.race([timed.exited, new Promise((r) => setTimeout(() => r('still running 20 s later'), 20_000))]);
      timed.kill();
      expect(code).toBe(0);
      // at 0.5 s, 1 s (and perhaps 1.5 s) and on exit: nothing was read on that port, so every one is empty
      const hists = timed.out.filter((l) => l.startsWith('{"histogram"'));
      expect(hists.length).toBeGreaterThanOrEqual(3);
      expect(new Set(hists)).toEqual(new Set(['{"histogram":[]}']));
    });

    it('on Ctrl-C (SIGINT) prints the histogram as text and exits 0, leaving nothing loaded', async () => {
      const ctrlC = new Proc(app.cmd, [...app.args, '--port', String(await freePort())], app.env);
      await ctrlC.waitFor(/attached/, 'err', 60_000);
      const held = bpfIds(ctrlC.child.pid!);
      ctrlC.kill('SIGINT');
      expect(await ctrlC.exited).toBe(0);
      expect(ctrlC.out).toEqual(['delay histogram: no reads yet']);
      expect(await stillLoaded(held)).toEqual([]);
    });
  });
}
