import assert from "node:assert/strict";
import { httpRequest, redactText, redactUrl } from "../../src/api/http.ts";
import { UnavailableError } from "../../src/core/errors.ts";
import { testContext } from "../support/context.ts";

function serve(handler: (request: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return { url: `http://127.0.0.1:${server.addr.port}`, server };
}

Deno.test("redactUrl hides secret query values, user info and fragments", () => {
  assert.equal(
    redactUrl("http://u:p@127.0.0.1:8/callback?code=abc&state=s1&x=1&access_token=t#frag"),
    "http://127.0.0.1:8/callback?code=[redacted]&state=[redacted]&x=1&access_token=[redacted]",
  );
  assert.equal(
    redactText("error sending request for url (http://h/p?refresh_token=r1&ok=2): boom"),
    "error sending request for url (http://h/p?refresh_token=[redacted]&ok=2): boom",
  );
});

Deno.test("--debug logs method, redacted URL, status and time, never credentials", async () => {
  const seen: string[] = [];
  const { url, server } = serve(async (request) => {
    seen.push(request.headers.get("authorization") ?? "", await request.text());
    return Response.json({ ok: true });
  });
  try {
    const context = testContext({ debug: true });
    const response = await httpRequest(context, {
      method: "POST",
      url: `${url}/oauth/token?code=SECRET-CODE&keep=1`,
      headers: { authorization: "Bearer SECRET-ACCESS" },
      body: new URLSearchParams({ refresh_token: "SECRET-REFRESH", password: "SECRET-PW" }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { ok: true });
    assert.equal(seen[0], "Bearer SECRET-ACCESS");
    assert.match(
      context.logged.join("\n"),
      /^debug: POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token\?code=\[redacted\]&keep=1 → 200 \(\d+ ms\)$/,
    );
    assert.doesNotMatch(context.logged.join("\n"), /SECRET/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("without --debug nothing is logged", async () => {
  const { url, server } = serve(() => new Response("x"));
  try {
    const context = testContext({ debug: false });
    const response = await httpRequest(context, { url });
    assert.equal(response.text, "x");
    assert.deepEqual(context.logged, []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a refused connection is UnavailableError (exit 5) naming the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const context = testContext({ debug: true });
  const error = await httpRequest(context, {
    url: `http://127.0.0.1:${port}/x?code=SECRET`,
  }).then(() => null, (e) => e);
  assert.ok(error instanceof UnavailableError);
  assert.equal(error.code, "unavailable");
  assert.equal(error.message, `cannot reach 127.0.0.1:${port}: connection refused`);
  assert.match(context.logged.join("\n"), /→ failed: connection refused/);
  assert.doesNotMatch(context.logged.join("\n") + error.message, /SECRET/);
});

Deno.test("a server that does not answer in time is UnavailableError naming the host", async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  const { url, server } = serve(async () => {
    await hold;
    return new Response("late");
  });
  try {
    const error = await httpRequest(testContext(), {
      url,
      timeoutMs: 200,
    }).then(() => null, (e) => e);
    assert.ok(error instanceof UnavailableError);
    assert.equal(error.message, `${url.slice(7)} did not answer within 0.2 s`);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("redirects are not followed unless asked, so credentials stay on their origin", async () => {
  let followed = 0;
  const { url, server } = serve((request) => {
    if (new URL(request.url).pathname === "/target") {
      followed++;
      return new Response("target");
    }
    return new Response(null, { status: 302, headers: { location: "/target" } });
  });
  try {
    const context = testContext({ debug: false });
    const manual = await httpRequest(context, {
      url: `${url}/start`,
      headers: { authorization: "Bearer t" },
    });
    assert.equal(manual.status, 302);
    assert.equal(followed, 0);
    const followedResponse = await httpRequest(context, {
      url: `${url}/start`,
      followRedirects: true,
    });
    assert.equal(followedResponse.text, "target");
    assert.equal(followed, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a body that is not JSON is a clear UnavailableError when parsed", async () => {
  const { url, server } = serve(() => new Response("<html>proxy</html>", { status: 200 }));
  try {
    const response = await httpRequest(testContext(), {
      url: `${url}/v2/me`,
    });
    assert.throws(() => response.json(), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /answered .*\/v2\/me with HTTP 200 and a body that is not JSON/);
      return true;
    });
  } finally {
    await server.shutdown();
  }
});

/** A server that echoes what it was sent (the Authorization header and the body) in `status`. */
function echoing(status: number) {
  return serve(async (request) => {
    const body = await request.text();
    const authorization = request.headers.get("authorization") ?? "";
    return Response.json({
      error: "echo",
      message: `got ${authorization} and ${body}`,
      error_description: `raw ${decodeURIComponent(body)}`,
    }, { status });
  });
}

Deno.test("a bearer token a server echoes never comes back in the text, whatever the status", async () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl+/="quoted"';
  for (const status of [200, 400, 401, 403, 404, 409, 422, 429, 500, 503]) {
    const { url, server } = echoing(status);
    try {
      const response = await httpRequest(testContext(), {
        url: `${url}/v2/acl/policy`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, status);
      assert.equal(response.text.includes("eyJhbGciOiJSUzI1NiJ9"), false, response.text);
      // Still JSON, with the token replaced.
      const body = response.json() as { message: string };
      assert.match(body.message, /^got Bearer \[redacted\] and $/);
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test("form secrets an error echoes are redacted; a successful token answer keeps its tokens", async () => {
  const refresh = "rt-0123456789/abcdef+ghi=";
  const form = () =>
    new URLSearchParams({ grant_type: "refresh_token", refresh_token: refresh, client_id: "cli" });
  const failed = echoing(400);
  try {
    const response = await httpRequest(testContext(), {
      method: "POST",
      url: `${failed.url}/oauth/token`,
      body: form(),
    });
    assert.equal(response.text.includes("rt-0123456789"), false, response.text);
    assert.match(response.text, /client_id=cli/);
  } finally {
    await failed.server.shutdown();
  }
  // A server that does not rotate refresh tokens answers with the same one: it must stay.
  const { url, server } = serve(() =>
    Response.json({
      access_token: "new-access-token",
      token_type: "Bearer",
      refresh_token: refresh,
    })
  );
  try {
    const response = await httpRequest(testContext(), {
      method: "POST",
      url: `${url}/oauth/token`,
      body: form(),
    });
    assert.equal((response.json() as { refresh_token: string }).refresh_token, refresh);
  } finally {
    await server.shutdown();
  }
});
