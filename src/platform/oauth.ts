/**
 * The OAuth 2.0 authorization server: RFC 8414 metadata, the login page (authorization
 * code flow with PKCE S256 only, loopback redirect URIs only), the token endpoint
 * (authorization_code and refresh_token grants, refresh rotation with reuse detection) and
 * RFC 7009 revocation. Scopes work as at the big providers: a refresh token only with
 * `offline_access`, and the granted scope in every token response.
 */

import type { AuthorizationServerMetadata, TokenResponse } from "../api/openapi_types.ts";
import { FailureThrottle, MAX_LOGIN_FAILURES, THROTTLE_SECONDS } from "./throttle.ts";

export { MAX_LOGIN_FAILURES, THROTTLE_SECONDS };
import {
  hashPassword,
  hmac,
  pkceChallenge,
  randomToken,
  timingSafeEqual,
  verifyPassword,
} from "./crypto.ts";
import { escapeHtml, HttpError, json, readBody, type Router } from "./http.ts";
import type { PlatformStore, SessionTokens, TokenLifetimes, UserRecord } from "./store.ts";

/** Registered OAuth clients (all public: PKCE instead of a secret). */
export const CLIENTS: Record<string, { name: string }> = {
  "cloudsignal-cli": { name: "CloudSignal CLI" },
};

/** The scopes this server grants (`scopes_supported`). */
export const SCOPES_SUPPORTED = ["openid", "offline_access"] as const;

/** The scope that makes the token response carry a refresh token. */
export const OFFLINE_ACCESS = "offline_access";

/**
 * A requested `scope` checked against `SCOPES_SUPPORTED`: the granted scope (null when none
 * was asked for) or the unknown scope.
 */
export function grantScope(requested: string | null): { scope: string | null } | {
  unknown: string;
} {
  const scopes = [...new Set((requested ?? "").split(" ").filter((scope) => scope !== ""))];
  const unknown = scopes.find((scope) => !(SCOPES_SUPPORTED as readonly string[]).includes(scope));
  if (unknown !== undefined) return { unknown };
  return { scope: scopes.length === 0 ? null : scopes.join(" ") };
}

const CSRF_COOKIE = "cloudsignal_csrf";
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Settings of the authorization server. */
export interface OAuthOptions {
  store: PlatformStore;
  issuer: () => string;
  lifetimes: TokenLifetimes;
  authCodeTtlSeconds: number;
  log: (line: string) => void;
  stats: { authorization_code: number; refresh_token: number };
}

/** Whether a redirect URI is an `http://` loopback address (RFC 8252): the parsed URL or null. */
export function loopbackRedirect(uri: string): URL | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== "http:") return null;
  if (!["127.0.0.1", "[::1]", "localhost"].includes(url.hostname)) return null;
  if (url.username !== "" || url.password !== "" || url.hash !== "") return null;
  return url;
}

interface AuthorizationRequest {
  response_type: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  code_challenge_method: string;
  state: string | null;
  scope: string | null;
}

function readAuthorizationRequest(params: URLSearchParams): AuthorizationRequest {
  return {
    response_type: params.get("response_type") ?? "",
    client_id: params.get("client_id") ?? "",
    redirect_uri: params.get("redirect_uri") ?? "",
    code_challenge: params.get("code_challenge") ?? "",
    code_challenge_method: params.get("code_challenge_method") ?? "",
    state: params.get("state"),
    scope: params.get("scope"),
  };
}

type Checked =
  | { ok: true; redirect: URL; scope: string | null }
  | { ok: false; page: string }
  | { ok: false; redirect: URL; error: string; description: string };

/** RFC 6749 4.1.2.1: client and redirect URI problems never redirect; the rest do. */
function checkAuthorizationRequest(request: AuthorizationRequest): Checked {
  if (request.client_id === "") return { ok: false, page: "The request names no client_id." };
  if (!Object.hasOwn(CLIENTS, request.client_id)) {
    return { ok: false, page: `Unknown client "${request.client_id}".` };
  }
  const redirect = loopbackRedirect(request.redirect_uri);
  if (!redirect) {
    return {
      ok: false,
      page: request.redirect_uri === ""
        ? "The request names no redirect_uri."
        : `The redirect URI "${request.redirect_uri}" is not allowed: it must be http:// on ` +
          "127.0.0.1, [::1] or localhost (any port), per RFC 8252.",
    };
  }
  const fail = (error: string, description: string): Checked => ({
    ok: false,
    redirect,
    error,
    description,
  });
  if (request.response_type !== "code") {
    return fail("unsupported_response_type", "response_type must be code");
  }
  if (request.code_challenge === "") {
    return fail("invalid_request", "code_challenge is required (PKCE with S256)");
  }
  if (request.code_challenge_method !== "S256") {
    return fail(
      "invalid_request",
      "code_challenge_method must be S256 (plain is not supported)",
    );
  }
  if (!CHALLENGE.test(request.code_challenge)) {
    return fail("invalid_request", "code_challenge must be 43 base64url characters");
  }
  const granted = grantScope(request.scope);
  if ("unknown" in granted) {
    return fail(
      "invalid_scope",
      `unknown scope "${granted.unknown}" (this server grants ${SCOPES_SUPPORTED.join(", ")})`,
    );
  }
  return { ok: true, redirect, scope: granted.scope };
}

