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
}
