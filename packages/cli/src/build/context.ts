import type { RunOptions, Tool, ToolResult } from './exec.js';

/** What clang needs to reach, for a caller that runs it confined (the build server). */
export interface ClangAccess {
  /** the directory it runs in; the source and its local headers are under it */
  readonly cwd: string;
  /** where it writes the object and the depfile */
  readonly writeDir: string;
  /** directories it reads headers from besides cwd: vmlinux.h's, libbpf's, coolbpf's, the system's */
  readonly readDirs: readonly string[];
}

/**
 * What a build needs from the process it runs in. main.ts fills it in, so
 * everything below it can be driven by tests without touching `process`.
 */
export interface BuildContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  /** `process.arch` */
  readonly arch: string;
  /** `os.endianness()` */
  readonly hostEndianness: 'LE' | 'BE';
  /** one progress line on stderr (without the "coolbpf-gen: " prefix) */
  progress(line: string): void;
  /** a tool's own output (compiler warnings), shown unchanged */
  passthrough(text: string): void;
  /** runs the BPF compile; runTool when absent */
  runClang?(clang: Tool, argv: readonly string[], options: RunOptions, access: ClangAccess): ToolResult;
}
