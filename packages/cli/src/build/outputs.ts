import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BuildError } from './errors.js';
import { fileSha256, fsReason } from '../files.js';
import { formatManifest, MANIFEST, parseManifest, type Manifest } from './manifest.js';

const SCRATCH_PREFIX = '.coolbpf-tmp-';

/** The manifest of the last successful run into `dir`, if there is a readable one. */
export function previousManifest(dir: string): Manifest | null {
  try {
    return parseManifest(readFileSync(join(dir, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
}

/** The last run had this key and every output it wrote is still there, unchanged. */
export function upToDate(dir: string, previous: Manifest | null, key: string): boolean {
  if (!previous || previous.key !== key) return false;
  return Object.entries(previous.outputs).every(([rel, sha]) => fileSha256(join(dir, rel)) === sha);
}

/**
 * A build's outputs, made in a scratch directory inside DIR (same file
 * system, so renames are atomic) and renamed into place only when all of
 * them are complete. Until commit DIR is untouched, apart from being
 * created; close() removes the scratch directory either way.
 */
export class OutputDir {
  readonly scratch: string;
  #committed = false;

  private constructor(
    readonly dir: string,
    readonly label: string,
    private readonly created: boolean,
  ) {
    removeStaleScratch(dir);
    try {
      this.scratch = mkdtempSync(join(dir, `${SCRATCH_PREFIX}${process.pid}-`));
    } catch (e) {
      throw new BuildError(`cannot create a scratch directory: ${fsReason(e)}`, [label]);
    }
  }

  /** `dir` absolute, `label` as the user gave it. */
  static open(dir: string, label: string): OutputDir {
    let created = false;
    try {
      if (!statSync(dir).isDirectory()) throw new BuildError('not a directory', [label]);
    } catch (e) {
      if (e instanceof BuildError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new BuildError(fsReason(e), [label]);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e2) {
        throw new BuildError(`cannot create: ${fsReason(e2)}`, [label]);
      }
      created = true;
    }
    return new OutputDir(dir, label, created);
  }

  /**
   * Moves `files` (relative paths, made in scratch) into DIR and writes the
   * manifest. The old manifest goes first and the new one comes last, so an
   * interrupted commit leaves no manifest and the next run rebuilds.
   * `dirs` (language packages) replace their old selves whole, so a file an
   * older generator wrote does not linger; `files` lists what is in them too.
   */
  commit(files: readonly string[], manifest: Omit<Manifest, 'outputs'>, dirs: readonly string[] = []): void {
    const outputs: Record<string, string> = {};
    for (const f of files) {
      const sha = fileSha256(join(this.scratch, f));
      if (sha === null) throw new Error(`OutputDir.commit: ${f} was not made`);
      outputs[f] = sha;
    }
    try {
      const before = previousManifest(this.dir);
      rmSync(join(this.dir, MANIFEST), { force: true });
      // what an earlier build wrote and this one does not (a language no
      // longer asked for) goes, so DIR holds exactly one build's outputs
      for (const old of Object.keys(before?.outputs ?? {})) {
        if (!outputs[old] && !dirs.some((d) => old.startsWith(`${d}/`))) removeWithEmptyParents(this.dir, old);
      }
      for (const f of files) {
        if (dirs.some((d) => f.startsWith(`${d}/`))) continue;
        mkdirSync(dirname(join(this.dir, f)), { recursive: true });
        renameSync(join(this.scratch, f), join(this.dir, f));
      }
      for (const d of dirs) {
        rmSync(join(this.dir, d), { recursive: true, force: true });
        renameSync(join(this.scratch, d), join(this.dir, d));
      }
      const m = join(this.scratch, MANIFEST);
      writeFileSync(m, formatManifest({ ...manifest, outputs }));
      renameSync(m, join(this.dir, MANIFEST));
    } catch (e) {
      throw new BuildError(`cannot write the outputs: ${fsReason(e)}`, [this.label]);
    }
    this.#committed = true;
  }

  close(): void {
    rmSync(this.scratch, { recursive: true, force: true });
    // a failed first build leaves no trace, not even an empty DIR
    if (this.created && !this.#committed) {
      try {
        rmdirSync(this.dir);
      } catch {
        // not empty after all (something else wrote there): leave it
      }
    }
  }
}

/** Removes DIR/rel, then its parent directories inside DIR that it left empty. */
function removeWithEmptyParents(dir: string, rel: string): void {
  if (rel.split('/').includes('..')) return; // a manifest is ours, but never reach outside DIR
  rmSync(join(dir, rel), { force: true });
  for (let d = dirname(rel); d !== '.' && d !== ''; d = dirname(d)) {
    try {
      rmdirSync(join(dir, d));
    } catch {
      return; // not empty
    }
  }
}

/**
 * Scratch directories of runs that were killed (Ctrl-C during clang, OOM):
 * a live process's are left alone.
 */
function removeStaleScratch(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(SCRATCH_PREFIX)) continue;
    const pid = Number(n.slice(SCRATCH_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
    rmSync(join(dir, n), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
