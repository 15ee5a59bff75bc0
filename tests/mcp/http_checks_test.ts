import assert from "node:assert/strict";
import { isLocalAuthority, isLocalOrigin, refuse } from "../../src/mcp/http.ts";
import { INITIALIZE } from "./support.ts";

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
    // The secret is never taken from the URL, where logs and histories keep it.
    [{ host: good.host }, `/mcp?access_token=${secret}`, 401, /bearer secret/],
    [{ host: good.host }, `/mcp?token=${secret}&secret=${secret}`, 401, /bearer secret/],
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

/** A running endpoint with real MCP servers (read-only, no login) behind it. */
async function endpoint(options: { maxSessions?: number; idleMs?: number; debug?: boolean }) {
  const [{ serveHttp }, { connectServer }, { serverRuntime }, { testContext }] = await Promise
    .all([
      import("../../src/mcp/http.ts"),
      import("../../src/mcp/server.ts"),
      import("../../src/mcp/run.ts"),
      import("../support/context.ts"),
    ]);
  const context = testContext({ debug: options.debug });
  const runtime = serverRuntime(context);
  const secret = "a-test-secret-of-some-length";
  const running = serveHttp({
    port: 0,
    secret,
    context,
    connect: (transport) => connectServer(runtime, { allowWrites: false }, transport),
    ...options,
  });
  const post = async (body: unknown, session?: string) => {
    const response = await fetch(running.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" } : {}),
      },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    return response;
  };
  const open = async () => {
    const response = await post(INITIALIZE);
    assert.equal(response.status, 200);
    return response.headers.get("mcp-session-id")!;
  };
  const ping = async (session: string) =>
    (await post({ jsonrpc: "2.0", id: 2, method: "ping" }, session)).status;
  return { running, context, secret, open, ping };
}

Deno.test("HTTP sessions are capped: past the limit the least recently used one is closed", async () => {
  const { running, open, ping } = await endpoint({ maxSessions: 2 });
  try {
    const first = await open();
    const second = await open();
    assert.equal(await ping(first), 200); // first is now the most recently used
    const third = await open(); // closes second
    assert.equal(await ping(second), 404);
    assert.equal(await ping(first), 200);
    assert.equal(await ping(third), 200);
    for (let i = 0; i < 20; i++) await open();
    assert.equal(await ping(first), 404);
  } finally {
    await running.close();
  }
});

Deno.test("an HTTP session unused for the idle time is closed; a client gets 404 and starts again", async () => {
  const { running, open, ping } = await endpoint({ idleMs: 30 });
  try {
    const session = await open();
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(await ping(session), 404);
    const again = await open();
    assert.equal(await ping(again), 200);
  } finally {
    await running.close();
  }
});

Deno.test("a Host that is not a URL authority is 403 with --debug too (it was a 500)", async () => {
  const { running, context, secret } = await endpoint({ debug: true });
  try {
    const port = Number(new URL(running.url).port);
    for (const host of ["localhost:80:80", "127.0.0.1:99999"]) {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      await connection.write(
        new TextEncoder().encode(
          `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${secret}\r\n` +
            "Content-Length: 0\r\nConnection: close\r\n\r\n",
        ),
      );
      const reply = new Uint8Array(4096);
      const read = await connection.read(reply);
      connection.close();
      assert.match(
        new TextDecoder().decode(reply.subarray(0, read ?? 0)),
        /^HTTP\/1\.1 403 /,
        host,
      );
    }
    assert.equal(
      context.logged.some((line) => line.startsWith("error:")),
      false,
      context.logged.join("\n"),
    );
  } finally {
    await running.close();
  }
});

Deno.test("read-only over HTTP holds for a batch and for names that only look like a write tool", async () => {
  const { running, open, secret } = await endpoint({});
  try {
    const session = await open();
    const call = (id: number, name: string) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name, arguments: { user: "u", key: "k", value: "v", policy: "{}" } },
    });
    const names = [
      "acl_update_policy",
      "user_claims_set",
      "USER_CLAIMS_SET",
      "user_claims_unset\0",
    ];
    const response = await fetch(running.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify(names.map((name, i) => call(i + 1, name))),
    });
    const results = (await response.text()).split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)));
    assert.equal(results.length, names.length);
    for (const result of results) {
      assert.equal(result.result.isError, true);
      assert.match(result.result.content[0].text, /read-only: nothing was done|not found/);
    }
  } finally {
    await running.close();
  }
});
