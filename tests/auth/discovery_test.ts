import assert from "node:assert/strict";
import {
  authorizationUrl,
  discoverMetadata,
  exchangeCode,
  parseMetadata,
  parseScope,
  refreshTokens,
  requestedScope,
} from "../../src/auth/oauth.ts";
import { OperationError, UnavailableError, UsageError } from "../../src/core/errors.ts";
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

Deno.test("scopes: openid and offline_access when listed, none without a list; --scope overrides", () => {
  const metadata = (scopes?: unknown) =>
    parseMetadata({
      authorization_endpoint: "https://auth.example/authorize",
      token_endpoint: "https://auth.example/token",
      ...(scopes === undefined ? {} : { scopes_supported: scopes }),
    }, "https://api.example/x");
  assert.equal(
    requestedScope(metadata(["profile", "offline_access", "email", "openid"])),
    "openid offline_access",
  );
  assert.equal(requestedScope(metadata(["openid", "email"])), "openid");
  assert.equal(requestedScope(metadata(["email"])), null, "nothing wanted is listed");
  assert.equal(requestedScope(metadata([])), null);
  assert.equal(requestedScope(metadata()), null, "no list: no scope");
  assert.equal(requestedScope(metadata("openid")), null, "not a list");
  assert.equal(requestedScope(metadata(["openid"]), "read,write  read"), "read write");
  assert.equal(requestedScope(metadata(["openid"]), "  "), null, "an empty override asks for none");
  assert.throws(() => parseScope('openid "x'), UsageError);
  assert.throws(() => parseScope("caf\u00e9"), /--scope: "café" is not a scope/);

  const url = (scope: string | null) =>
    new URL(authorizationUrl(metadata(), {
      clientId: "cloudsignal-cli",
      redirectUri: "http://127.0.0.1:1/callback",
      challenge: "c".repeat(43),
      state: "s",
      scope,
    })).searchParams;
  assert.equal(url("openid offline_access").get("scope"), "openid offline_access");
  assert.equal(url("openid offline_access").get("prompt"), "consent");
  assert.equal(url("openid").get("prompt"), null);
  assert.equal(url(null).has("scope"), false);
});

Deno.test("the scope a token answer grants is kept without control or invisible characters", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      Response.json({
        access_token: "access-token-0123456789",
        token_type: "Bearer",
        scope: "openid\u001b]0;owned\u0007 offline_access\u202e\u200b",
      }),
  );
  try {
    const endpoint = `http://127.0.0.1:${server.addr.port}/oauth/token`;
    for (
      const tokens of [
        await exchangeCode(testContext(), {
          tokenEndpoint: endpoint,
          clientId: "cli",
          code: "code-0123456789",
          redirectUri: "http://127.0.0.1:1/callback",
          verifier: "verifier-0123456789",
        }),
        await refreshTokens(testContext(), {
          tokenEndpoint: endpoint,
          clientId: "cli",
          refreshToken: "refresh-0123456789",
        }),
      ]
    ) {
      assert.equal(tokens.scope, "openid ]0;owned  offline_access");
    }
  } finally {
    await server.shutdown();
  }
});
