import assert from "node:assert/strict";
import { DEFAULT_MCP_PORT, parsePort, writesAllowed } from "../../src/commands/mcp.ts";
import { UsageError } from "../../src/core/errors.ts";

Deno.test("writes are allowed by the flag or by CLOUDSIGNAL_MCP_ALLOW_WRITES=1 only", () => {
  assert.equal(writesAllowed(true, undefined), true);
  assert.equal(writesAllowed(undefined, undefined), false);
  for (const value of ["1", "true", "YES"]) assert.equal(writesAllowed(undefined, value), true);
  for (const value of ["", "0", "false", "no"]) {
    assert.equal(writesAllowed(undefined, value), false);
  }
  assert.throws(() => writesAllowed(undefined, "maybe"), (error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /CLOUDSIGNAL_MCP_ALLOW_WRITES must be 1 or 0 \(got "maybe"\)/);
    return true;
  });
});

Deno.test("--port takes 0 to 65535 and only with --http", () => {
  assert.equal(parsePort(undefined, true), DEFAULT_MCP_PORT);
  assert.equal(parsePort("0", true), 0);
  assert.equal(parsePort("65535", true), 65535);
  for (const bad of ["65536", "-1", "x", "1.5", ""]) {
    assert.throws(() => parsePort(bad, true), /--port must be a port number/);
  }
  assert.throws(() => parsePort("8000", false), /--port applies to --http only/);
});
