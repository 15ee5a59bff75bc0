/**
 * schemas/openapi.json documents every status the platform answers, per operation, and
 * nothing it cannot answer. The routes are read from the platform's own router; for each,
 * requests are generated (with and without a valid token, each path and query parameter
 * valid and not, the documented headers, bodies that are missing, empty, malformed, not
 * UTF-8, too large, of another media type, invalid and valid, another Host) and sent raw
 * over TCP, so Host, lengths and bytes are exactly as chosen. Every status seen must be
 * documented for its operation, with a body matching the documented schema; every
 * documented status must be seen.
 */

import assert from "node:assert/strict";
import openapi from "../../schemas/openapi.json" with { type: "json" };
import { MAX_BODY_BYTES, Router } from "../../src/platform/http.ts";
import { addOAuthRoutes, MAX_LOGIN_FAILURES } from "../../src/platform/oauth.ts";
import { addApiRoutes } from "../../src/platform/api.ts";
import {
  assertSchema,
  authorize,
  authorizeUrl,
  EMAIL,
  login,
  openLoginPage,
  pkce,
  postForm,
  startTestPlatform,
  submitLogin,
} from "./support.ts";

type Json = Record<string, unknown>;
const PATHS = openapi.paths as unknown as Record<string, Record<string, Json>>;
const COMPONENT_RESPONSES = openapi.components.responses as unknown as Record<string, Json>;

const METHODS = ["get", "put", "post", "delete", "patch"];

/** Documented operations as `GET /v2/me`. */
function documentedOperations(): string[] {
  return Object.entries(PATHS).flatMap(([path, item]) =>
    Object.keys(item).filter((key) => METHODS.includes(key)).map((method) =>
      `${method.toUpperCase()} ${path}`
    )
  );
}

function operation(key: string): Json {
  const [method, path] = key.split(" ");
  return PATHS[path][method.toLowerCase()];
}

function documentedResponse(key: string, status: number): Json | null {
  const responses = operation(key).responses as Record<string, Json>;
  const response = responses[String(status)];
  if (!response) return null;
  const ref = response.$ref;
  return typeof ref === "string" ? COMPONENT_RESPONSES[ref.split("/").at(-1)!] : response;
}

/** The routes the platform serves, from its router (HEAD is GET's). */
async function servedOperations(store: Parameters<typeof addApiRoutes>[1]["store"]) {
  const router = new Router();
  await addOAuthRoutes(router, {
    store,
    issuer: () => "http://127.0.0.1",
    lifetimes: { accessTtlSeconds: 60, refreshTtlSeconds: 60 },
    authCodeTtlSeconds: 60,
    log: () => {},
    stats: { authorization_code: 0, refresh_token: 0 },
  });
  addApiRoutes(router, { store, log: () => {} }, () => Promise.reject(new Error("unused")));
  return router.routes().filter((route) => route.method !== "HEAD");
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

interface Probe {
  method: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, end), 16);
    if (!size) break;
    out += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
  return out;
}

