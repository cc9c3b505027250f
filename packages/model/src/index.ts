export { buildModel, describeObject, type ModelOptions } from './model.js';
export { ModelError } from './errors.js';
export { LayoutCollector, strip, spell } from './layout.js';
export { parseProgramSection, SectionNameError } from './sections.js';
export type { ProgramKind, AttachTarget, RuntimeTarget } from './sections.js';
export { MAP_TYPES, mapFlagNames } from './mapTypes.js';
export { dataKind } from './globals.js';
export { EVENT_ANNOTATION_PREFIX } from './events.js';
export type * from './types.js';
