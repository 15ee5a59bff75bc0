/**
 * The OAuth server with a plain HTTP client: metadata, the login form (CSRF, wrong
 * password, throttling), PKCE and every token error, scopes (a refresh token only with
 * offline_access), refresh rotation with reuse detection, expiry, and RFC 7009 revocation.
 */

import assert from "node:assert/strict";
import {
  api,
  assertSchema,
  authorize,
  authorizeUrl,
  EMAIL,
  login,
  openLoginPage,
  PASSWORD,
  pkce,
  postForm,
  startTestPlatform,
  submitLogin,
  type TestPlatform,
} from "./support.ts";
import { MAX_LOGIN_FAILURES } from "../../src/platform/mod.ts";

const CLIENT = "cloudsignal-cli";

async function withPlatform(
  fn: (t: TestPlatform) => Promise<void>,
  options: Parameters<typeof startTestPlatform>[0] = {},
) {
  const t = await startTestPlatform(options);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exchange(apiUrl: string, fields: Record<string, string>) {
  return postForm(`${apiUrl}/oauth/token`, { client_id: CLIENT, ...fields });
}

function assertOAuthError(
  result: { status: number; body: Record<string, unknown> },
  status: number,
  error: string,
  description?: RegExp,
) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.body.error, error);
  assertSchema("OAuthError", result.body);
  if (description) assert.match(String(result.body.error_description), description);
}

Deno.test("RFC 8414 metadata, also at openid-configuration", async () => {
  await withPlatform(async ({ platform }) => {
    for (const path of ["oauth-authorization-server", "openid-configuration"]) {
      const result = await api(platform.apiUrl, null, "GET", `/.well-known/${path}`);
      assert.equal(result.status, 200);
      assertSchema("AuthorizationServerMetadata", result.body);
      assert.equal(result.body.issuer, platform.apiUrl);
      assert.equal(result.body.authorization_endpoint, `${platform.apiUrl}/oauth/authorize`);
      assert.equal(result.body.token_endpoint, `${platform.apiUrl}/oauth/token`);
      assert.equal(result.body.revocation_endpoint, `${platform.apiUrl}/oauth/revoke`);
      assert.deepEqual(result.body.code_challenge_methods_supported, ["S256"]);
      assert.deepEqual(result.body.scopes_supported, ["openid", "offline_access"]);
    }
  });
});

/** Signs in asking for `scope` (null: no scope parameter) and redeems the code. */
async function tokensFor(apiUrl: string, scope: string | null) {
  const { code, verifier, redirectUri } = await authorize(apiUrl, { scope });
  return await exchange(apiUrl, {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
  });
}

Deno.test("scopes: a refresh token only with offline_access; the granted scope is returned", async () => {
  await withPlatform(async ({ platform, logs }) => {
    const offline = await tokensFor(platform.apiUrl, "offline_access openid offline_access");
    assert.equal(offline.status, 200);
    assertSchema("TokenResponse", offline.body);
    assert.equal(offline.body.scope, "offline_access openid", "granted, without duplicates");
    assert.equal(typeof offline.body.refresh_token, "string");
    const refreshed = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: String(offline.body.refresh_token),
    });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.scope, "offline_access openid", "a refresh keeps the scope");

    for (const scope of ["openid", null]) {
      const online = await tokensFor(platform.apiUrl, scope);
      assert.equal(online.status, 200, JSON.stringify(online.body));
      assertSchema("TokenResponse", online.body);
      assert.equal(online.body.refresh_token, undefined, `no refresh token for scope ${scope}`);
      assert.equal(online.body.refresh_token_expires_in, undefined);
      assert.equal(online.body.scope, scope ?? undefined);
      const me = await api(platform.apiUrl, String(online.body.access_token), "GET", "/v2/me");
      assert.equal(me.status, 200, "the access token works all the same");
    }
    assert.ok(logs.some((line) => /no refresh token without offline_access/.test(line)));
  });
});

