/**
 * @coolbpf/gen-core/testing: what the generators' tests share (they read
 * files and run tools, so they are kept out of the main entry point).
 */
export { FIXTURES, GOLDEN, fixtureCase, has, helloCase, modelOf, optionsOf, repoRoot, type Case } from './cases.js';
export { CC, cLayouts, cType, noCProbe, type CLayoutLine, type ProbeField } from './cprobe.js';
export { BITS_FULL, FULL_GLOBALS, PACKED_BITS_FULL, globalBytes } from './globals.js';
export * as hostile from './hostile.js';
