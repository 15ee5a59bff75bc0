import assert from "node:assert/strict";
import { discoverMetadata, parseMetadata } from "../../src/auth/oauth.ts";
import { OperationError, UnavailableError } from "../../src/core/errors.ts";
import { testContext } from "../support/context.ts";

/** A server that misbehaves in ways the platform cannot: answers per path, from a table. */
function serve(routes: Record<string, () => Response>) {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    hits.push(path);
    return routes[path]?.() ?? new Response("not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, server, hits };
}

const context = () => testContext();

Deno.test("falls back to openid-configuration when RFC 8414 metadata is missing", async () => {
  let base = "";
  const { url, server, hits } = serve({
    "/.well-known/openid-configuration": () =>
      Response.json({
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
      }),
  });
  base = url;
  try {
    const metadata = await discoverMetadata(context(), url);
    assert.deepEqual(hits, [
      "/.well-known/oauth-authorization-server",
      "/.well-known/openid-configuration",
    ]);
    assert.equal(metadata.token_endpoint, `${url}/token`);
    assert.equal(metadata.revocation_endpoint, null);
    assert.equal(metadata.source, `${url}/.well-known/openid-configuration`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("metadata without a token endpoint is a clear error naming the document", async () => {
  const { url, server } = serve({
    "/.well-known/oauth-authorization-server": () =>
      Response.json({ authorization_endpoint: "https://auth.example/authorize" }),
  });
  try {
    const error = await discoverMetadata(context(), url).then(() => null, (e) => e);
    assert.ok(error instanceof OperationError);
    assert.equal(error.code, "failed");
    assert.equal(
      error.message,
      `the OAuth metadata at ${url}/.well-known/oauth-authorization-server has no token_endpoint`,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("no metadata at all names both documents tried", async () => {
  const { url, server } = serve({
    "/.well-known/oauth-authorization-server": () => new Response("<html>", { status: 200 }),
  });
  try {
    const error = await discoverMetadata(context(), url).then(() => null, (e) => e);
    assert.ok(error instanceof OperationError);
    assert.equal(
      error.message,
      `the API at ${url} publishes no OAuth metadata: tried ${url}/.well-known/oauth-authorization-server (not a JSON object) and ${url}/.well-known/openid-configuration (HTTP 404)`,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("a 503 on discovery is UnavailableError (exit 5)", async () => {
  const { url, server } = serve({
    "/.well-known/oauth-authorization-server": () => new Response("busy", { status: 503 }),
  });
  try {
    const error = await discoverMetadata(context(), url).then(() => null, (e) => e);
    assert.ok(error instanceof UnavailableError);
    assert.equal(error.code, "unavailable");
  } finally {
    await server.shutdown();
  }
});

Deno.test("endpoints must be https, or http only on loopback", () => {
  const source = "https://api.example/.well-known/oauth-authorization-server";
  const ok = parseMetadata({
    authorization_endpoint: "http://127.0.0.1:9/authorize",
    token_endpoint: "https://auth.example/token",
    revocation_endpoint: "http://localhost:9/revoke",
  }, source);
  assert.equal(ok.authorization_endpoint, "http://127.0.0.1:9/authorize");
  assert.throws(
    () =>
      parseMetadata({
        authorization_endpoint: "https://auth.example/authorize",
        token_endpoint: "http://auth.example/token",
      }, source),
    /unsafe token_endpoint \(http:\/\/auth\.example\/token\): expected an https URL/,
  );
});

Deno.test("a server without PKCE S256 is refused", () => {
  assert.throws(
    () =>
      parseMetadata({
        authorization_endpoint: "https://auth.example/authorize",
        token_endpoint: "https://auth.example/token",
        code_challenge_methods_supported: ["plain"],
      }, "https://api.example/x"),
    /does not support PKCE with S256/,
  );
});