function redirectTo(url: URL, params: Record<string, string | null>, issuer: string): Response {
  const target = new URL(url.href);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null) target.searchParams.set(key, value);
  }
  target.searchParams.set("iss", issuer);
  return new Response(null, {
    status: 303,
    headers: {
      location: target.href,
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    },
  });
}

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const STYLE = `
body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }
main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem;
  border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.3rem; margin-top: 0; }
label { display: block; margin: 1rem 0 .3rem; font-weight: 600; }
input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem;
  font-size: 1rem; border: 1px solid #bbb; border-radius: 4px; }
button { margin-top: 1.5rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0;
  border-radius: 4px; background: #2456d3; color: #fff; cursor: pointer; }
button.secondary { margin-top: .6rem; background: #fff; color: #2456d3; border: 1px solid #2456d3; }
.error { background: #fde8e8; color: #8a1c1c; padding: .6rem; border-radius: 4px; }
.note { color: #666; font-size: .85rem; }`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>
`;
}

function htmlResponse(html: string, status: number, headers: Record<string, string> = {}) {
  return new Response(html, { status, headers: { ...PAGE_HEADERS, ...headers } });
}

function errorPage(message: string, status = 400): Response {
  return htmlResponse(
    page(
      "Sign-in error - CloudSignal",
      `<h1>Cannot sign in</h1><p class="error" role="alert">${escapeHtml(message)}</p>
<p class="note">Start the login again from the application (for example <code>cloudsignal login</code>).</p>`,
    ),
    status,
  );
}

function loginPage(
  request: AuthorizationRequest,
  csrf: string,
  options: { email?: string; error?: string },
): string {
  const client = CLIENTS[request.client_id];
  const hidden = Object.entries({
    response_type: request.response_type,
    client_id: request.client_id,
    redirect_uri: request.redirect_uri,
    code_challenge: request.code_challenge,
    code_challenge_method: request.code_challenge_method,
    state: request.state,
    scope: request.scope,
    csrf_token: csrf,
  }).filter(([, value]) => value !== null).map(([name, value]) =>
    `<input type="hidden" name="${name}" value="${escapeHtml(value!)}">`
  ).join("\n");
  const error = options.error
    ? `<p class="error" role="alert" id="login-error">${escapeHtml(options.error)}</p>`
    : "";
  return page(
    "Sign in - CloudSignal",
    `<h1>Sign in to CloudSignal</h1>
<p class="note">${escapeHtml(client.name)} asks to act for you in your organization.
Development platform (cloudsignal dev): no TLS, loopback only.</p>
${error}
<form method="post" action="/oauth/authorize">
${hidden}
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="username" required autofocus value="${
      escapeHtml(options.email ?? "")
    }">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="sign-in" name="decision" value="allow">Sign in</button>
