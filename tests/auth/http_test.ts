import assert from "node:assert/strict";
import { httpRequest, redactText, redactUrl } from "../../src/api/http.ts";
import { UnavailableError } from "../../src/cli/errors.ts";
import { EXIT_UNAVAILABLE } from "../../src/cli/exit_codes.ts";
import { recordingIo } from "../../src/cli/io.ts";

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
    const io = recordingIo();
    const response = await httpRequest({ io, debug: true }, {
      method: "POST",
      url: `${url}/oauth/token?code=SECRET-CODE&keep=1`,
      headers: { authorization: "Bearer SECRET-ACCESS" },
      body: new URLSearchParams({ refresh_token: "SECRET-REFRESH", password: "SECRET-PW" }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { ok: true });
    assert.equal(seen[0], "Bearer SECRET-ACCESS");
    assert.match(
      io.stderr,
      /^debug: POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token\?code=\[redacted\]&keep=1 → 200 \(\d+ ms\)\n$/,
    );
    assert.doesNotMatch(io.stderr + io.stdout, /SECRET/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("without --debug nothing is logged", async () => {
  const { url, server } = serve(() => new Response("x"));
  try {
    const io = recordingIo();
    const response = await httpRequest({ io, debug: false }, { url });
    assert.equal(response.text, "x");
    assert.equal(io.stderr, "");
  } finally {
    await server.shutdown();
  }
});

Deno.test("a refused connection is UnavailableError (exit 5) naming the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const io = recordingIo();
  const error = await httpRequest({ io, debug: true }, {
    url: `http://127.0.0.1:${port}/x?code=SECRET`,
  }).then(() => null, (e) => e);
  assert.ok(error instanceof UnavailableError);
  assert.equal(error.exitCode, EXIT_UNAVAILABLE);
  assert.equal(error.message, `cannot reach 127.0.0.1:${port}: connection refused`);
  assert.match(io.stderr, /→ failed: connection refused/);
  assert.doesNotMatch(io.stderr + error.message, /SECRET/);
});

Deno.test("a server that does not answer in time is UnavailableError naming the host", async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  const { url, server } = serve(async () => {
    await hold;
    return new Response("late");
  });
  try {
    const error = await httpRequest({ io: recordingIo(), debug: false }, {
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
    const io = recordingIo();
    const manual = await httpRequest({ io, debug: false }, {
      url: `${url}/start`,
      headers: { authorization: "Bearer t" },
    });
    assert.equal(manual.status, 302);
    assert.equal(followed, 0);
    const followedResponse = await httpRequest({ io, debug: false }, {
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
    const response = await httpRequest({ io: recordingIo(), debug: false }, {
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
