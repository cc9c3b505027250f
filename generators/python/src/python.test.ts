/**
 * The generated packages run by Python itself (bindings-python/.venv, which
 * scripts/setup.sh makes): every file compiles, every package passes
 * `mypy --strict` (the runtime copy inside it included), its codecs turn
 * clang's bytes into the C initializers and back (both byte orders), every
 * struct and union of every fixture round-trips, and its layouts (SIZE,
 * ALIGN, FIELDS) equal the C compiler's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type StructPlan } from '@coolbpf/gen-core';
import { FULL_GLOBALS, cLayouts, noCProbe } from '@coolbpf/gen-core/testing';
import { readElf } from '@coolbpf/reader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, helloCase, materialize, pythonTools, runPython, type Case } from './cases.testutil.js';
import { hostileModel } from './hostile.testutil.js';
import { generatePython } from './index.js';

const { python, why } = pythonTools();
if (why) console.log(`skipping the Python checks of generated code: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-python-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hello = helloCase();

/** Every package the tests generate, laid out once: name → { pkg dir, module }. */
function packages(): Map<string, { pkg: string; module: string; c: Case | null }> {
  const out = new Map<string, { pkg: string; module: string; c: Case | null }>();
  const add = (tag: string, c: Case) => {
    const g = generate(c);
    out.set(tag, { pkg: materialize(join(dir, tag), g.files), module: g.module, c });
  };
  for (const name of FIXTURES) add(name, fixtureCase(name));
  add('layout-bpfeb', fixtureCase('layout', 'bpfeb'));
  add('globals-bpfeb', fixtureCase('globals', 'bpfeb'));
  if (hello.case) add('hello', hello.case);
  const files = generatePython(hostileModel, { objectName: 'program', objectFile: 'program.bpf.o', sha256: 'ab'.repeat(32), version: '9.9.9' });
  out.set('hostile', { pkg: materialize(join(dir, 'hostile'), files), module: 'program', c: null });
  return out;
}

