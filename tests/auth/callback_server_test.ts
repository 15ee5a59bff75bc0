import assert from "node:assert/strict";
import { startCallbackServer } from "../../src/auth/callback_server.ts";
import { OperationError } from "../../src/core/errors.ts";
import { failurePage, successPage } from "../../src/auth/pages.ts";

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers, redirect: "manual" });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** A raw HTTP/1.1 GET (fetch does not let a caller choose the Host header). */
async function rawGet(port: number, path: string, host: string): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  await connection.write(
    new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
  );
  let text = "";
  const buffer = new Uint8Array(4096);
  for (;;) {
    const read = await connection.read(buffer);
    if (read === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, read));
  }
  connection.close();
  return text;
}

async function refusedOn(hostname: string, port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname, port });
    connection.close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.AddrNotAvailable;
  }
}

function otherLocalAddresses(): string[] {
  const addresses = Deno.networkInterfaces()
    .map((i) => i.address)
    .filter((address) => address !== "127.0.0.1" && !address.startsWith("fe80"));
  return ["127.0.0.2", "::1", ...addresses];
}

Deno.test("listens on 127.0.0.1 only: every other local address refuses", async () => {
  const refused: string[] = [];
  const server = startCallbackServer({ port: 0, state: "s" });
  try {
    assert.match(server.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    connection.close();
    for (const address of otherLocalAddresses()) {
      if (await refusedOn(address, server.port)) refused.push(address);
      else assert.fail(`the callback server answered on ${address}`);
    }
    assert.ok(refused.includes("127.0.0.2"));
  } finally {
    await server.finish(failurePage("done"));
  }
});

Deno.test("a wrong or missing state is refused with a page and the login keeps waiting", async () => {
  const refusals: string[] = [];
  const server = startCallbackServer({
    port: 0,
    state: "the-state",
    onRefused: (r) => refusals.push(r),
  });
  let accepted = false;
  server.callback.then(() => (accepted = true));
  try {
    const wrong = await get(`${server.redirectUri}?code=c1&state=other`);
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /does not match the login in progress/);
    assert.equal(wrong.headers.get("referrer-policy"), "no-referrer");
    const missing = await get(`${server.redirectUri}?code=c1`);
    assert.equal(missing.status, 400);
    assert.deepEqual(refusals, [
      "a callback with a state that does not match",
      "a callback without state",
    ]);
    assert.equal(accepted, false);

    const good = get(`${server.redirectUri}?code=the-code&state=the-state`);
    const result = await server.callback;
    assert.deepEqual(result, { kind: "code", code: "the-code", iss: null });
    const second = await get(`${server.redirectUri}?code=other&state=the-state`);
    assert.equal(second.status, 409, "a second callback is refused");
    await server.finish(successPage("ada@example.com", "<Acme>"));
    const page = await good;
    assert.equal(page.status, 200);
    assert.match(page.text, /You can close this tab/);
    assert.match(page.text, /organization &lt;Acme&gt;/);
    assert.equal(await refusedOn("127.0.0.1", server.port), true, "closed after one callback");
  } finally {
    await server.finish(failurePage("done"));
  }
});

Deno.test("error=access_denied with the right state is reported", async () => {
  const server = startCallbackServer({ port: 0, state: "st" });
  try {
    const page = get(
      `${server.redirectUri}?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=st`,
    );
    assert.deepEqual(await server.callback, {
      kind: "error",
      error: "access_denied",
      description: "<b>no</b>",
      iss: null,
    });
    await server.finish(failurePage("<b>no</b>"));
    const { text } = await page;
    assert.match(text, /&lt;b&gt;no&lt;\/b&gt;/);
  } finally {
    await server.finish(failurePage("done"));
  }
});

Deno.test("requests for another Host (DNS rebinding), path or method are refused", async () => {
  const server = startCallbackServer({ port: 0, state: "st" });
  try {
    const rebinding = await rawGet(
      server.port,
      "/callback?code=c&state=st",
      `evil.example:${server.port}`,
    );
    assert.match(rebinding, /^HTTP\/1\.1 421 /);
    assert.equal((await get(`http://127.0.0.1:${server.port}/favicon.ico`)).status, 404);
    const post = await fetch(`${server.redirectUri}?code=c&state=st`, { method: "POST" });
    await post.body?.cancel();
    assert.equal(post.status, 405);
  } finally {
    await server.finish(failurePage("done"));
  }
});

Deno.test("a pinned port that is taken is a clear error", () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.throws(
      () => startCallbackServer({ port: listener.addr.port, state: "s" }),
      (error: unknown) =>
        error instanceof OperationError &&
        error.message ===
          `port ${listener.addr.port} on 127.0.0.1 is already in use, so the login callback cannot listen there`,
    );
  } finally {
    listener.close();
  }
});
