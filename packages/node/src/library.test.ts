// loadLibrary: the identity checks, one Library per file, and two bpf.so
// files in one process.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecs, type Codec } from './codecs.js';
import { CoolbpfError } from './errors.js';
import { RtEvent, buildHelper, buildObject, HELLO_SRC, Helper, kernelSkipReason, KIND, RT_SRC, skipNote, tempDir, until, type Built } from './kernel.testutil.js';
import { TypedEvents } from './events.js';
import { TypedMap } from './maps.js';
import { loadLibrary, Library } from './object.js';

const skip = kernelSkipReason();
if (skip) skipNote('library', skip);

function thrown(f: () => unknown): CoolbpfError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CoolbpfError);
    return e as CoolbpfError;
  }
  throw new Error('expected a CoolbpfError');
}

describe('loadLibrary without a bpf.so', () => {
  const tmp = tempDir('coolbpf-node-lib-');
  afterAll(() => tmp.remove());

  it('a missing file: ENOENT naming the path', () => {
    const e = thrown(() => loadLibrary(join(tmp.dir, 'nope.so')));
    expect(e.code).toBe('ENOENT');
    expect(e.message).toBe(`loadLibrary: '${join(tmp.dir, 'nope.so')}': no such file`);
  });

  it('a file that is not a shared object: ELIBBAD with the loader\'s reason', () => {
    const p = join(tmp.dir, 'text.so');
    writeFileSync(p, 'not an ELF file\n');
    const e = thrown(() => loadLibrary(p));
    expect(e.code).toBe('ELIBBAD');
    expect(e.message).toMatch(new RegExp(`^loadLibrary: cannot load '${p}': .*(invalid ELF header|too short)`));
  });

  const cc = spawnSync('cc', ['--version']).status === 0;
  it.skipIf(!cc)('a shared object of another ABI version, or without the coolbpf functions: EMISMATCH', () => {
    const src = join(tmp.dir, 'fake.c');
    writeFileSync(src, '#include <stdint.h>\nuint32_t coolbpf_abi_version(void) { return ABI; }\n');
    const v2 = join(tmp.dir, 'v2.so'), v1 = join(tmp.dir, 'v1.so'), none = join(tmp.dir, 'none.so');
    execFileSync('cc', ['-shared', '-fPIC', '-DABI=2', '-o', v2, src]);
    execFileSync('cc', ['-shared', '-fPIC', '-DABI=1', '-o', v1, src]);
    writeFileSync(join(tmp.dir, 'none.c'), 'int nothing(void) { return 0; }\n');
    execFileSync('cc', ['-shared', '-fPIC', '-o', none, join(tmp.dir, 'none.c')]);
    const e2 = thrown(() => loadLibrary(v2));
    expect(e2.code).toBe('EMISMATCH');
    expect(e2.message).toBe(`loadLibrary: '${v2}' has coolbpf ABI version 2, this runtime supports 1 (rebuild it with the matching coolbpf-gen)`);
    const e1 = thrown(() => loadLibrary(v1));
    expect(e1.code).toBe('EMISMATCH');
    expect(e1.message).toBe(`loadLibrary: '${v1}' is not a coolbpf bpf.so: it has no coolbpf_object_sha256`);
    expect(thrown(() => loadLibrary(none)).message).toMatch(/is not a coolbpf bpf\.so: it has no coolbpf_abi_version/);
  });
});

