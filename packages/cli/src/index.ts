export { inspect, type InspectOptions } from './commands/inspect.js';
export { formatModel, formatBtfSummary, describeTarget } from './format.js';
export { parseArgs, parseEvents, UsageError } from './args.js';
export { build, parseBuildArgs, type BuildOptions } from './commands/build.js';
export { gen, parseGenArgs, type GenOptions } from './commands/gen.js';
export type { BuildContext } from './build/context.js';
export { BuildError, ToolOutputError } from './build/errors.js';
export { shimSource, objectName, type ShimInputs } from './build/shim.js';
export { AVAILABLE_LANGUAGES } from './wrappers/write.js';