Deno.test("scopes: a refresh may narrow the scope, never widen it; unknown scopes redirect", async () => {
  await withPlatform(async ({ platform }) => {
    const offline = await tokensFor(platform.apiUrl, "offline_access");
    const widen = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: String(offline.body.refresh_token),
      scope: "openid offline_access",
    });
    assertOAuthError(widen, 400, "invalid_scope", /more than this session was granted/);
    const unknown = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: String(offline.body.refresh_token),
      scope: "admin",
    });
    assertOAuthError(unknown, 400, "invalid_scope", /unknown scope "admin"/);
    const same = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: String(offline.body.refresh_token),
      scope: "offline_access",
    });
    assert.equal(same.status, 200, "a refused scope left the refresh token unused");
    assert.equal(same.body.scope, "offline_access");

    const url = new URL(authorizeUrl(platform.apiUrl, {
      challenge: "x".repeat(43),
      redirectUri: "http://127.0.0.1:7000/cb",
      state: "abc",
      scope: "openid profile",
    }));
    const response = await fetch(url, { redirect: "manual" });
    await response.body?.cancel();
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get("location")!);
    assert.equal(location.searchParams.get("error"), "invalid_scope");
    assert.match(location.searchParams.get("error_description")!, /unknown scope "profile"/);
    assert.equal(location.searchParams.get("state"), "abc");
  });
});

Deno.test("code flow: state passed through, tokens issued, code single-use", async () => {
  await withPlatform(async ({ platform, logs }) => {
    const { code, verifier, redirectUri, location } = await authorize(platform.apiUrl, {
      state: "s t&a=te",
      redirectUri: "http://127.0.0.1:5555/callback?keep=1",
    });
    assert.equal(location.origin, "http://127.0.0.1:5555");
    assert.equal(location.pathname, "/callback");
    assert.equal(location.searchParams.get("state"), "s t&a=te");
    assert.equal(location.searchParams.get("keep"), "1");
    assert.equal(location.searchParams.get("iss"), platform.apiUrl);
    const fields = { grant_type: "authorization_code", code, code_verifier: verifier };
    const tokens = await exchange(platform.apiUrl, { ...fields, redirect_uri: redirectUri });
    assert.equal(tokens.status, 200);
    assertSchema("TokenResponse", tokens.body);
    assert.equal(tokens.body.token_type, "Bearer");
    assert.equal(tokens.body.expires_in, 3600);
    assert.equal(tokens.body.refresh_token_expires_in, 14 * 24 * 3600);
    assert.equal(tokens.headers.get("cache-control"), "no-store");
    const me = await api(platform.apiUrl, String(tokens.body.access_token), "GET", "/v2/me");
    assert.equal(me.status, 200);

    const reused = await exchange(platform.apiUrl, { ...fields, redirect_uri: redirectUri });
    assertOAuthError(reused, 400, "invalid_grant", /already used/);
    const revoked = await api(platform.apiUrl, String(tokens.body.access_token), "GET", "/v2/me");
    assert.equal(revoked.status, 401, "a reused code revokes the session it created");
    const refresh = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: String(tokens.body.refresh_token),
    });
    assertOAuthError(refresh, 400, "invalid_grant", /revoked/);
    assert.deepEqual(platform.stats().tokenRequests, { authorization_code: 2, refresh_token: 1 });
    for (const line of logs) {
      assert.ok(!line.includes(String(tokens.body.access_token)), "no token in the log");
      assert.ok(!line.includes(String(tokens.body.refresh_token)), "no token in the log");
      assert.ok(!line.includes(code), "no code in the log");
    }
  });
});

Deno.test("token errors: wrong verifier, redirect mismatch, unknown code and client", async () => {
  await withPlatform(async ({ platform }) => {
    const wrong = await authorize(platform.apiUrl);
    const other = await pkce();
    const result = await exchange(platform.apiUrl, {
      grant_type: "authorization_code",
      code: wrong.code,
      code_verifier: other.verifier,
      redirect_uri: wrong.redirectUri,
    });
    assertOAuthError(result, 400, "invalid_grant", /code_verifier does not match/);
    const retry = await exchange(platform.apiUrl, {
      grant_type: "authorization_code",
      code: wrong.code,
      code_verifier: wrong.verifier,
      redirect_uri: wrong.redirectUri,
    });
    assertOAuthError(retry, 400, "invalid_grant", /already used/);

    const mismatch = await authorize(platform.apiUrl);
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "authorization_code",
        code: mismatch.code,
        code_verifier: mismatch.verifier,
        redirect_uri: "http://127.0.0.1:9999/elsewhere",
      }),
      400,
      "invalid_grant",
      /redirect_uri differs/,
    );

    const valid = await pkce();
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "authorization_code",
        code: "made-up",
        code_verifier: valid.verifier,
        redirect_uri: "http://127.0.0.1:1/cb",
      }),
      400,
      "invalid_grant",
      /unknown authorization code/,
    );
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "authorization_code",
        code: "x",
        code_verifier: "short",
        redirect_uri: "http://127.0.0.1:1/cb",
      }),
      400,
      "invalid_request",
      /43 to 128/,
    );
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "authorization_code",
        code: "x",
        redirect_uri: "http://127.0.0.1:1/cb",
      }),
      400,
      "invalid_request",
      /code_verifier is required/,
    );
    assertOAuthError(
      await postForm(`${platform.apiUrl}/oauth/token`, {
        grant_type: "refresh_token",
        refresh_token: "x",
        client_id: "someone-else",
      }),
      401,
      "invalid_client",
    );
    assertOAuthError(
      await exchange(platform.apiUrl, { grant_type: "password" }),
      400,
      "unsupported_grant_type",
    );
  });
});

