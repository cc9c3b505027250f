import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for tests that read ../shared. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedBtf = join(repoRoot, '..', 'shared', 'btf', 'debian-6.1.0-47-cloud-amd64.btf.gz');
export const VMLINUX = '/sys/kernel/btf/vmlinux';

export function which(tool: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Why a test that needs these cannot run, or null when it can; printed by the test. */
export function missing(needs: { tools?: string[]; files?: string[] }): string | null {
  for (const t of needs.tools ?? []) if (!which(t)) return `${t} is not installed (run scripts/setup.sh)`;
  for (const f of needs.files ?? []) if (!existsSync(f)) return `${f} does not exist`;
  return null;
}

export interface BpftoolType {
  id: number;
  kind: string;
  name: string;
  size?: number;
}

/** `bpftool -j [-B BASE] btf dump file F format raw`: the independent reading we compare with. */
export function bpftoolTypes(file: string, base?: string): BpftoolType[] {
  const args = ['-j', ...(base ? ['-B', base] : []), 'btf', 'dump', 'file', file, 'format', 'raw'];
  const out = execFileSync('bpftool', args, { maxBuffer: 1 << 30, encoding: 'utf8' });
  return (JSON.parse(out) as { types: BpftoolType[] }).types;
}
