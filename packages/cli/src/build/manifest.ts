/**
 * DIR/.coolbpf-build.json: what the last successful run into DIR was built
 * from and what it wrote. It is written last, so its presence means every
 * output it lists was completely written.
 */
export interface Manifest {
  readonly generator: 'coolbpf-gen';
  readonly version: string;
  readonly command: string;
  /** cacheKey over every input; equal keys give byte-equal outputs */
  readonly key: string;
  /** absolute paths of the files the compiler read (headers), whose contents are part of the key */
  readonly dependencies: readonly string[];
  /** output path relative to DIR → its SHA-256 */
  readonly outputs: Readonly<Record<string, string>>;
  /** --min-btf: the kernel BTF the embedded minimal BTF was cut from (as given, and its SHA-256) */
  readonly minBtf?: { readonly from: string; readonly sha256: string };
}

export const MANIFEST = '.coolbpf-build.json';

export function formatManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** The manifest, or null when the text is not one (hand-edited, older format, truncated): then everything is rebuilt. */
export function parseManifest(text: string): Manifest | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null) return null;
  const m = j as Record<string, unknown>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  const outputs = m.outputs;
  if (
    m.generator !== 'coolbpf-gen' ||
    typeof m.version !== 'string' ||
    typeof m.command !== 'string' ||
    typeof m.key !== 'string' ||
    !strings(m.dependencies) ||
    typeof outputs !== 'object' ||
    outputs === null ||
    Array.isArray(outputs) ||
    !Object.values(outputs).every((v) => typeof v === 'string')
  )
    return null;
  return j as Manifest;
}
