/**
 * The generated crates, compiled: every fixture (little-endian), examples/hello
 * and the hostile model's crate in one cargo workspace (build/gen-rust-test,
 * target directory build/rust-target, shared with the other Rust builds of
 * the tests), with a checker program that uses each crate's types.
 *
 * - rustfmt --check passes on every generated lib.rs (it is generated formatted);
 * - cargo build with warnings denied, and cargo clippy (warnings denied) when installed;
 * - the layout every type reports (and Rust's size_of/align_of, which the
 *   generated compile-time assertions also pin) against the C compiler: a
 *   host C program over the object's types (bpftool's C dump of its BTF);
 * - clang's encoding of the layout fixture's fully initialized globals
 *   decodes to the C initializers, and encoding them back gives clang's bytes;
 * - every struct and union of every fixture round-trips values built from its
 *   layout plan through the typed fields and accessors (Reflect), one union
 *   member at a time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planLayout, type LayoutPlan, type StructPlan, type ValuePlan } from '@coolbpf/gen-core';
import { FULL_GLOBALS, cLayouts, globalBytes, noCProbe } from '@coolbpf/gen-core/testing';
import type { ObjectModel } from '@coolbpf/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_DIR, FIXTURES, cargoEnv, fixtureCase, generate, hasCargo, helloCase, materialize, type Case } from './cases.testutil.js';
import { HOSTILE } from './hostile.testutil.js';
import { buildView, generateRust } from './index.js';

const work = join(BUILD_DIR, 'gen-rust-test');
const noCargo = hasCargo() ? null : 'cargo is not installed (scripts/setup.sh checks for it; rustup puts it in ~/.cargo/bin)';
if (noCargo) console.log(`skipping the generated crates' compilation: ${noCargo}`);
const clippy = !noCargo && hasCargo(['clippy', '--version']);
if (!noCargo && !clippy) console.log('skipping cargo clippy on the generated crates: clippy is not installed');
if (noCProbe) console.log(`skipping the layout checks against the C compiler: ${noCProbe}`);

interface Crate {
  readonly name: string;
  readonly c: Case | null;
  readonly model: ObjectModel;
  readonly plan: LayoutPlan;
  readonly typeNames: ReadonlyMap<string, string>;
  readonly dir: string;
}

const crates: Crate[] = [];
const hello = helloCase();

function addCrate(name: string, c: Case | null, model: ObjectModel, files: Map<string, string>, typeNames: ReadonlyMap<string, string>): void {
  const dir = materialize(join(work, 'crates', name), files);
  crates.push({ name, c, model, plan: planLayout(model), typeNames, dir });
}

// ---- sample values, as Rust `Value` expressions and as what decoding must give back ----

type Json = null | boolean | number | string | bigint | Json[] | { [k: string]: Json };

function int(seed: number, size: number, signed: boolean): bigint {
  const bits = BigInt(size * 8);
  const u = (BigInt(seed) * 0x9e3779b97f4a7c15n + 0x1234n) & ((1n << bits) - 1n);
  return signed ? BigInt.asIntN(Number(bits), u) : u;
}

function rustInt(x: bigint, signed: boolean): string {
  if (signed && x === -(1n << 127n)) return 'coolbpf::Value::Int(i128::MIN)';
  return signed ? `coolbpf::Value::Int(${x})` : `coolbpf::Value::UInt(${x})`;
}

function rustStr(s: string): string {
  return JSON.stringify(s);
}

/** [Rust expression, expected JSON] of a value for a plan. */
function sample(plan: LayoutPlan, v: ValuePlan, seed: number, alt: number): [string, Json] {
  switch (v.kind) {
    case 'int': {
      const x = int(seed, v.size, v.signed);
      return [rustInt(x, v.signed), x];
    }
    case 'bool': return [`coolbpf::Value::Bool(${seed % 2 === 0})`, seed % 2 === 0];
    case 'float': {
      const x = v.size === 4 ? seed + 0.5 : seed + 0.25;
      return [`coolbpf::Value::Float(${x.toFixed(2)})`, x];
    }
    case 'pointer': {
      const x = 0xffff888800000000n + BigInt(seed);
      return [rustInt(x, false), x];
    }
    case 'enum': {
      const e = plan.get(v.key);
      const x = e.kind === 'enum' && e.values.length ? e.values[seed % e.values.length]!.value : 0n;
      return [rustInt(x, v.signed), x];
    }
    case 'string': {
      const s = 'abcdefghijklmnop'.slice(0, Math.max(0, Math.min(v.size - 1, 1 + (seed % 7))));
      return [`coolbpf::Value::Str(${rustStr(s)}.into())`, s];
    }
    case 'opaque': {
      const b = Array.from({ length: v.size }, (_, i) => (seed + i) & 0xff);
      return [`coolbpf::Value::Bytes(vec![${b.join(', ')}])`, b];
    }
    case 'array': {
      const build = (dims: readonly number[], s: number): [string, Json] => {
        if (dims.length === 0) return sample(plan, v.element, s, alt);
        const items = Array.from({ length: dims[0]! }, (_, i) => build(dims.slice(1), s * 3 + i));
        return [`coolbpf::Value::List(vec![${items.map((x) => x[0]).join(', ')}])`, items.map((x) => x[1])];
      };
      return build(v.dims, seed);
    }
    case 'struct':
    case 'union':
      return sampleStruct(plan, plan.struct(v.key), seed, alt);
  }
}

