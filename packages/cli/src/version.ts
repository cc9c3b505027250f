import { readFileSync } from 'node:fs';

/** coolbpf-gen's version (from its package.json): part of every cache key and shim header. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
