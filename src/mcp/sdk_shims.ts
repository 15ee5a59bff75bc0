/**
 * Stand-ins for ajv and ajv-formats in the vendored MCP SDK bundle. The SDK's server imports
 * them for its default JSON Schema validator; loading ajv costs ~10 ms per start, and the
 * MCP server passes the SDK's cfworker validator instead, so these are never called.
 */

function notBundled(): never {
  throw new Error("ajv is not bundled with the MCP server; pass a jsonSchemaValidator");
}

/** Refuses to be constructed: the server always passes its own validator. */
export class Ajv {
  constructor() {
    notBundled();
  }
}

/** Refuses to run, as `Ajv` does. */
export function addFormats(): never {
  notBundled();
}
