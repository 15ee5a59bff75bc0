/**
 * Test support for the platform: a platform on free ports in a temporary directory, a plain
 * OAuth client that drives the login form over HTTP (PKCE S256), an API caller, and
 * response validation against schemas/openapi.json with ajv.
 */

import { Ajv2020 } from "npm:ajv@8.20.0/dist/2020.js";
import addFormats from "npm:ajv-formats@3.0.1";
import openapi from "../../schemas/openapi.json" with { type: "json" };
import policySchema from "../../schemas/acl-policy.schema.json" with { type: "json" };
import {
  type PlatformOptions,
  type RunningPlatform,
  startPlatform,
} from "../../src/platform/mod.ts";
import type { TokenResponse } from "../../src/api/openapi_types.ts";

/** The seeded user's password in tests. */
export const PASSWORD = "correct horse battery staple";
/** The seeded user's email in tests. */
export const EMAIL = "dev@cloudsignal.local";

/** A platform for one test, with its log lines. */
export interface TestPlatform {
  platform: RunningPlatform;
  logs: string[];
  dataDir: string;
  /** Closes the platform and removes its directory. */
  close(): Promise<void>;
}

/** Starts a platform on free ports in a fresh temporary directory. */
export async function startTestPlatform(
  options: Partial<PlatformOptions> = {},
): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "cloudsignal-platform-" });
  const logs: string[] = [];
  const platform = await startPlatform({
    apiPort: 0,
    mqttPort: 0,
    password: PASSWORD,
    log: (line) => logs.push(line),
    ...options,
    dataDir,
  });
  return {
    platform,
    logs,
    dataDir,
    close: async () => {
      await platform.close();
      if (!options.dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** A PKCE verifier and its S256 challenge. */
export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  return { verifier, challenge };
}

/** The authorize URL for a PKCE flow. */
export function authorizeUrl(
  apiUrl: string,
  params: {
    challenge: string;
    redirectUri: string;
    state?: string;
    clientId?: string;
    /** Default `openid offline_access` (a refresh token); null sends no scope. */
    scope?: string | null;
  },
): string {
  const url = new URL(`${apiUrl}/oauth/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", params.clientId ?? "cloudsignal-cli");
  url.searchParams.set("redirect_uri", params.redirectUri);
  url.searchParams.set("code_challenge", params.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  if (params.state !== undefined) url.searchParams.set("state", params.state);
  const scope = params.scope === undefined ? "openid offline_access" : params.scope;
  if (scope !== null) url.searchParams.set("scope", scope);
  return url.href;
}

/** Reads the hidden fields and the CSRF cookie of a login page. */
export async function openLoginPage(url: string): Promise<
  { status: number; fields: URLSearchParams; cookie: string; html: string }
> {
  const response = await fetch(url, { redirect: "manual" });
  const html = await response.text();
  const fields = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(match[1], unescape(match[2]));
  }
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0];
  return { status: response.status, fields, cookie, html };
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(
    /&gt;/g,
    ">",
  ).replace(/&amp;/g, "&");
}

/** Submits the login form; returns the response (a 303 to the redirect URI on success). */
export async function submitLogin(
  apiUrl: string,
  page: { fields: URLSearchParams; cookie: string },
  email: string,
  password: string,
): Promise<Response> {
  const body = new URLSearchParams(page.fields);
  body.set("email", email);
  body.set("password", password);
  return await fetch(`${apiUrl}/oauth/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: page.cookie },
    body,
    redirect: "manual",
  });
}

/** Logs in through the form and returns the code, its verifier and redirect URI. */
export async function authorize(
  apiUrl: string,
  options: {
    email?: string;
    password?: string;
    redirectUri?: string;
    state?: string;
    scope?: string | null;
  } = {},
): Promise<{ code: string; verifier: string; redirectUri: string; location: URL }> {
  const { verifier, challenge } = await pkce();
  const redirectUri = options.redirectUri ?? "http://127.0.0.1:45678/callback";
  const page = await openLoginPage(
    authorizeUrl(apiUrl, {
      challenge,
      redirectUri,
      state: options.state ?? "state-1",
      scope: options.scope,
    }),
  );
  if (page.status !== 200) throw new Error(`login page answered ${page.status}`);
  const response = await submitLogin(
    apiUrl,
    page,
    options.email ?? EMAIL,
    options.password ?? PASSWORD,
  );
  await response.body?.cancel();
  const location = response.headers.get("location");
  if (response.status !== 303 || !location) throw new Error(`login answered ${response.status}`);
  const url = new URL(location);
  return { code: url.searchParams.get("code")!, verifier, redirectUri, location: url };
}

/** POSTs a form to the token (or another OAuth) endpoint. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

/** Tokens of a login that asked for `offline_access`: a refresh token is always there. */
export type OfflineTokens = TokenResponse & { refresh_token: string };

/** The whole PKCE login with `openid offline_access`: tokens for the seeded user (or another). */
export async function login(
  apiUrl: string,
  options: { email?: string; password?: string } = {},
): Promise<OfflineTokens> {
  const { code, verifier, redirectUri } = await authorize(apiUrl, options);
  const response = await postForm(`${apiUrl}/oauth/token`, {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
    client_id: "cloudsignal-cli",
  });
  if (response.status !== 200) throw new Error(`token exchange: ${JSON.stringify(response.body)}`);
  const tokens = response.body as unknown as TokenResponse;
  if (typeof tokens.refresh_token !== "string") throw new Error("no refresh token");
  return tokens as OfflineTokens;
}

/** An API response. */
export interface ApiResult {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Calls the API. `body` is sent as JSON unless it is a string. */
export async function api(
  apiUrl: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResult> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema({ ...policySchema, $id: "https://cloudsignal.io/schemas/acl-policy.schema.json" });
ajv.addSchema({
  $id: "https://cloudsignal.io/schemas/openapi.json",
  $defs: {},
  components: openapi.components,
});

/** Asserts that `value` matches `#/components/schemas/<name>` of schemas/openapi.json. */
export function assertSchema(name: string, value: unknown): void {
  const validate = ajv.getSchema(
    `https://cloudsignal.io/schemas/openapi.json#/components/schemas/${name}`,
  );
  if (!validate) throw new Error(`no schema ${name} in schemas/openapi.json`);
  if (!validate(value)) {
    throw new Error(
      `response does not match ${name}: ${ajv.errorsText(validate.errors)}\n${
        JSON.stringify(value, null, 2)
      }`,
    );
  }
}

/** Checks an API error response: status, code, and the `ApiError` shape. */
export function assertApiError(
  result: ApiResult,
  status: number,
  code: string,
  schema = "ApiError",
) {
  if (result.status !== status || result.body?.error !== code) {
    throw new Error(
      `expected ${status} ${code}, got ${result.status}: ${result.text}`,
    );
  }
  assertSchema(schema, result.body);
}
