// The apps' libraries: the Node one here, the others through their own test
// runners (python -m unittest, go test, cargo test), all against the same
// expected output (tests/expected/); and the apps build without warnings
// (tsc --strict is the build; mypy --strict, go vet, cargo's warnings here).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEvent, parseOptions, renderHistogram, type SlowRead } from '../node/src/jitter.js';
import { dir } from './harness.js';

const expected = (name: string): string => readFileSync(join(dir, 'tests', 'expected', name), 'utf8').replace(/\n$/, '');
const addr = (prefix: number[]): Uint8Array => { const a = new Uint8Array(16); a.set(prefix); return a; };

describe('node library', () => {
  const ev4: SlowRead = { ts_ns: 123456789012n, delay_ns: 1000265000n, pid: 4242, queue_cpu: 1, read_cpu: 0, family: 2, sport: 47001,
    dport: 49246, saddr: addr([127, 0, 0, 1]), daddr: addr([10, 199, 0, 2]), comm: 'python3' };
  const ev6: SlowRead = { ts_ns: 5n, delay_ns: 150000000n, pid: 1, queue_cpu: 0, read_cpu: 1, family: 10, sport: 443, dport: 50000,
    saddr: addr([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), daddr: addr([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]),
    comm: 'srv "x"\\' };

  it('formats slow reads as text and JSON (IPv4, IPv6)', () => {
    for (const [name, ev] of [['event4', ev4], ['event6', ev6]] as const) {
      expect(formatEvent(ev, false)).toBe(expected(`${name}.txt`));
      expect(formatEvent(ev, true)).toBe(expected(`${name}.json`));
    }
  });

  it('renders the histogram as text and JSON', () => {
    const counts = Array<bigint>(32).fill(0n);
    counts[0] = 3n; counts[3] = 1n; counts[19] = 2n;
    expect(renderHistogram(counts, false)).toBe(expected('histogram.txt'));
    expect(renderHistogram(counts, true)).toBe(expected('histogram.json'));
    expect(renderHistogram(Array<bigint>(32).fill(0n), false)).toBe(expected('histogram-empty.txt'));
    expect(renderHistogram(Array<bigint>(32).fill(0n), true)).toBe(expected('histogram-empty.json'));
  });

  it('parses options and refuses bad ones with a message', () => {
    expect(parseOptions([])).toEqual({ thresholdMs: 100, port: 0, durationS: 0, intervalS: 0, json: false });
    expect(parseOptions(['--threshold', '2.5', '--port', '8080', '--duration', '3', '--interval', '1', '--json']))
      .toEqual({ thresholdMs: 2.5, port: 8080, durationS: 3, intervalS: 1, json: true });
    expect(() => parseOptions(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseOptions(['--port', '1.5'])).toThrow(/--port: expected an integer/);
    expect(() => parseOptions(['--threshold'])).toThrow(/got nothing/);
    expect(() => parseOptions(['--threshold', '-1'])).toThrow(/--threshold/);
    expect(() => parseOptions(['--bogus'])).toThrow('unknown argument: --bogus');
  });
});

const cargoPath = `${process.env.PATH ?? ''}:${join(process.env.HOME || '/root', '.cargo', 'bin')}`;
const goEnv = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod' };
const cargoEnv = { ...process.env, PATH: cargoPath, CARGO_TARGET_DIR: join(dir, 'build', 'rust-target'), CARGO_TERM_COLOR: 'never' };
const mypy = join(dir, '..', '..', 'bindings-python', '.venv', 'bin', 'mypy');
const works = (cmd: string, args: string[], env = process.env): boolean => spawnSync(cmd, args, { env, stdio: 'ignore' }).status === 0;

function check(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 300_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  expect(r.status, `${cmd} ${args.join(' ')}:\n${output}`).toBe(0);
  return output;
}

const noPython = works('python3', ['--version']) ? undefined : 'python3 is not installed';
const noMypy = existsSync(mypy) ? undefined : `${mypy} is missing (scripts/setup.sh makes it)`;
const noGo = works('go', ['version']) ? undefined : 'go is not installed';
const noCargo = works('cargo', ['--version'], { ...process.env, PATH: cargoPath }) ? undefined : 'cargo is not installed';
for (const [what, why] of [['python', noPython], ['mypy', noMypy], ['go', noGo], ['rust', noCargo]] as const) {
  if (why) console.log(`tcp-jitter library tests (${what}): skipped: ${why}`);
}

describe('python library', () => {
  const env = { ...process.env, PYTHONPATH: `${join(dir, 'python')}:${join(dir, 'build', 'python')}` };
  it.skipIf(noPython !== undefined)('passes its unit tests (the same expected output)', () => {
    check('python3', ['-m', 'unittest', '-v', 'tests.test_core'], join(dir, 'python'), env);
  });
  it.skipIf(noMypy !== undefined)('is clean under mypy --strict', () => {
    check(mypy, ['--strict', 'python'], dir, { ...process.env, MYPYPATH: `${join(dir, 'build', 'python')}:${join(dir, 'python')}` });
  });
});

describe.skipIf(noGo !== undefined)('go library', () => {
  it('passes its unit tests (the same expected output) and go vet', () => {
    check('go', ['vet', './...'], join(dir, 'go'), goEnv);
    check('go', ['test', './jitter/'], join(dir, 'go'), goEnv);
  });
});

describe.skipIf(noCargo !== undefined)('rust library', () => {
  it('passes its unit tests (the same expected output), built without warnings', () => {
    const out = check('cargo', ['test', '--offline', '--release'], join(dir, 'rust'), cargoEnv);
    expect(out).not.toMatch(/^warning/m);
    expect(out).toMatch(/test result: ok\. 3 passed/);
  });
});

// The object is built once and shipped: its CO-RE relocations (the control
// block's fields, a u8 tcp_flags there, the socket's addresses) must resolve
// on an older kernel's BTF too, here Debian 12's 6.1.
describe('the BPF object', () => {
  const sharedBtf = join(dir, '..', '..', '..', 'shared', 'btf', 'debian-6.1.0-47-cloud-amd64.btf.gz');
  const noBtf = existsSync(sharedBtf) ? undefined : `${sharedBtf} does not exist`;
  if (noBtf) console.log(`tcp-jitter Debian 6.1 check: skipped: ${noBtf}`);
  it.skipIf(noBtf !== undefined)('resolves every CO-RE relocation against the BTF of Debian 12\'s 6.1 kernel', () => {
    const cli = join(dirname(createRequire(import.meta.url).resolve('coolbpf-gen/package.json')), 'bin', 'coolbpf-gen.js');
    const out = check(process.execPath, [cli, 'check', join(dir, 'build', 'bpf.o'), '--btf', sharedBtf], dir, process.env);
    expect(out).toMatch(/on_tcp_probe\s+tp_btf\/tcp_probe\s+✓/);
    expect(out).toMatch(/on_rcv_space_adjust\s+tp_btf\/tcp_rcv_space_adjust\s+✓/);
  });
});
