import { dirname, join, normalize, relative, resolve } from 'node:path';
import { checkRelativePath, type SourceFile } from '@coolbpf/server';
import { BuildError } from '../build/errors.js';

/** What a remote build submits: the source and the local headers it includes, by their paths in the submission. */
export interface Submission {
  readonly source: SourceFile;
  readonly headers: SourceFile[];
  /** the -I directories, as directories of the submission */
  readonly includeDirs: string[];
  /** absolute paths of the headers sent, for the manifest */
  readonly dependencies: string[];
}

const INCLUDE = /^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]/gm;

/** The path the source goes by on the server: as given when it is a clean relative path, else its base name. */
export function submittedSourcePath(source: string): string {
  const n = normalize(source);
  try {
    return checkRelativePath(n, 'source');
  } catch {
    return checkRelativePath(n.split('/').pop() ?? n, 'source');
  }
}

/**
 * Follows `#include "…"` (the including file's directory, then -I) and
 * `#include <…>` (-I only) from the source, collecting every file found
 * under the source's directory or an -I directory. Headers found nowhere
 * (vmlinux.h, bpf/bpf_helpers.h) are the server's. Conditional includes
 * are followed too: sending a header too many is harmless.
 * `read` returns null for a missing file.
 */
export function collectSubmission(
  cwd: string,
  source: string,
  includeDirs: readonly string[],
  read: (abs: string) => string | null,
  maxHeaders = 256,
): Submission {
  const sourceAbs = resolve(cwd, source);
  const text = read(sourceAbs);
  if (text === null) throw new BuildError('no such file', [source]);
  const sourcePath = submittedSourcePath(source);
  const sourceRoot = dirname(sourceAbs);
  const submittedRoot = dirname(sourcePath);
  const roots: [string, string][] = [[sourceRoot, submittedRoot === '.' ? '' : submittedRoot]];
  const iDirs = includeDirs.map((d, k) => {
    roots.push([resolve(cwd, d), `coolbpf-include-${k}`]);
    return `coolbpf-include-${k}`;
  });
  const headers: SourceFile[] = [];
  const dependencies: string[] = [];
  const seen = new Set([sourceAbs]);
  const queue: [string, string][] = [[sourceAbs, text]];
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [file, body] = item;
    for (const m of body.matchAll(INCLUDE)) {
      const name = m[2]!.trim();
      const dirs = [...(m[1] === '"' ? [dirname(file)] : []), ...includeDirs.map((d) => resolve(cwd, d))];
      for (const d of dirs) {
        const abs = resolve(d, name);
        if (seen.has(abs)) break;
        const content = read(abs);
        if (content === null) continue;
        seen.add(abs);
        const root = roots.find(([r]) => !relative(r, abs).startsWith('..'));
        if (!root) throw new BuildError(`includes ${abs}, which is outside the source's directory and the -I directories: a remote build sends only those (add -I ${dirname(abs)})`, [relative(cwd, file) || file]);
        const path = join(root[1], relative(root[0], abs));
        headers.push({ path: checkRelativePath(path, 'header'), text: content });
        dependencies.push(abs);
        if (headers.length > maxHeaders) throw new BuildError(`includes more than ${maxHeaders} local headers`, [source]);
        queue.push([abs, content]);
        break;
      }
    }
  }
  return { source: { path: sourcePath, text }, headers, includeDirs: iDirs, dependencies: dependencies.sort() };
}