<button type="submit" id="deny" name="decision" value="deny" class="secondary" formnovalidate>Cancel</button>
</form>`,
  );
}

function cookieValue(request: Request, name: string): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return null;
}

function oauthError(status: number, error: string, description: string): Response {
  return json({ error, error_description: description, message: description }, status, {
    pragma: "no-cache",
  });
}

async function readForm(request: Request): Promise<URLSearchParams> {
  const text = await readBody(request);
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HttpError(400, "invalid_request", "the body is not valid JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new HttpError(400, "invalid_request", "the body must be a JSON object");
    }
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === "string") params.set(key, value);
    }
    return params;
  }
  return new URLSearchParams(text);
}

/** Adds the OAuth endpoints to `router`. */
export async function addOAuthRoutes(router: Router, options: OAuthOptions): Promise<void> {
  const { store, log } = options;
  const csrfSecret = store.setting("csrf_secret", () => randomToken(32));
  const throttle = new FailureThrottle();
  const dummyHash = await hashPassword(randomToken(16));

  const metadata = (): AuthorizationServerMetadata => {
    const issuer = options.issuer();
    return {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
      revocation_endpoint_auth_methods_supported: ["none"],
      scopes_supported: [...SCOPES_SUPPORTED],
      service_documentation: "https://github.com/cloudsignal/cli/blob/main/docs/platform.md",
    };
  };
  router.on("GET", "/.well-known/oauth-authorization-server", () => json(metadata()));
  router.on("GET", "/.well-known/openid-configuration", () => json(metadata()));

  const csrfFor = async (request: Request) => {
    const existing = cookieValue(request, CSRF_COOKIE);
    const value = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken(32);
    return {
      value,
      token: await hmac(csrfSecret, value),
      cookie: `${CSRF_COOKIE}=${value}; Path=/oauth; HttpOnly; SameSite=Strict`,
    };
  };

  router.on("GET", "/oauth/authorize", async ({ request, url }) => {
    const authorization = readAuthorizationRequest(url.searchParams);
    const checked = checkAuthorizationRequest(authorization);
    if (!checked.ok) {
      if ("page" in checked) {
        log(`[oauth] authorize refused: ${checked.page}`);
        return errorPage(checked.page);
      }
      log(`[oauth] authorize error ${checked.error}: ${checked.description}`);
      return redirectTo(checked.redirect, {
        error: checked.error,
        error_description: checked.description,
        state: authorization.state,
      }, options.issuer());
    }
    const csrf = await csrfFor(request);
    return htmlResponse(loginPage(authorization, csrf.token, {}), 200, {
      "set-cookie": csrf.cookie,
    });
  });

  router.on("POST", "/oauth/authorize", async ({ request }) => {
    const form = new URLSearchParams(await readBody(request));
    const authorization = readAuthorizationRequest(form);
    const checked = checkAuthorizationRequest(authorization);
    if (!checked.ok) return errorPage("page" in checked ? checked.page : checked.description);
    const cookie = cookieValue(request, CSRF_COOKIE);
    const sent = form.get("csrf_token") ?? "";
    if (!cookie || !timingSafeEqual(await hmac(csrfSecret, cookie), sent)) {
      log("[oauth] login refused: CSRF token missing or wrong");
      return errorPage(
        "This form expired or did not come from this sign-in page. Reload the page and try again.",
        403,
      );
    }
    if (form.get("decision") === "deny") {
      log(`[oauth] sign-in cancelled; access_denied sent to ${checked.redirect.origin}`);
      return redirectTo(
        checked.redirect,
        {
          error: "access_denied",
          error_description: "The user cancelled the sign-in.",
          state: authorization.state,
        },
        options.issuer(),
      );
    }
    const csrf = await csrfFor(request);
    const email = (form.get("email") ?? "").trim();
    const password = form.get("password") ?? "";
    const admission = await throttle.admit(email);
    if (!admission.admitted) {
      const wait = admission.seconds;
      log(`[oauth] login throttled for ${email} (${wait} s left)`);
      return htmlResponse(
        loginPage(authorization, csrf.token, {
          email,
          error: `Too many failed sign-in attempts. Try again in ${wait} seconds.`,
        }),
        429,
        { "retry-after": String(wait), "set-cookie": csrf.cookie },
      );
    }
    let user: UserRecord | null;
    let ok: boolean;
    try {
      user = email === "" ? null : store.userByEmail(email);
      ok = user
        ? await store.verifyPassword(user.id, password)
        : (await verifyPassword(password, dummyHash), false);
    } catch (error) {
      throttle.abandoned(email);
      throw error;
    }
    if (!user || !ok) {
      throttle.failed(email);
      log(`[oauth] login failed for ${email || "(no email)"}: wrong email or password`);
      return htmlResponse(
        loginPage(authorization, csrf.token, { email, error: "Wrong email or password." }),
        401,
        { "set-cookie": csrf.cookie },
      );
    }
    throttle.succeeded(email);
    const code = await store.createAuthCode({
      user_id: user.id,
      client_id: authorization.client_id,
      redirect_uri: authorization.redirect_uri,
      code_challenge: authorization.code_challenge,
      ttlSeconds: options.authCodeTtlSeconds,
      scope: checked.scope,
    });
    log(`[oauth] login ok for ${user.email}; code issued to ${checked.redirect.origin}`);
    return redirectTo(checked.redirect, { code, state: authorization.state }, options.issuer());
  });

  router.on("POST", "/oauth/token", async ({ request }) => {
    const form = await readForm(request);
    const grant = form.get("grant_type") ?? "";
    if (grant === "authorization_code" || grant === "refresh_token") options.stats[grant]++;
    const clientId = form.get("client_id") ?? "";
    if (clientId === "" || !Object.hasOwn(CLIENTS, clientId)) {
      log(`[oauth] token refused: unknown client "${clientId}"`);
      return oauthError(
        401,
        "invalid_client",
        clientId === "" ? "client_id is required" : `unknown client "${clientId}"`,
      );
    }
    if (grant === "authorization_code") return await codeGrant(form, clientId);
    if (grant === "refresh_token") return await refreshGrant(form, clientId);
    return oauthError(
      400,
      grant === "" ? "invalid_request" : "unsupported_grant_type",
      grant === ""
        ? "grant_type is required"
        : `grant_type "${grant}" is not supported (authorization_code, refresh_token)`,
    );
  });

  const tokenResponse = (tokens: SessionTokens): Response => {
    const body: TokenResponse = {
      access_token: tokens.access_token,
      token_type: "Bearer",
      expires_in: tokens.expires_in,
      ...(tokens.refresh_token === null ? {} : {
        refresh_token: tokens.refresh_token,
        refresh_token_expires_in: tokens.refresh_expires_in ?? undefined,
      }),
      ...(tokens.scope === null ? {} : { scope: tokens.scope }),
    };
    return json(body, 200, { pragma: "no-cache" });
  };

  const codeGrant = async (form: URLSearchParams, clientId: string): Promise<Response> => {
    const code = form.get("code") ?? "";
    const redirectUri = form.get("redirect_uri") ?? "";
    const verifier = form.get("code_verifier") ?? "";
    for (const [name, value] of [["code", code], ["redirect_uri", redirectUri]]) {
      if (value === "") return oauthError(400, "invalid_request", `${name} is required`);
    }
    if (verifier === "") {
      return oauthError(400, "invalid_request", "code_verifier is required (PKCE)");
    }
    if (!VERIFIER.test(verifier)) {
      return oauthError(
        400,
        "invalid_request",
        "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
      );
    }
    const redeemed = await store.redeemAuthCode(code);
    if (!redeemed.ok) {
      const why = {
        unknown: "unknown authorization code",
        used: "the authorization code was already used; the session it created is revoked",
        expired: "the authorization code expired",
      }[redeemed.reason];
      log(`[oauth] code grant refused: ${why}`);
      return oauthError(400, "invalid_grant", why);
    }
    let problem: string | null = null;
    if (redeemed.client_id !== clientId) problem = "the code was issued to another client";
    else if (redeemed.redirect_uri !== redirectUri) {
      problem = "redirect_uri differs from the one of the authorization request";
    } else if (!timingSafeEqual(await pkceChallenge(verifier), redeemed.code_challenge)) {
      problem = "code_verifier does not match the code_challenge";
    }
    if (problem) {
      log(`[oauth] code grant refused: ${problem}`);
      return oauthError(400, "invalid_grant", problem);
    }
    const user = store.user(redeemed.user_id);
    if (!user) return oauthError(400, "invalid_grant", "the user no longer exists");
    const offline = (redeemed.scope ?? "").split(" ").includes(OFFLINE_ACCESS);
    const tokens = await store.startSession(user.id, clientId, options.lifetimes, {
      scope: redeemed.scope,
      offline,
    });
    redeemed.attach(tokens.session_id);
    log(
      `[oauth] tokens issued to ${user.email} (new session; scope ${redeemed.scope ?? "none"}${
        offline ? "" : ", no refresh token without offline_access"
      })`,
    );
    return tokenResponse(tokens);
  };

  const refreshGrant = async (form: URLSearchParams, clientId: string): Promise<Response> => {
    const token = form.get("refresh_token") ?? "";
    if (token === "") return oauthError(400, "invalid_request", "refresh_token is required");
    const narrower = grantScope(form.get("scope"));
    if ("unknown" in narrower) {
      return oauthError(400, "invalid_scope", `unknown scope "${narrower.unknown}"`);
    }
    const outcome = await store.refresh(token, clientId, options.lifetimes, narrower.scope);
    if (!outcome.ok) {
      const why = {
        unknown: "unknown refresh token",
        reused: "the refresh token was already used; the session is revoked (reuse detection)",
        expired: "the refresh token expired",
        revoked: "the session was revoked",
        client_mismatch: "the refresh token was issued to another client",
        scope_not_granted: "the scope asked for is more than this session was granted",
      }[outcome.reason];
      log(`[oauth] refresh refused: ${why}`);
      const code = outcome.reason === "scope_not_granted" ? "invalid_scope" : "invalid_grant";
      return oauthError(400, code, why);
    }
    log(`[oauth] tokens refreshed (session ${outcome.tokens.session_id.slice(0, 8)})`);
    return tokenResponse(outcome.tokens);
  };

  router.on("POST", "/oauth/revoke", async ({ request }) => {
    const form = await readForm(request);
    const token = form.get("token") ?? "";
    const clientId = form.get("client_id");
    if (clientId !== null && !Object.hasOwn(CLIENTS, clientId)) {
      return oauthError(401, "invalid_client", `unknown client "${clientId}"`);
    }
    if (token === "") return oauthError(400, "invalid_request", "token is required");
    const revoked = await store.revokeToken(token, "revoked by the client (RFC 7009)");
    log(`[oauth] revocation: ${revoked ? "session revoked" : "nothing to revoke"}`);
    return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
  });
}
