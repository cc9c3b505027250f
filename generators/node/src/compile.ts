/**
 * Compiles the generated src/index.ts to dist/index.js and dist/index.d.ts
 * with the TypeScript compiler API, in memory: the package, the runtime's
 * declarations, TypeScript's lib and @types/node live in a virtual file
 * system. Strict, with the repository's own compiler settings; any
 * diagnostic means the generator wrote bad code and is thrown as a
 * GeneratedCodeError listing them.
 */
import ts from 'typescript';
import { GeneratorError } from '@coolbpf/gen-core';
import { TS_LIB, TYPES_NODE } from './environment.js';

/** The generated TypeScript does not compile: a bug in the generator (or the runtime's declarations changed). */
export class GeneratedCodeError extends GeneratorError {
  override readonly name: string = 'GeneratedCodeError';
  /** every diagnostic: file:line:column: TSnnnn: message, and the source line */
  diagnostics: readonly string[] = [];
}

function failed(what: string, diagnostics: readonly ts.Diagnostic[]): GeneratedCodeError {
  const list = format(diagnostics);
  const e = new GeneratedCodeError(`the generated TypeScript ${what} (${list.length} diagnostics; the first: ${list[0] ?? ''})`);
  e.diagnostics = list;
  return e;
}

const ROOT = '/coolbpf-gen';
const PKG = `${ROOT}/pkg`;
const LIB = `${ROOT}/lib`;
const TYPES = `${PKG}/node_modules/@types`;

/** The compiler options generated code is held to (those of tsconfig.base.json, plus emit settings). */
export const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  typeRoots: [TYPES],
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noFallthroughCasesInSwitch: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  declaration: true,
  noEmitOnError: true,
  newLine: ts.NewLineKind.LineFeed,
  rootDir: `${PKG}/src`,
  outDir: `${PKG}/dist`,
};

/** Parsed once per process: lib and @types/node never change while it runs. */
const shared = new Map<string, ts.SourceFile>();

const sharedFiles: ReadonlyMap<string, string> = new Map([
  ...[...TS_LIB].map(([f, t]) => [`${LIB}/${f}`, t] as const),
  ...[...TYPES_NODE].map(([f, t]) => [`${TYPES}/node/${f}`, t] as const),
]);

function directoriesOf(paths: Iterable<string>): Set<string> {
  const dirs = new Set<string>(['/']);
  for (const p of paths) {
    for (let d = p.slice(0, p.lastIndexOf('/')); d.length > 0; d = d.slice(0, d.lastIndexOf('/'))) {
      if (dirs.has(d)) break;
      dirs.add(d);
    }
  }
  return dirs;
}

const sharedDirs = directoriesOf(sharedFiles.keys());

export interface CompileInput {
  /** src/index.ts */
  readonly source: string;
  /** the generated package.json ("type": "module" decides how NodeNext reads the source) */
  readonly packageJson: string;
  /** the runtime's declarations, by path under runtime/ */
  readonly runtime: ReadonlyMap<string, string>;
}

export interface CompileOutput {
  readonly js: string;
  readonly dts: string;
}

export function compile(input: CompileInput): CompileOutput {
  const own = new Map<string, string>([
    [`${PKG}/package.json`, input.packageJson],
    [`${PKG}/src/index.ts`, input.source],
    ...[...input.runtime].map(([f, t]) => [`${PKG}/runtime/${f}`, t] as const),
  ]);
  const ownDirs = directoriesOf(own.keys());
  const read = (f: string): string | undefined => own.get(f) ?? sharedFiles.get(f);
  const written = new Map<string, string>();

  const host: ts.CompilerHost = {
    getSourceFile(fileName, languageVersion) {
      if (own.has(fileName)) return ts.createSourceFile(fileName, own.get(fileName)!, languageVersion, true);
      const text = sharedFiles.get(fileName);
      if (text === undefined) return undefined;
      let sf = shared.get(fileName);
      if (!sf) {
        sf = ts.createSourceFile(fileName, text, languageVersion, true);
        shared.set(fileName, sf);
      }
      return sf;
    },
    getDefaultLibFileName: () => `${LIB}/lib.es2022.d.ts`,
    getDefaultLibLocation: () => LIB,
    writeFile: (fileName, text) => void written.set(fileName, text),
    getCurrentDirectory: () => PKG,
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (f) => read(f) !== undefined,
    readFile: read,
    directoryExists: (d) => ownDirs.has(d) || sharedDirs.has(d),
    getDirectories: (d) => {
      const prefix = d.endsWith('/') ? d : `${d}/`;
      const out = new Set<string>();
      for (const dir of [...ownDirs, ...sharedDirs]) {
        if (dir.startsWith(prefix) && !dir.slice(prefix.length).includes('/') && dir.length > prefix.length) out.add(dir.slice(prefix.length));
      }
      return [...out].sort();
    },
    realpath: (p) => p,
  };

  const program = ts.createProgram({ rootNames: [`${PKG}/src/index.ts`], options: COMPILER_OPTIONS, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length) throw failed('does not compile', diagnostics);
  const emitted = program.emit();
  if (emitted.diagnostics.length) throw failed('does not emit', emitted.diagnostics);
  const js = written.get(`${PKG}/dist/index.js`);
  const dts = written.get(`${PKG}/dist/index.d.ts`);
  if (js === undefined || dts === undefined) throw new GeneratedCodeError(`the compiler wrote ${[...written.keys()].join(', ') || 'nothing'}, not dist/index.js and dist/index.d.ts`);
  return { js: twoSpaces(js), dts: twoSpaces(dts) };
}

/**
 * The compiler indents by 4 spaces; the generated sources use 2. Leading
 * runs are halved per level (a comment's one-space alignment kept). Safe
 * because generated code has no multi-line string literals.
 */
function twoSpaces(text: string): string {
  return text.replace(/^( +)/gm, (s) => ' '.repeat(Math.floor(s.length / 4) * 2 + (s.length % 4)));
}

function format(diagnostics: readonly ts.Diagnostic[]): string[] {
  return diagnostics.map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return `TS${d.code}: ${text}`;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      const where = d.file.fileName.replace(`${PKG}/`, '');
      const source = d.file.text.split('\n')[line] ?? '';
      return `${where}:${line + 1}:${character + 1}: TS${d.code}: ${text} [${source.trim()}]`;
  });
}
