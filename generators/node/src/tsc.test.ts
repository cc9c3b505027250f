/**
 * The generated TypeScript compiles with the real tsc, as a user's build
 * would see it: strict, over src/ and the runtime's declarations; and the
 * compiled declarations serve a consumer written against the API.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, helloCase, materialize, repoRoot } from './cases.testutil.js';
import { RUNTIME_DECLARATIONS } from './environment.js';

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-node-tsc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TSC = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const hello = helloCase();

function tsc(project: string, options: Record<string, unknown>, include: string[]): string {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [join(repoRoot, 'node_modules', '@types')],
        strict: true,
        noEmit: true,
        ...options,
      },
      include,
    }),
  );
  try {
    execFileSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
}

/** A user of examples/hello's package, written against the contract's API. */
const HELLO_CONSUMER = `
import { init, open, Event, Hello, type InitOptions } from './dist/index.js';
const options: InitOptions = { rodata: { only_uid: 1000n }, soPath: '/tmp/bpf.so', logLevel: 1, autoload: { handle_exec: true } };
export async function main(): Promise<void> {
  using hello: Hello = init(options);
  const n: bigint | undefined = hello.maps.exec_counts.get('bash');
  for (const [comm, count] of hello.maps.exec_counts) console.log(comm.toUpperCase(), count + 1n);
  hello.bss.dropped = 0n;
  const uid: bigint = hello.rodata.only_uid;
  // @ts-expect-error .rodata is read-only once loaded
  hello.rodata.only_uid = 1n;
  for await (const e of hello.maps.events.iterate()) {
    const ev: Event = e;
    console.log(ev.pid.toFixed(), ev.ts_ns + 1n, ev.comm.trim(), n, uid);
    break;
  }
  const link = hello.programs.handle_exec.attach();
  link.detach();
  const opened = open();
  opened.rodata.only_uid = 5n;
  opened.programs.handle_exec.autoload = false;
  opened.load().destroy();
  const bytes = new DataView(new ArrayBuffer(Event.size));
  Event.encode(bytes, 0, { ts_ns: 1n, pid: 2, ppid: 3, uid: 4, comm: 'sh' });
  const offset: number = Event.fields.comm!.offset;
  console.log(offset);
}
`;

describe('the generated TypeScript compiles with tsc --strict', () => {
  it(`every fixture${hello.case ? ' and examples/hello' : ''}: src/ with the runtime declarations`, () => {
    const cases = [...FIXTURES.map((n) => fixtureCase(n)), ...(hello.case ? [hello.case] : [])];
    for (const c of cases) materialize(join(dir, 'src', c.name), generate(c).files, 'decls');
    const out = tsc(join(dir, 'src'), { noUncheckedIndexedAccess: true, noImplicitOverride: true, noImplicitReturns: true, noFallthroughCasesInSwitch: true, isolatedModules: true, verbatimModuleSyntax: true }, ['*/node/src/**/*.ts']);
    expect(out).toBe('');
  });

  it.skipIf(hello.case === null)('a consumer of examples/hello type-checks against dist/index.d.ts (exactOptionalPropertyTypes too)', () => {
    const pkg = materialize(join(dir, 'consumer'), generate(hello.case!).files, 'decls');
    writeFileSync(join(pkg, 'consumer.ts'), HELLO_CONSUMER);
    const out = tsc(pkg, { lib: ['ES2022', 'ESNext.Disposable'], exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false }, ['consumer.ts']);
    expect(out).toBe('');
  });

  it('a consumer of the layout fixture type-checks, and misuse of a union does not', () => {
    const pkg = materialize(join(dir, 'layout'), generate(fixtureCase('layout')).files, 'decls');
    writeFileSync(
      join(pkg, 'consumer.ts'),
      `
import { LayoutAnon, LayoutNamed, LayoutMode, LayoutSignedMode, type LayoutBits } from './dist/index.js';
const v = new DataView(new ArrayBuffer(64));
export const one: LayoutNamed = { raw: 5n };
export const two: LayoutNamed = { halves: [1, 2] };
LayoutNamed.encode(v, 0, one);
const d = LayoutNamed.decode(v, 0);
export const raw: bigint | undefined = d.raw;
// @ts-expect-error a union value needs a member
export const none: LayoutNamed = {};
// @ts-expect-error and only its members
export const wrong: LayoutNamed = { raw: 1n, nope: 1 };
LayoutAnon.encode(v, 0, { family: 2, ipv4: 0x7f000001, x: 1, y: 2, named: { bytes: new Uint8Array(8) } });
export const mode: LayoutMode = LayoutMode.LAYOUT_AUTO;
export const neg: -2 = LayoutSignedMode.LAYOUT_NEG;
export const bits: Partial<LayoutBits> = { mode: LayoutMode.LAYOUT_ON, flag: true, l: 1n };
`,
    );
    const out = tsc(pkg, { lib: ['ES2022', 'ESNext.Disposable'], skipLibCheck: false }, ['consumer.ts']);
    expect(out).toBe('');
  });
});