Deno.test("expired authorization codes are refused", async () => {
  await withPlatform(async ({ platform }) => {
    const { code, verifier, redirectUri } = await authorize(platform.apiUrl);
    await sleep(1100);
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
      }),
      400,
      "invalid_grant",
      /expired/,
    );
  }, { authCodeTtlSeconds: 1 });
});

Deno.test("authorize: foreign redirect URIs and unknown clients get an error page, no redirect", async () => {
  await withPlatform(async ({ platform }) => {
    const { challenge } = await pkce();
    for (
      const redirectUri of [
        "https://evil.example/callback",
        "http://evil.example:8080/callback",
        "http://127.0.0.1.evil.example/cb",
        "https://127.0.0.1:8080/callback",
        "http://user@127.0.0.1:8080/callback",
        "not a url",
      ]
    ) {
      const response = await fetch(authorizeUrl(platform.apiUrl, { challenge, redirectUri }), {
        redirect: "manual",
      });
      const html = await response.text();
      assert.equal(response.status, 400, redirectUri);
      assert.equal(response.headers.get("location"), null);
      assert.match(html, /is not allowed|no redirect_uri/);
    }
    for (const redirectUri of ["http://[::1]:8080/cb", "http://localhost:8080/cb"]) {
      const page = await openLoginPage(authorizeUrl(platform.apiUrl, { challenge, redirectUri }));
      assert.equal(page.status, 200, redirectUri);
    }
    const unknown = await fetch(
      authorizeUrl(platform.apiUrl, {
        challenge,
        redirectUri: "http://127.0.0.1:8080/cb",
        clientId: "stranger",
      }),
    );
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /Unknown client/);
  });
});

Deno.test("authorize: missing PKCE or plain method redirects with error and state", async () => {
  await withPlatform(async ({ platform }) => {
    const base = authorizeUrl(platform.apiUrl, {
      challenge: "x".repeat(43),
      redirectUri: "http://127.0.0.1:7000/cb",
      state: "abc",
    });
    const plain = new URL(base);
    plain.searchParams.set("code_challenge_method", "plain");
    const noChallenge = new URL(base);
    noChallenge.searchParams.delete("code_challenge");
    const token = new URL(base);
    token.searchParams.set("response_type", "token");
    for (
      const [url, error] of [
        [plain, "invalid_request"],
        [noChallenge, "invalid_request"],
        [token, "unsupported_response_type"],
      ] as const
    ) {
      const response = await fetch(url, { redirect: "manual" });
      await response.body?.cancel();
      assert.equal(response.status, 303);
      const location = new URL(response.headers.get("location")!);
      assert.equal(location.origin, "http://127.0.0.1:7000");
      assert.equal(location.searchParams.get("error"), error);
      assert.equal(location.searchParams.get("state"), "abc");
      assert.equal(location.searchParams.get("code"), null);
    }
  });
});