function sampleStruct(plan: LayoutPlan, s: StructPlan, seed: number, alt: number): [string, Json] {
  const rust: string[] = [];
  const want: Record<string, Json> = {};
  const fill = (nodes: StructPlan['body']) => {
    for (const n of nodes) {
      if (n.kind === 'overlay') {
        fill(n.alternatives[alt % n.alternatives.length]!.nodes);
        continue;
      }
      const f = n.field;
      const s2 = seed + f.offset * 7 + f.name.length;
      if (f.bits) {
        const w = f.bits.width;
        const u = (BigInt(s2) * 0x9e3779b97f4a7c15n) & ((1n << BigInt(w)) - 1n);
        const x = f.bits.signed ? BigInt.asIntN(w, u) : u;
        if (f.value.kind === 'bool') {
          rust.push(`(${rustStr(f.name)}, coolbpf::Value::Bool(${(x & 1n) === 1n}))`);
          want[f.name] = (x & 1n) === 1n;
        } else {
          rust.push(`(${rustStr(f.name)}, ${rustInt(x, f.bits.signed)})`);
          want[f.name] = x;
        }
      } else {
        const [r, j] = sample(plan, f.value, s2, alt);
        rust.push(`(${rustStr(f.name)}, ${r})`);
        want[f.name] = j;
      }
    }
  };
  fill(s.body);
  return [`coolbpf::Value::Struct(vec![${rust.join(', ')}])`, want];
}

