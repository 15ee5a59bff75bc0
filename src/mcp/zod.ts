/**
 * The zod schema builders the tools use (`import * as z from "./zod.ts"`), from the vendored
 * bundle: the SDK validates with this same zod. Only these are bundled, not zod's `z`
 * namespace, whose locales alone weigh 300 KB.
 */

export {
  array,
  boolean,
  enum,
  literal,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
} from "./vendor/mcp_sdk.js";
export type { infer, ZodObject } from "./vendor/mcp_sdk.js";
