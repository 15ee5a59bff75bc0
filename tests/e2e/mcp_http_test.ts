/**
 * `cloudsignal mcp --http`: Streamable HTTP on 127.0.0.1 against a real platform (a seeded
 * session: the browser adds nothing here), with the SDK's own Client. Requests with a
 * foreign Host or Origin or without the secret are refused; read-only holds on this
 * transport as on stdio; the secret appears once, in the start banner.
 */

import assert from "node:assert/strict";
import { seedSession, startTestPlatform, type TestPlatform } from "../auth/support/login_flow.ts";
import { tempDir } from "../support/cli.ts";
import {
  call,
  INITIALIZE,
  READ_TOOLS,
  serverEnv,
  structured,
  textOf,
  WRITE_TOOLS,
} from "../mcp/support.ts";
import { connectHttp, type HttpServer, startHttpServer } from "../mcp/http_support.ts";

const INITIALIZE_TEXT = JSON.stringify(INITIALIZE);

/** A raw HTTP/1.1 POST with any Host header (fetch always sends the real one). */
async function rawPost(port: number, host: string, secret: string): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = [
    "POST /mcp HTTP/1.1",
    `Host: ${host}`,
    `Authorization: Bearer ${secret}`,
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    `Content-Length: ${new TextEncoder().encode(INITIALIZE_TEXT).length}`,
    "Connection: close",
    "",
    INITIALIZE_TEXT,
  ].join("\r\n");
  await connection.write(new TextEncoder().encode(request));
  let response = "";
  const buffer = new Uint8Array(4096);
  for (;;) {
    const read = await connection.read(buffer).catch(() => null);
    if (read === null) break;
    response += new TextDecoder().decode(buffer.subarray(0, read));
  }
  connection.close();
  return response;
}

function post(server: HttpServer, headers: Record<string, string>) {
  return fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: INITIALIZE_TEXT,
  });
}

async function withPlatform(fn: (t: TestPlatform, env: Record<string, string>) => Promise<void>) {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    await seedSession(t.platform, home.path);
    await fn(t, serverEnv(home.path, { CLOUDSIGNAL_API_URL: t.platform.apiUrl }));
  } finally {
    await t.close();
    await home.cleanup();
  }
}

Deno.test("HTTP: a foreign Host, a foreign Origin, a missing or wrong secret are refused", async () => {
  await withPlatform(async (_t, env) => {
    const server = await startHttpServer(["--debug"], env);
    try {
      const missing = await post(server, {});
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.match((await missing.json()).error.message, /send the bearer secret/);

      const wrong = await post(server, { authorization: `Bearer ${server.secret.slice(1)}x` });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();

      const origin = await post(server, {
        authorization: `Bearer ${server.secret}`,
        origin: "http://evil.example",
      });
      assert.equal(origin.status, 403);
      assert.match((await origin.json()).error.message, /requests from http:\/\/evil\.example/);

      const rebound = await rawPost(server.port, `evil.example:${server.port}`, server.secret);
      assert.match(rebound, /^HTTP\/1\.1 403 /);
      assert.match(rebound, /the Host header must name this machine/);
      // The same raw request with this machine's name is served.
      const local = await rawPost(server.port, `localhost:${server.port}`, server.secret);
      assert.match(local, /^HTTP\/1\.1 200 /);

      const elsewhere = await fetch(server.url.replace("/mcp", "/other"), {
        headers: { authorization: `Bearer ${server.secret}` },
      });
      assert.equal(elsewhere.status, 404);
      await elsewhere.body?.cancel();

      // Listening on 127.0.0.1 only.
      const others = Deno.networkInterfaces().map((i) => i.address)
        .filter((address) => address !== "127.0.0.1" && !address.startsWith("fe80"));
      for (const hostname of ["127.0.0.2", ...others]) {
        await assert.rejects(
          Deno.connect({ hostname, port: server.port }).then((c) => c.close()),
          `reachable on ${hostname}`,
        );
      }
    } finally {
      const stderr = await server.stop();
      // The secret is printed once, in the banner, never in the request log.
      assert.equal(stderr.split(server.secret).length - 1, 1, stderr);
      assert.match(stderr, /debug: HTTP POST \/mcp → 401/);
    }
  });
});

Deno.test("HTTP: read-only by default (absent and refused), writes with --allow-writes", async () => {
  await withPlatform(async (t, env) => {
    const { platform } = t;
    const readOnly = await startHttpServer([], env);
    try {
      const client = await connectHttp(readOnly);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name), READ_TOOLS);
      const me = structured(await call(client, "whoami"));
      assert.equal(me.organization.id, platform.organization.id);
      for (const name of WRITE_TOOLS) {
        const refused = await call(client, name, {
          user: platform.user.username,
          key: "agent_id",
          value: "scout",
          policy: "{}",
          base_revision: 1,
        });
        assert.equal(refused.isError, true);
        assert.match(textOf(refused), /this MCP server is read-only: nothing was done/);
      }
      assert.deepEqual(platform.store.claims(platform.user.id), {});
      assert.equal(platform.store.policy(platform.organization.id).revision, 1);
      await client.close();
    } finally {
      await readOnly.stop();
    }

    const writable = await startHttpServer(["--allow-writes"], env);
    try {
      const client = await connectHttp(writable);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name), [...READ_TOOLS, ...WRITE_TOOLS]);
      const set = structured(
        await call(client, "user_claims_set", {
          user: platform.user.username,
          key: "agent_id",
          value: "scout",
        }),
      );
      assert.deepEqual(set.claims, { agent_id: "scout" });
      assert.deepEqual(platform.store.claims(platform.user.id), { agent_id: "scout" });
      // Two sessions at once: each gets its own server.
      const second = await connectHttp(writable);
      const shown = structured(
        await call(second, "user_claims_show", { user: platform.user.username }),
      );
      assert.deepEqual(shown.claims, { agent_id: "scout" });
      await second.close();
      await client.close();
    } finally {
      await writable.stop();
    }
  });
});