/** Every key that was set decodes as set (unions decode more members); integers compared exactly. */
function expectContains(got: unknown, want: Json, path: string): void {
  if (typeof want === 'bigint' || (typeof want === 'number' && Number.isInteger(want) && typeof got !== 'number')) {
    expect([path, BigInt(got as string | number)]).toEqual([path, BigInt(want as bigint | number)]);
  } else if (Array.isArray(want)) {
    expect((got as unknown[]).length, path).toBe(want.length);
    want.forEach((w, i) => expectContains((got as unknown[])[i], w, `${path}[${i}]`));
  } else if (want !== null && typeof want === 'object') {
    for (const [k, v] of Object.entries(want)) expectContains((got as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else expect([path, got]).toEqual([path, want]);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---- the checker program ----

const HELPERS = `
macro_rules! helpers {
    ($k:ident) => {
        use $k::coolbpf::{self, CStruct, Reflect};
        use std::mem::{align_of, size_of};

        fn hex(b: &[u8]) -> String {
            b.iter().map(|x| format!("{x:02x}")).collect()
        }

        fn unhex(s: &str) -> Vec<u8> {
            (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
        }

        fn layout<T: CStruct>() {
            let l = T::LAYOUT;
            println!("type|{}|{}|{}|{}|{}|{}", stringify!($k), l.name, size_of::<T>(), align_of::<T>(), l.size, l.align);
            for f in l.fields {
                let bits = f.bits.map_or("-".to_string(), |(o, w)| format!("{o}:{w}"));
                println!("field|{}|{}|{}|{}|{}|{}", stringify!($k), l.name, f.name, f.offset, f.size, bits);
            }
        }

        fn decode<T: CStruct>(tag: &str, bytes: &str) {
            let b = unhex(bytes);
            let x: T = coolbpf::pod::from_bytes(&b).unwrap();
            let v = x.to_value();
            let back = T::from_value(&v).unwrap();
            println!("decode|{}|{tag}|{}|{}", stringify!($k), hex(coolbpf::pod::as_bytes(&back)), v.to_json());
        }

        fn sample<T: CStruct>(tag: &str, v: coolbpf::Value) {
            match T::from_value(&v) {
                Ok(x) => {
                    let back = x.to_value();
                    let again = T::from_value(&back).unwrap();
                    let same = coolbpf::pod::as_bytes(&again) == coolbpf::pod::as_bytes(&x);
                    println!("sample|{}|{tag}|{same}|{}|{}", stringify!($k), hex(coolbpf::pod::as_bytes(&x)), back.to_json());
                }
                Err(e) => println!("sample|{}|{tag}|error|{}", stringify!($k), e.to_string().replace('\\n', " ")),
            }
        }
    };
}
`;

function checkerSource(): string {
  const mods: string[] = [];
  for (const k of crates) {
    const body: string[] = [];
    for (const t of k.plan.ordered) {
      if (t.kind === 'enum') continue;
      const rust = `${k.name}::${k.typeNames.get(t.key)}`;
      body.push(`        layout::<${rust}>();`);
      [[1, 0], [2, 1], [3, 2], [5, 3]].forEach(([seed, alt], i) => {
        const [expr] = sampleStruct(k.plan, t, seed!, alt!);
        body.push(`        sample::<${rust}>(${JSON.stringify(`${t.key}#${i}`)}, ${expr});`);
      });
    }
    if (k.name === 'layout' && k.c) {
      for (const [g, key] of FULL_GLOBALS) body.push(`        decode::<layout::${k.typeNames.get(key)}>(${JSON.stringify(g)}, "${hex(globalBytes(k.c.file, k.model, '.data', g))}");`);
    }
    mods.push(`mod c_${k.name} {\n    helpers!(${k.name});\n\n    pub fn run() {\n${body.join('\n')}\n    }\n}`);
  }
  return `#![allow(unused, dead_code, clippy::all)]\n${HELPERS}\n${mods.join('\n\n')}\n\nfn main() {\n${crates.map((k) => `    c_${k.name}::run();`).join('\n')}\n}\n`;
}

interface Output {
  types: Map<string, { rustSize: number; rustAlign: number; size: number; align: number }>;
  fields: Map<string, { offset: number; size: number; bits: string }>;
  decodes: Map<string, { hex: string; json: unknown }>;
  samples: Map<string, { same: string; hex: string; json: unknown }>;
}

function parseOutput(text: string): Output {
  const out: Output = { types: new Map(), fields: new Map(), decodes: new Map(), samples: new Map() };
  for (const line of text.trim().split('\n')) {
    const [what, k, ...r] = line.split('|');
    if (what === 'type') out.types.set(`${k}|${r[0]}`, { rustSize: +r[1]!, rustAlign: +r[2]!, size: +r[3]!, align: +r[4]! });
    else if (what === 'field') out.fields.set(`${k}|${r[0]}|${r[1]}`, { offset: +r[2]!, size: +r[3]!, bits: r[4]! });
    else if (what === 'decode') out.decodes.set(`${k}|${r[0]}`, { hex: r[1]!, json: JSON.parse(r[2]!) });
    else if (what === 'sample') out.samples.set(`${k}|${r[0]}`, { same: r[1]!, hex: r[2]!, json: r[1] === 'error' ? r[2] : JSON.parse(r[3]!) });
  }
  return out;
}

let built: { ok: boolean; log: string } = { ok: false, log: 'not built' };
let output: Output | null = null;

describe.skipIf(noCargo !== null)('generated crates compile and behave', () => {
  beforeAll(() => {
    rmSync(join(work, 'checker'), { recursive: true, force: true });
    for (const name of FIXTURES) {
      const c = fixtureCase(name);
      const { model, files, typeNames } = generate(c);
      addCrate(name, c, model, files, typeNames);
    }
    if (hello.case) {
      const { model, files, typeNames } = generate(hello.case);
      addCrate('hello', hello.case, model, files, typeNames);
    }
    const options = { objectName: 'program', objectFile: 'program.bpf.o', sha256: 'ab'.repeat(32), version: '9.9.9' };
    addCrate('program', null, HOSTILE, generateRust(HOSTILE, options), buildView(HOSTILE, options, 1).typeNames);
    mkdirSync(join(work, 'checker', 'src'), { recursive: true });
    const deps = crates.map((k) => `${k.name} = { path = "../crates/${k.name}" }`).join('\n');
    writeFileSync(join(work, 'checker', 'Cargo.toml'), `[package]\nname = "checker"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n${deps}\n`);
    writeFileSync(join(work, 'checker', 'src', 'main.rs'), checkerSource());
    const members = [...crates.map((k) => `"crates/${k.name}"`), '"checker"'].join(', ');
    writeFileSync(join(work, 'Cargo.toml'), `[workspace]\nmembers = [${members}]\nresolver = "2"\n`);
    const r = spawnSync('cargo', ['build', '--workspace', '--quiet'], { cwd: work, env: cargoEnv({ RUSTFLAGS: '-D warnings' }), encoding: 'utf8', maxBuffer: 1 << 28 });
    built = { ok: r.status === 0, log: `${r.stdout}${r.stderr}` };
    if (built.ok) {
      const run = spawnSync(join(cargoEnv().CARGO_TARGET_DIR!, 'debug', 'checker'), { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (run.status !== 0) built = { ok: false, log: `checker failed: ${run.stderr}` };
      else output = parseOutput(run.stdout);
    }
  });

  it('rustfmt --check passes on every generated lib.rs (edition 2021, default settings)', () => {
    for (const k of crates) {
      const r = spawnSync('rustfmt', ['--check', '--edition', '2021', join(k.dir, 'src', 'lib.rs')], { env: cargoEnv(), encoding: 'utf8' });
      expect([k.name, r.status, r.stdout.slice(0, 3000)]).toEqual([k.name, 0, '']);
    }
  });

  it('cargo build of every crate with warnings denied', () => {
    expect(built.log).toBe(built.ok ? built.log : '');
    expect(built.ok).toBe(true);
  });

  it.skipIf(!clippy)('cargo clippy finds nothing (warnings denied)', () => {
    const r = spawnSync('cargo', ['clippy', '--workspace', '--quiet', '--', '-D', 'warnings'], { cwd: work, env: cargoEnv({ RUSTFLAGS: '-D warnings' }), encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('every type reports its layout, and Rust lays it out the same (size_of, align_of)', () => {
    expect(output).not.toBeNull();
    let n = 0;
    for (const k of crates) {
      for (const t of k.plan.ordered) {
        if (t.kind === 'enum') continue;
        const name = k.typeNames.get(t.key)!;
        const got = output!.types.get(`${k.name}|${name}`)!;
        expect([k.name, name, got]).toEqual([k.name, name, { rustSize: t.size, rustAlign: t.packed ? 1 : t.align, size: t.size, align: t.align }]);
        for (const f of t.fields) {
          const l = output!.fields.get(`${k.name}|${name}|${f.name}`);
          expect([name, f.name, l]).toEqual([name, f.name, { offset: f.offset, size: f.size, bits: f.bits ? `${f.bits.bitOffset}:${f.bits.width}` : '-' }]);
        }
        n++;
      }
    }
    expect(n).toBeGreaterThan(40);
  });

  it.skipIf(noCProbe !== null)('generated layouts agree with the C compiler (host): sizes, alignments, field offsets and sizes', () => {
    let fields = 0;
    for (const k of crates) {
      if (!k.c || k.name === 'hello') continue;
      const structs = k.plan.ordered.filter((t): t is StructPlan => t.kind !== 'enum');
      if (structs.length === 0) continue;
      for (const line of cLayouts(k.c.file, k.plan, structs, join(work, 'probe', k.name))) {
        const { key } = line;
        const t = structs.find((s) => s.key === key)!;
        const name = k.typeNames.get(key)!;
        if (line.what === 'size') {
          const got = output!.types.get(`${k.name}|${name}`)!;
          expect([key, got.size, got.rustSize]).toEqual([key, line.size, line.size]);
          if (!t.packed) expect([key, 'align', got.align, got.rustAlign]).toEqual([key, 'align', line.align, line.align]);
          continue;
        }
        const got = output!.fields.get(`${k.name}|${name}|${line.field}`)!;
        expect([key, line.field, got.offset, got.size]).toEqual([key, line.field, line.offset, line.size]);
        fields++;
      }
    }
    expect(fields).toBeGreaterThanOrEqual(100);
  });

  it("clang's initialized globals decode to the C initializers, and encode back to clang's bytes", () => {
    const k = crates.find((x) => x.name === 'layout')!;
    for (const [g, , want] of FULL_GLOBALS) {
      const d = output!.decodes.get(`layout|${g}`)!;
      expectContains(d.json, want, g);
      expect([g, d.hex]).toEqual([g, hex(globalBytes(k.c!.file, k.model, '.data', g))]);
    }
  });

  it('every struct and union of every fixture round-trips values built from its plan (one union member at a time)', () => {
    let checked = 0;
    for (const k of crates) {
      for (const t of k.plan.ordered) {
        if (t.kind === 'enum') continue;
        [[1, 0], [2, 1], [3, 2], [5, 3]].forEach(([seed, alt], i) => {
          const [, want] = sampleStruct(k.plan, t, seed!, alt!);
          const s = output!.samples.get(`${k.name}|${t.key}#${i}`)!;
          expect([k.name, t.key, s.same]).toEqual([k.name, t.key, 'true']);
          expectContains(s.json, want, `${k.name} ${t.key}`);
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(150);
  });
});