Deno.test("login page: wrong password message, CSRF check, throttling", async () => {
  await withPlatform(async ({ platform }) => {
    const { challenge } = await pkce();
    const url = authorizeUrl(platform.apiUrl, {
      challenge,
      redirectUri: "http://127.0.0.1:7000/cb",
    });
    const page = await openLoginPage(url);
    assert.equal(page.status, 200);
    assert.match(page.html, /<form method="post"/);
    assert.ok(page.fields.get("csrf_token"));
    assert.match(page.cookie, /^cloudsignal_csrf=/);

    const noCookie = await submitLogin(platform.apiUrl, { ...page, cookie: "" }, EMAIL, PASSWORD);
    assert.equal(noCookie.status, 403);
    assert.match(await noCookie.text(), /Reload the page/);
    const forged = new URLSearchParams(page.fields);
    forged.set("csrf_token", "forged");
    const badToken = await submitLogin(
      platform.apiUrl,
      { ...page, fields: forged },
      EMAIL,
      PASSWORD,
    );
    assert.equal(badToken.status, 403);
    await badToken.body?.cancel();

    const unknownUser = await submitLogin(platform.apiUrl, page, "nobody@example.com", "x");
    assert.equal(unknownUser.status, 401);
    assert.match(await unknownUser.text(), /Wrong email or password\./);
    for (let attempt = 1; attempt < MAX_LOGIN_FAILURES; attempt++) {
      const wrong = await submitLogin(platform.apiUrl, page, EMAIL, "wrong password");
      assert.equal(wrong.status, 401);
      const html = await wrong.text();
      assert.match(html, /Wrong email or password\./);
      assert.match(html, /value="dev@cloudsignal.local"/, "the email is kept");
    }
    const last = await submitLogin(platform.apiUrl, page, EMAIL, "wrong password");
    assert.equal(last.status, 401);
    await last.body?.cancel();
    const throttled = await submitLogin(platform.apiUrl, page, EMAIL, PASSWORD);
    assert.equal(throttled.status, 429, "even the right password waits");
    assert.ok(Number(throttled.headers.get("retry-after")) > 0);
    assert.match(await throttled.text(), /Too many failed sign-in attempts/);
    const otherUser = await submitLogin(platform.apiUrl, page, "nobody@example.com", "x");
    assert.equal(otherUser.status, 401, "throttling is per email");
    await otherUser.body?.cancel();
  });
});

Deno.test("refresh rotation; a reused refresh token revokes the session", async () => {
  await withPlatform(async ({ platform }) => {
    const first = await login(platform.apiUrl);
    const second = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
    });
    assert.equal(second.status, 200);
    assertSchema("TokenResponse", second.body);
    assert.notEqual(second.body.refresh_token, first.refresh_token, "refresh tokens rotate");
    assert.notEqual(second.body.access_token, first.access_token);
    const third = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: String(second.body.refresh_token),
    });
    assert.equal(third.status, 200);
    const access = String(third.body.access_token);
    assert.equal((await api(platform.apiUrl, access, "GET", "/v2/me")).status, 200);

    const replay = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
    });
    assertOAuthError(replay, 400, "invalid_grant", /already used; the session is revoked/);
    assert.equal((await api(platform.apiUrl, access, "GET", "/v2/me")).status, 401);
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "refresh_token",
        refresh_token: String(third.body.refresh_token),
      }),
      400,
      "invalid_grant",
      /revoked/,
    );
    const other = await login(platform.apiUrl);
    assert.equal(
      (await api(platform.apiUrl, other.access_token, "GET", "/v2/me")).status,
      200,
      "other sessions of the user are untouched",
    );
    assert.deepEqual(platform.stats().tokenRequests, { authorization_code: 2, refresh_token: 4 });
  });
});

Deno.test("access and refresh tokens expire after their configured lifetimes", async () => {
  await withPlatform(async ({ platform }) => {
    const tokens = await login(platform.apiUrl);
    assert.equal(tokens.expires_in, 1);
    await sleep(1100);
    assert.equal((await api(platform.apiUrl, tokens.access_token, "GET", "/v2/me")).status, 401);
    const refreshed = await exchange(platform.apiUrl, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    assert.equal(refreshed.status, 200, "the refresh token outlives the access token");
    await sleep(2100);
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "refresh_token",
        refresh_token: String(refreshed.body.refresh_token),
      }),
      400,
      "invalid_grant",
      /expired/,
    );
  }, { accessTokenTtlSeconds: 1, refreshTokenTtlSeconds: 2 });
});

