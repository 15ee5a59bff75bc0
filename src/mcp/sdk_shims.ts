/**
 * Stand-ins for modules the vendored MCP SDK bundle imports but the server never runs, so
 * they are not bundled (ajv alone costs ~10 ms per start): ajv and ajv-formats (the SDK's
 * default JSON Schema validator; the server passes the SDK's cfworker validator instead),
 * and zod 3 with zod-to-json-schema (the SDK's path for zod 3 schemas; the tools use zod 4).
 * Each throws if it is ever reached.
 */

function notBundled(what: string): never {
  throw new Error(`${what} is not bundled with the MCP server`);
}

/** Refuses to be constructed: the server always passes its own validator. */
export class Ajv {
  constructor() {
    notBundled("ajv");
  }
}

/** Refuses to run, as `Ajv` does. */
export function addFormats(): never {
  notBundled("ajv-formats");
}

/** The zod 3 builders the SDK reaches for zod 3 schemas only. */
export const zod3 = {
  object(): never {
    notBundled("zod 3");
  },
};

/** The zod 3 JSON Schema converter, likewise. */
export function zodToJsonSchema(): never {
  notBundled("zod-to-json-schema");
}
