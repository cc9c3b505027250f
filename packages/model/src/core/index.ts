export { checkObject, type CheckReport, type CheckedRelo, type KernelOutcome, type ProgramVerdict } from './check.js';
export { resolveRelo, type LocalSide, type Resolution } from './resolve.js';
export { essentialName } from './names.js';
export { CoreReloError, type CoreTarget, type ReloStatus } from './types.js';