Deno.test("RFC 7009 revocation ends the session; unknown tokens still get 200", async () => {
  await withPlatform(async ({ platform }) => {
    const tokens = await login(platform.apiUrl);
    const revoke = await postForm(`${platform.apiUrl}/oauth/revoke`, {
      token: tokens.refresh_token,
      token_type_hint: "refresh_token",
      client_id: CLIENT,
    });
    assert.equal(revoke.status, 200);
    assert.equal((await api(platform.apiUrl, tokens.access_token, "GET", "/v2/me")).status, 401);
    assertOAuthError(
      await exchange(platform.apiUrl, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
      }),
      400,
      "invalid_grant",
    );
    const byAccess = await login(platform.apiUrl);
    await postForm(`${platform.apiUrl}/oauth/revoke`, { token: byAccess.access_token });
    assert.equal((await api(platform.apiUrl, byAccess.access_token, "GET", "/v2/me")).status, 401);
    const unknown = await postForm(`${platform.apiUrl}/oauth/revoke`, { token: "nothing" });
    assert.equal(unknown.status, 200);
    assertOAuthError(await postForm(`${platform.apiUrl}/oauth/revoke`, {}), 400, "invalid_request");
    assertOAuthError(
      await postForm(`${platform.apiUrl}/oauth/revoke`, { token: "x", client_id: "stranger" }),
      401,
      "invalid_client",
    );
  });
});

Deno.test("login page: Cancel redirects with access_denied and the state, and needs the CSRF token", async () => {
  await withPlatform(async ({ platform }) => {
    const { challenge } = await pkce();
    const url = authorizeUrl(platform.apiUrl, {
      challenge,
      redirectUri: "http://127.0.0.1:7000/cb",
      state: "s-123",
    });
    const page = await openLoginPage(url);
    assert.match(
      page.html,
      /<button type="submit" id="deny" name="decision" value="deny"[^>]*formnovalidate>/,
    );
    const deny = (fields: URLSearchParams, cookie: string) => {
      const body = new URLSearchParams(fields);
      body.set("decision", "deny");
      return fetch(`${platform.apiUrl}/oauth/authorize`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body,
        redirect: "manual",
      });
    };
    const forged = await deny(page.fields, "");
    assert.equal(forged.status, 403, "a cross-site form cannot cancel someone's sign-in");
    await forged.body?.cancel();
    const cancelled = await deny(page.fields, page.cookie);
    assert.equal(cancelled.status, 303);
    await cancelled.body?.cancel();
    const location = new URL(cancelled.headers.get("location")!);
    assert.equal(location.origin + location.pathname, "http://127.0.0.1:7000/cb");
    assert.equal(location.searchParams.get("error"), "access_denied");
    assert.equal(location.searchParams.get("state"), "s-123");
    assert.equal(location.searchParams.get("code"), null);
    assert.equal(location.searchParams.get("iss"), platform.apiUrl);
  });
});

Deno.test("login page: parallel guesses meet the throttle too", async () => {
  await withPlatform(async ({ platform }) => {
    const { challenge } = await pkce();
    const url = authorizeUrl(platform.apiUrl, {
      challenge,
      redirectUri: "http://127.0.0.1:7000/cb",
    });
    const page = await openLoginPage(url);
    const attempts = await Promise.all(
      Array.from({ length: 20 }, () => submitLogin(platform.apiUrl, page, EMAIL, "wrong password")),
    );
    const statuses = attempts.map((response) => response.status);
    await Promise.all(attempts.map((response) => response.body?.cancel()));
    assert.equal(statuses.filter((status) => status === 401).length, MAX_LOGIN_FAILURES);
    assert.equal(statuses.filter((status) => status === 429).length, 20 - MAX_LOGIN_FAILURES);
    const right = await submitLogin(platform.apiUrl, page, EMAIL, PASSWORD);
    assert.equal(right.status, 429, "the right password waits as well");
    await right.body?.cancel();
  });
});

Deno.test("requests naming another host are refused (DNS rebinding)", async () => {
  await withPlatform(async ({ platform }) => {
    const port = new URL(platform.apiUrl).port;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(new TextEncoder().encode(
      "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: evil.example:" + port +
        "\r\nConnection: close\r\n\r\n",
    ));
    const reply = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    assert.match(reply, /^HTTP\/1\.1 421 /);
    const local = await fetch(`http://localhost:${port}/.well-known/oauth-authorization-server`);
    assert.equal(local.status, 200);
    await local.body?.cancel();
  });
});
