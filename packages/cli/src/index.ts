export { inspect, type InspectOptions } from './commands/inspect.js';
export { formatModel, formatBtfSummary, describeTarget } from './format.js';
export { parseArgs, parseEvents, UsageError } from './args.js';
