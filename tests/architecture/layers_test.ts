/**
 * The layering rules of docs/architecture.md, checked on every import of `src/` (static,
 * `export … from`, and literal dynamic `import("…")`): the ACL engine is pure, operations never
 * reach a front end, the two front ends never reach each other, and the local platform
 * shares only the ACL engine and the API types with the CLI.
 */

import assert from "node:assert/strict";

const SRC = new URL("../../src/", import.meta.url);

/** Every TypeScript file under `src/`, as a path relative to it (`policy/read.ts`). */
async function sourceFiles(dir = SRC, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      files.push(...await sourceFiles(new URL(`${entry.name}/`, dir), `${path}/`));
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
  }
  return files.sort();
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** The `src/`-relative targets of a file's relative imports into `src/`. */
export function importsOf(file: string, text: string): string[] {
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (!specifier.startsWith(".")) continue;
    const resolved = new URL(specifier, new URL(file, SRC)).href;
    // Data outside src/ (presets, deno.json) belongs to no layer.
    if (resolved.startsWith(SRC.href)) targets.push(resolved.slice(SRC.href.length));
  }
  return targets;
}

function area(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : path;
}

/** Which areas of `src/` each area may import (its own always). */
const ALLOWED: Record<string, string[]> = {
  acl: [],
  core: [],
  "version.ts": [],
  api: ["core", "acl", "auth", "version.ts"],
  auth: ["core", "api", "version.ts"],
  policy: ["core", "acl", "api", "auth"],
  claims: ["core", "acl", "api"],
  platform: ["acl", "api"],
  cli: ["core", "version.ts"],
  commands: ["cli", "core", "acl", "api", "auth", "policy", "claims", "platform", "version.ts"],
  mcp: ["core", "acl", "api", "auth", "policy", "claims", "version.ts"],
};

Deno.test("layers: every import of src/ follows docs/architecture.md", async () => {
  const violations: string[] = [];
  const files = await sourceFiles();
  assert.ok(files.length > 50, `found only ${files.length} files under src/`);
  for (const file of files) {
    const from = area(file);
    const allowed = ALLOWED[from];
    assert.ok(allowed, `src/${file}: the area "${from}" is not in the layering table`);
    const text = await Deno.readTextFile(new URL(file, SRC));
    for (const target of importsOf(file, text)) {
      const to = area(target);
      if (to === from) continue;
      // The API types are generated from the OpenAPI document both sides speak.
      if (from === "platform" && to === "api" && target !== "api/openapi_types.ts") {
        violations.push(
          `src/${file} imports src/${target} (the platform shares only api/openapi_types.ts)`,
        );
      } else if (!allowed.includes(to)) {
        violations.push(
          `src/${file} imports src/${target} (${from} may import: ${
            allowed.join(", ") || "nothing outside itself"
          })`,
        );
      }
    }
  }
  assert.deepEqual(violations, []);
});

Deno.test("layers: the import reader sees static, re-exported and lazy imports", () => {
  const text = [
    'import { a } from "../acl/types.ts";',
    'import type {\n  B,\n} from "../core/errors.ts";',
    'export { c } from "./local.ts";',
    'const { d } = await import("../cli/io.ts");',
    'import { e } from "npm:aedes@1.2.0";',
    'import f from "../../examples/presets/blank.json" with { type: "json" };',
  ].join("\n");
  assert.deepEqual(importsOf("policy/x.ts", text), [
    "acl/types.ts",
    "core/errors.ts",
    "policy/local.ts",
    "cli/io.ts",
  ]);
});