describe.skipIf(python === null)('generated Python', () => {
  let pkgs: Map<string, { pkg: string; module: string; c: Case | null }>;
  beforeAll(() => {
    pkgs = packages();
  });

  it('every generated file compiles, and every module imports', () => {
    for (const [tag, { pkg, module }] of pkgs) {
      const out = runPython(python!, pkg, [
        'import pathlib, sys, importlib',
        'for p in sorted(pathlib.Path(".").rglob("*.py")):',
        '    compile(p.read_text(), str(p), "exec")',
        `m = importlib.import_module(${JSON.stringify(module)})`,
        'print(len(m.__all__))',
      ].join('\n'));
      expect(Number(out.trim()), tag).toBeGreaterThan(10);
    }
  });

  it('every generated package passes mypy --strict', () => {
    const cache = join(dir, '.mypy_cache');
    const failures: string[] = [];
    for (const [tag, { pkg, module }] of pkgs) {
      const r = spawnSync(python!, ['-m', 'mypy', '--strict', '--no-error-summary', '--cache-dir', cache, '-p', module], { cwd: pkg, encoding: 'utf8', env: { ...process.env, MYPYPATH: pkg } });
      if (r.status !== 0) failures.push(`${tag}:\n${r.stdout}${r.stderr}`);
    }
    expect(failures).toEqual([]);
  });

  // ---- codecs ----

  /** Prints JSON of values (ints as decimal strings, bytes as lists) and helpers to build values from it. */
  const PRELUDE = `
import dataclasses, json, sys, importlib, random, enum
def tojson(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return v
    if isinstance(v, bytes):
        return list(v)
    if isinstance(v, list):
        return [tojson(x) for x in v]
    return {f.name: tojson(getattr(v, f.name)) for f in dataclasses.fields(v)}
def like(e, t):
    """expect.json-style JSON as the value of the type of t (a decoded value)."""
    if isinstance(t, bool) or t is None or isinstance(t, str):
        return e
    if isinstance(t, int):
        return int(e)
    if isinstance(t, float):
        return float(e)
    if isinstance(t, bytes):
        return bytes(e)
    if isinstance(t, list):
        return [like(x, t[i] if i < len(t) else t[0]) for i, x in enumerate(e)]
    kw = {f.name: like(e[f.name], getattr(t, f.name)) for f in dataclasses.fields(t) if f.name in e}
    return type(t)(**kw)
`;

  // the C initializers of packages/fixtures/bpf/layout.bpf.c, as decimal strings
  const asJson = (v: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'boolean' ? x : String(x)]));

  for (const endian of ['bpfel', 'bpfeb'] as const) {
    it(`layout fixture (${endian}): clang's initialized globals decode to the C initializers, and encoding them gives clang's bytes`, () => {
      const tag = endian === 'bpfel' ? 'layout' : 'layout-bpfeb';
      const { pkg, module, c } = pkgs.get(tag)!;
      const g = generate(c!);
      const elf = readElf(readFileSync(c!.file));
      const data = elf.section('.data')!.data;
      const image = join(pkg, 'data.bin');
      writeFileSync(image, data);
      const dataSection = g.model.dataSections.find((s) => s.name === '.data')!;
      const jobs = FULL_GLOBALS.map(([name, key, want]) => ({
        name, cls: g.typeNames.get(key)!, offset: dataSection.variables.find((v) => v.name === name)!.offset, want: asJson(want),
      }));
      const out = JSON.parse(runPython(python!, pkg, `${PRELUDE}
m = importlib.import_module(sys.argv[1])
image = open("data.bin", "rb").read()
res = []
for j in json.loads(sys.argv[2]):
    cls = getattr(m, j["cls"])
    raw = image[j["offset"]:j["offset"] + cls.SIZE]
    v = cls.from_bytes(image, j["offset"])
    built = like(j["want"], v)
    buf = bytearray(b"\\xee" * (cls.SIZE + 8))
    built.pack_into(buf, 4)
    res.append({"name": j["name"], "decoded": tojson(v), "size": cls.SIZE, "raw": raw.hex(),
                "encoded": bytes(buf[4:4 + cls.SIZE]).hex(), "again": v.to_bytes().hex(),
                "guard": [buf[3], buf[4 + cls.SIZE]]})
print(json.dumps(res))
`, [module, JSON.stringify(jobs)])) as { name: string; decoded: unknown; size: number; raw: string; encoded: string; again: string; guard: number[] }[];
      for (const r of out) {
        const job = jobs.find((j) => j.name === r.name)!;
        expect([r.name, r.decoded]).toEqual([r.name, job.want]);
        expect([r.name, r.encoded]).toEqual([r.name, r.raw]);
        expect([r.name, r.again]).toEqual([r.name, r.raw]);
        expect(r.guard).toEqual([0xee, 0xee]);
      }
      expect(out).toHaveLength(FULL_GLOBALS.length);
    });
  }

  it('every struct and union of every fixture round-trips (decode, encode, decode: the same bytes), in both byte orders', () => {
    for (const [tag, { pkg, module }] of pkgs) {
      const out = JSON.parse(runPython(python!, pkg, `${PRELUDE}
m = importlib.import_module(sys.argv[1])
from ${module}._coolbpf import Struct
rnd = random.Random(7)
checked = 0
for name in m.__all__:
    cls = getattr(m, name)
    if not (isinstance(cls, type) and issubclass(cls, Struct) and cls is not Struct):
        continue
    assert cls._cb_codec.size == cls.SIZE, name
    for seed in range(4):
        b0 = bytes(0 if rnd.random() < 0.1 else rnd.randrange(0x20, 0x7f) for _ in range(cls.SIZE))
        x = cls.from_bytes(b0)
        b1 = x.to_bytes()
        y = cls.from_bytes(b1)
        b2 = y.to_bytes()
        assert b1 == b2, (name, b0.hex(), b1.hex(), b2.hex())
        assert len(b1) == cls.SIZE
        # a default value (C's zero) encodes, unions excepted (no member set)
        checked += 1
    try:
        z = cls().to_bytes()
        assert z == bytes(cls.SIZE) or cls.SIZE == 0 or z is not None, name
    except ValueError as e:
        assert "no member set" in str(e), (name, e)
print(json.dumps({"checked": checked}))
`, [module])) as { checked: number };
      if (['layout', 'kinds', 'globals', 'maps', 'events'].includes(tag)) expect(out.checked, tag).toBeGreaterThan(0);
    }
  });

  it('semantics: unions, strings, arrays, bitfields, enums, range checks naming the field', () => {
    const { pkg } = pkgs.get('layout')!;
    const out = runPython(python!, pkg, `${PRELUDE}
import layout as m
U = m.LayoutNamed
b = U(halves=[1]).to_bytes()
d = U.from_bytes(b)
assert (d.raw, d.halves, d.bytes_) == (1, [1, 0], bytes([1, 0, 0, 0, 0, 0, 0, 0])), d
assert U.from_bytes(d.to_bytes()) == d
d.raw = 2
try:
    d.to_bytes(); raise SystemExit("no error for disagreeing members")
except ValueError as e:
    assert "union layout_named: members raw, halves, bytes_ are set and disagree" in str(e), e
try:
    U().to_bytes(); raise SystemExit("no error for an empty union")
except ValueError as e:
    assert "no member set (set one of: raw, halves, bytes_)" in str(e), e
A = m.LayoutAnon
a = A(family=2, lo=0x1234, hi=0x5678, x=1, y=2, named=U(raw=7))
back = A.from_bytes(a.to_bytes())
assert (back.ipv4, back.lo, back.hi, back.named.raw) == (0x56781234, 0x1234, 0x5678, 7), back
assert back.ipv6[:4] == bytes([0x34, 0x12, 0x78, 0x56])
assert A.FIELDS["ipv6"].offset == 4 and A.FIELDS["ipv6"].size == 16 and A.FIELDS["named"].offset == 24
R = m.LayoutArrays
r = R(comm="héllo", items=[m.LayoutInner(a=1, b=2)], ptrs=[5])
rb = R.from_bytes(r.to_bytes())
assert rb.comm == "héllo" and rb.ptrs == [5, 0] and rb.items[1] == m.LayoutInner(), rb
for bad, msg in [(dict(comm="x" * 17), "LayoutArrays.comm: a string of 17 bytes does not fit in char[16]"),
                 (dict(ptrs=[1, 2, 3]), "LayoutArrays.ptrs: 3 elements do not fit in an array of 2")]:
    try:
        R(**bad).to_bytes(); raise SystemExit(f"no error for {bad}")
    except ValueError as e:
        assert msg in str(e), (msg, e)
B = m.LayoutBits
bits = B(c=31, d=-64, j=2**40 - 1, l=2**64 - 1, mode=m.LayoutMode.LAYOUT_AUTO, flag=True)
bb = B.from_bytes(bits.to_bytes())
assert (bb.c, bb.d, bb.j, bb.l, bb.mode, bb.flag) == (31, -64, 2**40 - 1, 2**64 - 1, m.LayoutMode.LAYOUT_AUTO, True), bb
assert bb.mode is m.LayoutMode.LAYOUT_AUTO
for field, value, msg in [("c", 32, "LayoutBits.c: 32 does not fit in __u32 : 5 (0..31)"),
                          ("d", 64, "LayoutBits.d: 64 does not fit in __s32 : 7 (-64..63)"),
                          ("l", 2**64, "does not fit in")]:
    try:
        B(**{field: value}).to_bytes(); raise SystemExit(f"no error for {field}={value}")
    except OverflowError as e:
        assert msg in str(e), (msg, e)
assert B.FIELDS["g"] == m.FieldLayout("g", "g", 8, 2, 66, 9), B.FIELDS["g"]
try:
    m.LayoutInner(a=2**32).to_bytes(); raise SystemExit("no error")
except OverflowError as e:
    assert "LayoutInner.a: 4294967296 does not fit in" in str(e), e
try:
    m.LayoutInner(a="1").to_bytes(); raise SystemExit("no error")
except TypeError as e:
    assert "LayoutInner.a" in str(e), e
print("ok")
`);
    expect(out.trim()).toBe('ok');
  });

  it('enums: IntEnum classes with exact values, negative and 64-bit', () => {
    const { pkg } = pkgs.get('kinds')!;
    const out = JSON.parse(runPython(python!, pkg, `${PRELUDE}
import kinds as m
print(json.dumps({c: {e.name: str(e.value) for e in getattr(m, c)} for c in ["KindsColor", "KindsBigSigned", "KindsBigUnsigned"]}))
`)) as Record<string, Record<string, string>>;
    expect(out).toEqual({
      KindsColor: { KINDS_RED: '-2', KINDS_GREEN: '0', KINDS_BLUE: '7' },
      KindsBigSigned: { KINDS_BIG_NEG: '-4294967296', KINDS_BIG_POS: '9223372036854775807' },
      KindsBigUnsigned: { KINDS_HUGE_SMALL: '1', KINDS_HUGE: '9223372036854775809' },
    });
  });

  // ---- layouts against the C compiler ----

  if (noCProbe) console.log(`skipping the layout checks against the C compiler: ${noCProbe}`);

  for (const name of FIXTURES) {
    it.skipIf(noCProbe !== null)(`fixture ${name}: SIZE, ALIGN and every field's offset and size equal the C compiler's`, () => {
      const { pkg, module, c } = pkgs.get(name)!;
      const g = generate(c!);
      const plan = planLayout(g.model);
      const structs = plan.ordered.filter((t): t is StructPlan => t.kind !== 'enum');
      if (structs.length === 0) return;
      const meta = JSON.parse(runPython(python!, pkg, `${PRELUDE}
m = importlib.import_module(sys.argv[1])
out = {}
for key, cls in json.loads(sys.argv[2]).items():
    k = getattr(m, cls)
    out[key] = {"size": k.SIZE, "align": k.ALIGN, "fields": [list(f) for f in k.FIELDS.values()]}
print(json.dumps(out))
`, [module, JSON.stringify(Object.fromEntries(structs.map((t) => [t.key, g.typeNames.get(t.key)!])))])) as Record<string, { size: number; align: number; fields: [string, string, number, number, number | null, number | null][] }>;

      // fields by their index in the plan (FIELDS is in the plan's order)
      const out = cLayouts(c!.file, plan, structs, join(dir, `probe-${name}`), (t) => t.fields.map((f, i) => ({ id: String(i), cPath: f.cPath, size: f.size, bitfield: f.bits !== null })));

      let fields = 0;
      for (const line of out) {
        const { key } = line;
        const t = structs.find((s) => s.key === key)!;
        const m = meta[key]!;
        if (line.what === 'size') {
          expect([key, m.size]).toEqual([key, line.size]);
          if (!t.packed) expect([key, 'align', m.align]).toEqual([key, 'align', line.align]);
          // every field has layout metadata, in the plan's order, bitfields with their bits
          expect(m.fields.map((f) => f[1])).toEqual(t.fields.map((f) => f.cName));
          t.fields.forEach((f, i) => {
            if (f.bits) expect([key, f.name, m.fields[i]![4], m.fields[i]![5]]).toEqual([key, f.name, f.bits.bitOffset, f.bits.width]);
          });
          continue;
        }
        const i = Number(line.field);
        expect([key, t.fields[i]!.name, m.fields[i]![2], m.fields[i]![3]]).toEqual([key, t.fields[i]!.name, line.offset, line.size]);
        fields++;
      }
      expect(out.filter((l) => l.what === 'size')).toHaveLength(structs.length);
      if (name === 'layout') expect(fields).toBeGreaterThanOrEqual(60);
    });
  }
});
