export { GeneratorError, within } from './errors.js';
export {
  KEYWORDS,
  RESERVED_PREFIX,
  TS_PROPERTY_RESERVED,
  NameScope,
  camelCase,
  escapeKeyword,
  isKeyword,
  legalIdentifier,
  pascalCase,
  wordsOf,
  type Language,
  type ScopeOptions,
} from './naming.js';
export { planLayout, fieldsOf } from './plan.js';
export type { AlternativePlan, BitsPlan, EnumPlan, FieldPlan, LayoutPlan, NodePlan, OverlayPlan, StructPlan, TypePlan, ValuePlan } from './plan.js';
export { headerLine, headerText, type HeaderInfo } from './header.js';
export { compileTemplate, createHandlebars, quote, tidy } from './text.js';
export { ABI_VERSION } from './abi.js';
