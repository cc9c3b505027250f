/**
 * End to end, as a user would: `coolbpf-gen build examples/hello/hello.bpf.c
 * --lang rust`, then a cargo project elsewhere that depends on DIR/rust by
 * path, runs on the kernel (the bpf.so embedded in the crate), sees an exec
 * as a typed event and in a typed map, and exits. The CLI's output is the
 * same bytes when built into another directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cargoEnv, hasCargo, repoRoot } from './cases.testutil.js';

const why =
  !hasCargo() ? 'cargo is not installed'
  : process.getuid?.() !== 0 ? 'not root'
  : !statSync('/sys/kernel/btf/vmlinux', { throwIfNoEntry: false }) ? 'no kernel BTF'
  : null;
if (why) console.log(`skipping the generated hello crate on the kernel: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-rust-hello-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = join(repoRoot, 'packages', 'cli', 'bin', 'coolbpf-gen.js');
const build = (out: string) =>
  execFileSync(process.execPath, [cli, 'build', join(repoRoot, 'examples', 'hello', 'hello.bpf.c'), '--out', out, '--lang', 'rust'], { stdio: 'pipe' });

function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

const MAIN = `use std::time::{Duration, Instant};

fn main() -> hello::Result<()> {
    let mut h = hello::init(&hello::InitOptions::default())?;
    println!("state {}", h.object().state());
    std::process::Command::new("/bin/true").status().unwrap();
    let events = h.maps().events()?;
    let t0 = Instant::now();
    let mut seen = false;
    while !seen && t0.elapsed() < Duration::from_secs(5) {
        events.poll(Duration::from_millis(200), |e, _| {
            if e.comm == "true" {
                seen = true;
                println!("event {}", hello::Reflect::to_value(e).to_json());
            }
        })?;
    }
    let key = hello::CharArray::new("true")?;
    println!("count {}", h.maps().exec_counts()?.get(&key)?.unwrap_or(0));
    println!("dropped {}", h.bss()?.dropped());
    println!("only_uid {}", h.rodata()?.only_uid());
    h.destroy();
    println!("after destroy {}", h.maps().exec_counts().err().map(|e| e.code().to_string()).unwrap_or_default());
    Ok(())
}
`;

describe.skipIf(why !== null)('the generated hello crate, from the CLI, used by another project', () => {
  it('builds, runs on the kernel, reads a typed event and a typed map, and exits', () => {
    const out = join(dir, 'out');
    build(out);
    expect(readdirSync(join(out, 'rust')).sort()).toEqual(['Cargo.toml', 'bpf.so', 'coolbpf', 'src']);
    expect(readFileSync(join(out, 'rust', 'bpf.so'))).toEqual(readFileSync(join(out, 'bpf.so')));
    // the same bytes when built into another directory
    build(join(dir, 'again'));
    expect(tree(join(dir, 'again', 'rust'))).toEqual(tree(join(out, 'rust')));

    const app = join(dir, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'Cargo.toml'), `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nhello = { path = "../out/rust" }\n\n[workspace]\n`);
    writeFileSync(join(app, 'src', 'main.rs'), MAIN);
    const r = spawnSync('cargo', ['run', '--quiet'], { cwd: app, env: cargoEnv({ RUSTFLAGS: '-D warnings' }), encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('state attached');
    const ev = lines.find((l) => l.startsWith('event '));
    expect(ev, r.stdout).toBeDefined();
    const e = JSON.parse(ev!.slice('event '.length)) as Record<string, unknown>;
    expect(e).toMatchObject({ comm: 'true', uid: 0 });
    expect(typeof e['pid']).toBe('number');
    expect(Number(lines.find((l) => l.startsWith('count '))!.slice(6))).toBeGreaterThanOrEqual(1);
    expect(lines.slice(-3)).toEqual(['dropped 0', 'only_uid -1', 'after destroy EDESTROYED']);
  });
});
