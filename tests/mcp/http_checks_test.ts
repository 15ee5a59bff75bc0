import assert from "node:assert/strict";
import { isLocalAuthority, isLocalOrigin, refuse } from "../../src/mcp/http.ts";

Deno.test("only this machine's names pass as Host", () => {
  for (const host of ["127.0.0.1:8790", "localhost:1", "LOCALHOST", "[::1]:8790", "127.0.0.1"]) {
    assert.equal(isLocalAuthority(host), true, host);
  }
  for (
    const host of [
      "evil.example:8790",
      "127.0.0.1.evil.example",
      "localhost.evil.example",
      "127.0.0.2:8790",
      "evil@127.0.0.1",
      "127.0.0.1/x",
      "",
      "0.0.0.0:8790",
      "[::2]:1",
    ]
  ) {
    assert.equal(isLocalAuthority(host), false, host);
  }
});

Deno.test("only pages of this machine pass as Origin", () => {
  for (const origin of ["http://localhost:3000", "http://127.0.0.1", "https://[::1]:8443"]) {
    assert.equal(isLocalOrigin(origin), true, origin);
  }
  for (
    const origin of ["null", "http://evil.example", "file://", "http://localhost.evil.example"]
  ) {
    assert.equal(isLocalOrigin(origin), false, origin);
  }
});

Deno.test("requests are refused for Host, then Origin, then path, then secret", async () => {
  const secret = "s3cret-s3cret-s3cret";
  const request = (headers: Record<string, string>, path = "/mcp") =>
    new Request(`http://127.0.0.1:8790${path}`, { method: "POST", headers });
  const good = { host: "127.0.0.1:8790", authorization: `Bearer ${secret}` };
  assert.equal(refuse(request(good), secret), null);
  const cases: [Record<string, string>, string, number, RegExp][] = [
    [{ ...good, host: "evil.example:8790" }, "/mcp", 403, /Host/],
    [{ ...good, origin: "http://evil.example" }, "/mcp", 403, /evil\.example/],
    [good, "/other", 404, /\/mcp/],
    [{ host: good.host }, "/mcp", 401, /bearer secret/],
    [{ ...good, authorization: `Bearer ${secret}x` }, "/mcp", 401, /bearer secret/],
    [{ ...good, authorization: secret }, "/mcp", 401, /bearer secret/],
  ];
  for (const [headers, path, status, message] of cases) {
    const response = refuse(request(headers, path), secret);
    assert.ok(response, JSON.stringify(headers));
    assert.equal(response.status, status);
    const body = await response.json();
    assert.match(body.error.message, message);
    assert.equal(JSON.stringify(body).includes(secret), false);
  }
});
