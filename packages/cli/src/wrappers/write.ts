import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BuildError } from '../build/errors.js';
import { fsReason } from '../files.js';
import { LANGUAGES, type Language } from '../build/languages.js';
import { goPackage } from './go.js';
import { nodePackage } from './node.js';
import { pythonPackage } from './python.js';
import { rustPackage } from './rust.js';
import type { LanguagePackage, WrapperInputs } from './types.js';

const MAKERS: Record<Language, (i: WrapperInputs) => LanguagePackage> = { node: nodePackage, go: goPackage, python: pythonPackage, rust: rustPackage };

/** Every language --lang takes (the conformance suite builds them all). */
export const AVAILABLE_LANGUAGES: readonly Language[] = LANGUAGES;

export interface WrittenPackage {
  readonly dir: string;
  /** every file under dir, relative to the output directory, sorted */
  readonly files: readonly string[];
}

/**
 * Writes each language's package into scratch/<lang>/, with a copy of
 * bpf.so (scratch/bpf.so) beside it so the package stands alone once
 * installed elsewhere.
 */
export function writeWrappers(scratch: string, languages: readonly Language[], i: WrapperInputs): WrittenPackage[] {
  return languages.map((lang) => {
    const pkg = MAKERS[lang](i);
    const files: string[] = [];
    const put = (rel: string, write: (path: string) => void) => {
      const path = join(scratch, pkg.dir, rel);
      try {
        mkdirSync(dirname(path), { recursive: true });
        write(path);
      } catch (e) {
        throw new BuildError(`cannot write ${pkg.dir}/${rel}: ${fsReason(e)}`, [lang]);
      }
      files.push(`${pkg.dir}/${rel}`);
    };
    for (const [rel, text] of pkg.generated) put(rel, (p) => writeFileSync(p, text));
    for (const c of pkg.copies) put(c.to, (p) => copyFileSync(c.from, p));
    put('bpf.so', (p) => copyFileSync(join(scratch, 'bpf.so'), p));
    return { dir: pkg.dir, files: files.sort() };
  });
}