/** One HTTP/1.1 request over a fresh connection, exactly as given. */
async function send(port: number, probe: Probe): Promise<RawResponse> {
  const body = typeof probe.body === "string" ? new TextEncoder().encode(probe.body) : probe.body;
  const lines = [
    `${probe.method} ${probe.path} HTTP/1.1`,
    `Host: ${probe.host ?? `127.0.0.1:${port}`}`,
    "Connection: close",
    ...Object.entries(probe.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  if (body) lines.push(`Content-Length: ${body.length}`);
  const head = new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = new Uint8Array(head.length + (body?.length ?? 0));
  request.set(head);
  if (body) request.set(body, head.length);
  await conn.write(request);
  const reply = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  const split = reply.indexOf("\r\n\r\n");
  const [statusLine, ...headerLines] = reply.slice(0, split).split("\r\n");
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const rawBody = reply.slice(split + 4);
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: headers.get("transfer-encoding") === "chunked" ? dechunk(rawBody) : rawBody,
  };
}

const POLICY = {
  version: "2.2",
  default: "deny",
  rules: [{ topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" }],
  tests: [{
    name: "a owns its card",
    client: { username: "a", claims: { agent_id: "a" } },
    action: "pub",
    topic: "agents/a/card",
    expect: "allow",
  }],
};
const FAILING_TESTS = { ...POLICY, tests: [{ ...POLICY.tests[0], expect: "deny" }] };
const INVALID_POLICY = { version: "2.2", default: "deny", rules: [null] };
const ACL_REQUEST = { client: { username: "a" }, action: "pub", topic: "agents/a/card" };

const JSON_TYPE = { "content-type": "application/json" };
const FORM_TYPE = { "content-type": "application/x-www-form-urlencoded" };

/** A request body with its headers. */
type Body = Pick<Probe, "body" | "headers">;

/** Bodies for every operation that takes one. */
const GENERIC_BODIES: Body[] = [
  {},
  { body: "", headers: JSON_TYPE },
  { body: "{nope", headers: JSON_TYPE },
  { body: new Uint8Array([0x7b, 0xff, 0x7d]), headers: JSON_TYPE },
  { body: "[1]", headers: JSON_TYPE },
  { body: "{}", headers: JSON_TYPE },
  { body: "{}", headers: { "content-type": "text/plain" } },
  { body: new Uint8Array(MAX_BODY_BYTES + 1), headers: JSON_TYPE },
];

const json = (value: unknown): Body => ({ body: JSON.stringify(value), headers: JSON_TYPE });
const form = (fields: Record<string, string>): Body => ({
  body: new URLSearchParams(fields).toString(),
  headers: FORM_TYPE,
});

/** Bodies that only make sense for one operation. */
const BODIES: Record<string, Body[]> = {
  "PUT /v2/acl/policy": [json(POLICY), json(FAILING_TESTS), json(INVALID_POLICY)],
  "POST /v2/acl/validate": [json(POLICY), json(INVALID_POLICY)],
  "POST /v2/acl/simulate": [
    json({ request: ACL_REQUEST }),
    json({ request: ACL_REQUEST, policy: POLICY }),
    json({ request: ACL_REQUEST, policy: INVALID_POLICY }),
    json({ request: { client: {}, action: "read", topic: 1 } }),
  ],
  "PUT /v2/users/{id}/claims/{key}": [
    json({ value: "a" }),
    json({ value: 5 }),
    json({ value: "a/b" }),
    json({ value: "x".repeat(2000) }),
  ],
  "POST /oauth/token": [
    form({ client_id: "nope" }),
    form({ client_id: "cloudsignal-cli" }),
    form({ client_id: "cloudsignal-cli", grant_type: "password" }),
    form({ client_id: "cloudsignal-cli", grant_type: "refresh_token", refresh_token: "x" }),
  ],
  "POST /oauth/revoke": [
    form({ client_id: "nope", token: "x" }),
    form({ client_id: "cloudsignal-cli" }),
    form({ client_id: "cloudsignal-cli", token: "x" }),
  ],
  "POST /oauth/authorize": [form({ client_id: "cloudsignal-cli" })],
};

/** Values of each path parameter: the first is valid. */
const PATH_VALUES: Record<string, string[]> = {
  revision: ["1", "0", "99", "%E0"],
  id: ["dev", "nobody", "%E0"],
  key: ["agent_id", "absent", "bad.key", "%E0"],
};

const QUERY_VALUES = ["abc", "1", "99", "5000"];
const HEADER_VALUES = ['"1"', '"99"', "*"];

function paths(template: string): string[] {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
  const fill = (values: Record<string, string>) =>
    template.replace(/\{(\w+)\}/g, (_all, name: string) => values[name]);
  const valid = Object.fromEntries(names.map((name) => [name, PATH_VALUES[name][0]]));
  const out = new Set([fill(valid)]);
  for (const name of names) {
    for (const value of PATH_VALUES[name]) out.add(fill({ ...valid, [name]: value }));
  }
  return [...out];
}

function parameters(key: string, where: string): string[] {
  const list = (operation(key).parameters ?? []) as { name: string; in: string }[];
  return list.filter((parameter) => parameter.in === where).map((parameter) => parameter.name);
}

/** The generated requests of one operation. */
function probes(key: string, token: string): Probe[] {
  const [method, template] = key.split(" ");
  const auths: Record<string, string>[] = template.startsWith("/v2/")
    ? [{}, { authorization: "Bearer bogus" }, { authorization: `Bearer ${token}` }]
    : [{}];
  const queries = [""];
  for (const name of parameters(key, "query")) {
    for (const value of QUERY_VALUES) queries.push(`?${name}=${value}`);
  }
  if (key === "GET /oauth/authorize") {
    const base = { client_id: "cloudsignal-cli", redirect_uri: "http://127.0.0.1:9/cb" };
    queries.push(`?${new URLSearchParams(base)}`);
    queries.push(`?${new URLSearchParams({ ...base, response_type: "token" })}`);
  }
  const headerSets: Record<string, string>[] = [{}];
  for (const name of parameters(key, "header")) {
    for (const value of HEADER_VALUES) headerSets.push({ [name]: value });
  }
  const bodies: Body[] = method === "PUT" || method === "POST"
    ? [...GENERIC_BODIES, ...(BODIES[key] ?? [])]
    : [{}];
  const out: Probe[] = [];
  for (const path of paths(template)) {
    for (const auth of auths) {
      for (const query of queries) {
        for (const headers of headerSets) {
          for (const body of bodies) {
            out.push({
              method,
              path: path + query,
              ...body,
              headers: { ...auth, ...headers, ...body.headers },
            });
          }
        }
      }
    }
  }
  const last = out.at(-1)!;
  out.push({ ...last, host: "evil.example" });
  if (method === "GET") out.push({ ...last, method: "HEAD" });
  return out;
}

/** Operations that read no stored state: only a bug could make them fail with 500. */
const CANNOT_FAIL = new Set([
  "GET /.well-known/oauth-authorization-server",
  "GET /.well-known/openid-configuration",
  "GET /oauth/authorize",
]);

Deno.test("every status the platform answers is documented for its operation, and only those", async () => {
  const t = await startTestPlatform();
  const port = Number(new URL(t.platform.apiUrl).port);
  const seen = new Map<string, Set<number>>();
  const undocumented: string[] = [];
  const record = (key: string, probe: Probe | string, response: RawResponse) => {
    if (!seen.has(key)) seen.set(key, new Set());
    seen.get(key)!.add(response.status);
    const documented = documentedResponse(key, response.status);
    const what = typeof probe === "string" ? probe : `${probe.method} ${probe.path}`;
    if (!documented) {
      undocumented.push(`${key}: ${response.status} for ${what}: ${response.body.slice(0, 200)}`);
      return;
    }
    const content = documented.content as Record<string, { schema?: Json }> | undefined;
    const schema = content?.["application/json"]?.schema?.$ref;
    if (
      typeof schema === "string" && typeof probe !== "string" && probe.method !== "HEAD" &&
      (response.headers.get("content-type") ?? "").startsWith("application/json")
    ) {
      assertSchema(schema.split("/").at(-1)!, JSON.parse(response.body));
    }
  };
  try {
    const served = (await servedOperations(t.platform.store)).map((route) =>
      `${route.method} ${route.template}`
    );
    assert.deepEqual(served.toSorted(), documentedOperations().toSorted());

    // The OAuth flows the generated requests cannot complete: a real login, a wrong
    // password, a form without its CSRF cookie, throttling, a used code.
    const fetched = async (key: string, what: string, response: Response) => {
      const body = await response.text();
      record(key, what, { status: response.status, headers: response.headers, body });
    };
    const signedIn = await authorize(t.platform.apiUrl);
    record("POST /oauth/authorize", "login", {
      status: 303,
      headers: new Headers(),
      body: "",
    });
    const exchange = {
      grant_type: "authorization_code",
      code: signedIn.code,
      code_verifier: signedIn.verifier,
      redirect_uri: signedIn.redirectUri,
      client_id: "cloudsignal-cli",
    };
    const tokens = await postForm(`${t.platform.apiUrl}/oauth/token`, exchange);
    const reused = await postForm(`${t.platform.apiUrl}/oauth/token`, exchange);
    for (const result of [tokens, reused]) {
      record("POST /oauth/token", "code exchange", {
        status: result.status,
        headers: result.headers,
        body: JSON.stringify(result.body),
      });
    }
    const { access_token: token } = await login(t.platform.apiUrl);
    const { challenge } = await pkce();
    const pageUrl = authorizeUrl(t.platform.apiUrl, {
      challenge,
      redirectUri: "http://127.0.0.1:9/cb",
    });
    const page = await openLoginPage(pageUrl);
    record("GET /oauth/authorize", "login page", {
      status: page.status,
      headers: new Headers(),
      body: page.html,
    });
    for (let i = 0; i <= MAX_LOGIN_FAILURES; i++) {
      await fetched(
        "POST /oauth/authorize",
        "wrong password",
        await submitLogin(t.platform.apiUrl, page, "nobody@example.com", "wrong"),
      );
    }
    await fetched(
      "POST /oauth/authorize",
      "no CSRF cookie",
      await submitLogin(t.platform.apiUrl, { ...page, cookie: "" }, EMAIL, "wrong"),
    );

    for (const key of documentedOperations()) {
      for (const probe of probes(key, token)) record(key, probe, await send(port, probe));
    }

    // Another method on a documented path: 405, and Allow names the documented methods.
    for (const [path, item] of Object.entries(PATHS)) {
      const probe = { method: "PATCH", path: paths(path)[0] };
      const response = await send(port, probe);
      assert.equal(response.status, 405, path);
      const methods = Object.keys(item).filter((key) => METHODS.includes(key)).map((method) =>
        method.toUpperCase()
      );
      if (methods.includes("GET")) methods.push("HEAD");
      assert.deepEqual(response.headers.get("allow")!.split(", ").toSorted(), methods.toSorted());
    }
    assert.equal((await send(port, { method: "GET", path: "/v2/nothing" })).status, 404);

    // A failing store: every operation that reads it answers 500.
    t.platform.store.close();
    await fetched(
      "POST /oauth/authorize",
      "sign-in with a failing store",
      await submitLogin(t.platform.apiUrl, page, EMAIL, "any"),
    );
    for (const key of documentedOperations()) {
      for (const probe of probes(key, token).filter((probe) => !probe.host)) {
        const response = await send(port, probe);
        record(key, probe, response);
        if (response.status === 500) break;
      }
    }

    assert.deepEqual(undocumented, []);
    const missing: string[] = [];
    for (const key of documentedOperations()) {
      const statuses = Object.keys(operation(key).responses as Json).map(Number);
      for (const status of statuses) {
        if (status === 500 && CANNOT_FAIL.has(key)) continue;
        if (!seen.get(key)?.has(status)) missing.push(`${key}: ${status}`);
      }
    }
    assert.deepEqual(missing, [], "documented statuses that no request produced");
  } finally {
    await t.close();
  }
});