describe.skipIf(skip !== undefined)('loadLibrary with real bpf.so files', () => {
  const tmp = tempDir('coolbpf-node-lib-');
  let rt: Built, hello: Built, helperPath: string;
  beforeAll(() => {
    rt = buildObject(RT_SRC, join(tmp.dir, 'rt'));
    hello = buildObject(HELLO_SRC, join(tmp.dir, 'hello'));
    helperPath = buildHelper(tmp.dir);
  });
  afterAll(() => tmp.remove());

  it('checks the ABI version and the object SHA-256, naming expected, found and the path', () => {
    const lib = loadLibrary(rt.bpfSo, { abiVersion: 1, sha256: rt.sha256 });
    expect(lib).toBeInstanceOf(Library);
    expect(lib.abiVersion).toBe(1);
    expect(lib.objectSha256).toBe(rt.sha256); // bpf.so embeds bpf.o as built
    expect(lib.path).toBe(rt.bpfSo);
    expect(lib.possibleCpus()).toBeGreaterThan(0);

    const abi = thrown(() => loadLibrary(rt.bpfSo, { abiVersion: 2, sha256: rt.sha256 }));
    expect(abi.code).toBe('EMISMATCH');
    expect(abi.errno).toBe(0);
    expect(abi.message).toMatch(new RegExp(`^loadLibrary: '${rt.bpfSo}' has coolbpf ABI version 1, expected 2`));

    const wrong = 'ab'.repeat(32);
    const sha = thrown(() => loadLibrary(rt.bpfSo, { abiVersion: 1, sha256: wrong }));
    expect(sha.code).toBe('EMISMATCH');
    expect(sha.message).toBe(`loadLibrary: '${rt.bpfSo}' embeds the object with SHA-256 ${rt.sha256}, expected ${wrong}` +
      ' (the bpf.so was built from another object than the code was generated for)');
    // hello's bpf.so is not rt's
    expect(thrown(() => loadLibrary(hello.bpfSo, { abiVersion: 1, sha256: rt.sha256 })).code).toBe('EMISMATCH');
  });

  it('one Library per file, whatever path names it', () => {
    const link = join(tmp.dir, 'link.so');
    symlinkSync(rt.bpfSo, link);
    mkdirSync(join(tmp.dir, 'sub'));
    const a = loadLibrary(rt.bpfSo);
    expect(loadLibrary(link)).toBe(a);
    expect(loadLibrary(join(tmp.dir, 'sub', '..', 'rt', 'bpf.so'))).toBe(a);
    expect(loadLibrary(hello.bpfSo)).not.toBe(a);
  });

  it('two different bpf.so files in one process, both loaded and attached at once', async () => {
    const helper = await Helper.start(helperPath);
    const rtLib = loadLibrary(rt.bpfSo, { abiVersion: 1, sha256: rt.sha256 });
    const helloLib = loadLibrary(hello.bpfSo, { abiVersion: 1, sha256: hello.sha256 });
    const a = rtLib.open();
    const b = helloLib.open();
    try {
      a.setInitial('.rodata', rt.offsets['.rodata:target_tgid']!, new Uint8Array(new Uint32Array([helper.pid]).buffer));
      a.load();
      a.attach();
      b.load();
      b.attach();
      const rtEvents = new TypedEvents(a.events('rt_events'), RtEvent, true);
      interface Exec { pid: number; ppid: number; uid: number; comm: string }
      const ExecEvent: Codec<Exec> = {
        size: 40,
        decode: (v, o) => ({ pid: v.getUint32(o + 8, true), ppid: v.getUint32(o + 12, true), uid: v.getUint32(o + 16, true),
          comm: codecs.cstring(16).decode(v, o + 20) }),
        encode: () => { throw new Error('not needed'); },
      };
      const execs = new TypedEvents(b.events('events'), ExecEvent, true);
      const gotRt: RtEvent[] = [], gotExec: Exec[] = [];
      const s1 = rtEvents.subscribe((e) => gotRt.push(e));
      const s2 = execs.subscribe((e) => gotExec.push(e));
      await helper.run('ppid 2');
      const child = spawnSync('/bin/true');
      expect(child.status).toBe(0);
      await until(() => gotRt.length >= 2 && gotExec.some((e) => e.comm === 'true'), 5000, 'events from both objects');
      expect(gotRt.map((e) => [e.kind, e.pid])).toEqual([[KIND.TP, helper.pid], [KIND.TP, helper.pid]]);
      const exec = gotExec.find((e) => e.comm === 'true')!;
      expect(exec.ppid).toBe(process.pid);
      const counts = new TypedMap(b.map('exec_counts'), codecs.cstring(16), codecs.u64, true);
      expect(counts.get('true')).toBeGreaterThanOrEqual(1n);
      s1.stop();
      s2.stop();
      await Promise.all([s1.done, s2.done]);
    } finally {
      a.destroy();
      b.destroy();
      await helper.stop();
    }
  });
});
