import assert from "node:assert/strict";
import { TOOLS } from "../../src/mcp/tools/mod.ts";

Deno.test("docs/mcp.md lists every tool with its annotations as the server declares them", async () => {
  const text = await Deno.readTextFile(new URL("../../docs/mcp.md", import.meta.url));
  const rows = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const name = cells[1]?.match(/^`([a-z_]+)`$/)?.[1];
    if (name && cells.length >= 8) rows.set(name, cells.slice(3, 7));
  }
  assert.deepEqual([...rows.keys()].sort(), TOOLS.map((tool) => tool.name).sort());
  for (const tool of TOOLS) {
    const { readOnlyHint, destructiveHint, idempotentHint, openWorldHint } = tool.annotations;
    assert.deepEqual(
      rows.get(tool.name),
      [readOnlyHint, destructiveHint, idempotentHint, openWorldHint].map(String),
      tool.name,
    );
  }
});
