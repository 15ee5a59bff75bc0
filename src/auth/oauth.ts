/**
 * The OAuth 2.0 client side: server metadata discovery (RFC 8414, then OpenID Connect
 * discovery), the token endpoint (authorization code with PKCE, refresh), and revocation
 * (RFC 7009). Public client: no secret, `client_id` in the body.
 */

import { OperationError, UnavailableError, UsageError } from "../core/errors.ts";
import { printable } from "../core/printable.ts";

export { printable };
import {
  hostOf,
  type HttpContext,
  httpRequest,
  type HttpResponse,
  redactUrl,
} from "../api/http.ts";

/** The client id of the CLI unless `--client-id` / `CLOUDSIGNAL_CLIENT_ID` says otherwise. */
export const DEFAULT_CLIENT_ID = "cloudsignal-cli";

/** What the CLI uses of an authorization server's metadata. */
export interface ServerMetadata {
  /** The document's URL. */
  source: string;
  issuer: string | null;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string | null;
  /** RFC 9207: the server puts `iss` in the authorization response. */
  authorization_response_iss_parameter_supported: boolean;
  /** The scopes the server lists, or null when it lists none. */
  scopes_supported: string[] | null;
}

/**
 * The scopes asked for when the server lists them: `openid` (who signs in) and
 * `offline_access` (a refresh token, at most providers). The CloudSignal API needs no scope
 * of its own: a token acts for its user in one organization.
 */
export const WANTED_SCOPES = ["openid", "offline_access"] as const;

/** `--scope` / CLOUDSIGNAL_SCOPE: scopes separated by spaces or commas; empty asks for none. */
export function parseScope(value: string): string | null {
  const scopes = [...new Set(value.split(/[\s,]+/).filter((scope) => scope !== ""))];
  for (const scope of scopes) {
    // RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new UsageError(
        `--scope: "${
          printable(scope, 60)
        }" is not a scope (printable ASCII without spaces, quotes or backslashes)`,
        undefined,
        "scope",
      );
    }
  }
  return scopes.length === 0 ? null : scopes.join(" ");
}

/**
 * The scope of the authorization request: the override when given (`--scope`), else the
 * wanted scopes the server lists, else none (null: no `scope` parameter).
 */
export function requestedScope(metadata: ServerMetadata, override?: string): string | null {
  if (override !== undefined) return parseScope(override);
  const listed = metadata.scopes_supported;
  if (listed === null) return null;
  const scopes = WANTED_SCOPES.filter((scope) => listed.includes(scope));
  return scopes.length === 0 ? null : scopes.join(" ");
}

/** The well-known documents tried, in order. */
export const METADATA_PATHS = [
  "/.well-known/oauth-authorization-server",
  "/.well-known/openid-configuration",
] as const;

/** True for the loopback hosts where plain http is acceptable. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Refuses an API URL that would expose credentials: not https (http only on a loopback
 * address, as for `cloudsignal dev`), or carrying a user, password, query or fragment.
 */
export function checkApiUrl(apiUrl: string): void {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new OperationError(
      `the API URL ${JSON.stringify(apiUrl)} is not a URL`,
      "Set --api-url or CLOUDSIGNAL_API_URL to e.g. https://api.cloudsignal.io",
    );
  }
  const secure = url.protocol === "https:" ||
    (url.protocol === "http:" && isLoopbackHost(url.hostname));
  if (!secure) {
    throw new OperationError(
      `refusing to send credentials to ${redactUrl(url)}: the API URL must use https ` +
        "(plain http only on 127.0.0.1, [::1] or localhost)",
      "Check --api-url / CLOUDSIGNAL_API_URL.",
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new OperationError(
      `the API URL must not hold a user, password, query or fragment (${redactUrl(url)})`,
      "Check --api-url / CLOUDSIGNAL_API_URL.",
    );
  }
}

/**
 * Checks that `value` is an absolute https URL (http only on loopback); returns it.
 * `what` names the field for the message.
 */
export function checkEndpoint(value: unknown, what: string, source: string): string {
  if (typeof value !== "string" || value === "") {
    throw new OperationError(
      `the OAuth metadata at ${source} has no ${what}`,
      "Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OperationError(
      `the OAuth metadata at ${source} has an invalid ${what}: expected an absolute URL`,
    );
  }
  const secure = url.protocol === "https:" ||
    (url.protocol === "http:" && isLoopbackHost(url.hostname));
  if (!secure || url.username || url.password || url.hash) {
    throw new OperationError(
      `the OAuth metadata at ${source} has an unsafe ${what} (${redactUrl(url)}): ` +
        "expected an https URL (http only on 127.0.0.1, ::1 or localhost), without credentials or fragment",
    );
  }
  return url.href;
}

/**
 * Fetches the authorization server's metadata from `<apiUrl>/.well-known/oauth-authorization-server`,
 * falling back to `<apiUrl>/.well-known/openid-configuration` when the first is missing
 * (4xx) or not a JSON object. Requires `authorization_endpoint` and `token_endpoint`; refuses
 * a server that lists PKCE methods without S256.
 */
export async function discoverMetadata(
  context: HttpContext,
  apiUrl: string,
  signal?: AbortSignal,
): Promise<ServerMetadata> {
  const tried: string[] = [];
  for (const path of METADATA_PATHS) {
    const source = `${apiUrl}${path}`;
    const response = await httpRequest(context, { url: source, followRedirects: true, signal });
    if (response.status >= 500 || response.status === 429) {
      throw new UnavailableError(
        `${hostOf(source)} answered HTTP ${response.status} to the OAuth metadata request`,
        "The server may be down or overloaded; try again shortly.",
      );
    }
    let document: unknown = null;
    if (response.ok) {
      try {
        document = JSON.parse(response.text);
      } catch { /* not JSON: try the next document */ }
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      tried.push(`${source} (${response.ok ? "not a JSON object" : `HTTP ${response.status}`})`);
      continue;
    }
    return parseMetadata(document as Record<string, unknown>, source);
  }
  throw new OperationError(
    `the API at ${apiUrl} publishes no OAuth metadata: tried ${tried.join(" and ")}`,
    "Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
  );
}

/** Checks a metadata document (exported for tests). */
export function parseMetadata(document: Record<string, unknown>, source: string): ServerMetadata {
  const methods = document.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes("S256")) {
    throw new OperationError(
      `the authorization server at ${source} does not support PKCE with S256 ` +
        `(code_challenge_methods_supported: ${JSON.stringify(methods)})`,
      "The CLI only logs in with PKCE S256, which the server must offer.",
    );
  }
  const revocation = document.revocation_endpoint;
  const scopes = document.scopes_supported;
  return {
    source,
    issuer: typeof document.issuer === "string" && document.issuer !== "" ? document.issuer : null,
    authorization_endpoint: checkEndpoint(
      document.authorization_endpoint,
      "authorization_endpoint",
      source,
    ),
    token_endpoint: checkEndpoint(document.token_endpoint, "token_endpoint", source),
    revocation_endpoint: revocation === undefined || revocation === null
      ? null
      : checkEndpoint(revocation, "revocation_endpoint", source),
    authorization_response_iss_parameter_supported:
      document.authorization_response_iss_parameter_supported === true,
    scopes_supported: Array.isArray(scopes)
      ? scopes.filter((scope): scope is string => typeof scope === "string")
      : null,
  };
}

/**
 * The URL the browser opens: the authorization request with PKCE, state and the scope; with
 * `offline_access`, also `prompt=consent`, without which OpenID providers drop that scope.
 */
export function authorizationUrl(
  metadata: ServerMetadata,
  parameters: {
    clientId: string;
    redirectUri: string;
    challenge: string;
    state: string;
    scope: string | null;
  },
): string {
  const url = new URL(metadata.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", parameters.clientId);
  url.searchParams.set("redirect_uri", parameters.redirectUri);
  url.searchParams.set("code_challenge", parameters.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", parameters.state);
  if (parameters.scope !== null) {
    url.searchParams.set("scope", parameters.scope);
    // OpenID Connect Core 1.0 section 11: an OP ignores offline_access without prompt=consent.
    if (parameters.scope.split(" ").includes("offline_access")) {
      url.searchParams.set("prompt", "consent");
    }
  }
  return url.href;
}

/** A successful token response. */
export interface TokenSet {
  access_token: string;
  /** Seconds, or null when the server did not say. */
  expires_in: number | null;
  refresh_token: string | null;
  /** Non-standard but common: seconds the refresh token lasts. */
  refresh_token_expires_in: number | null;
  scope: string | null;
}

/** The server refused an OAuth request (RFC 6749 §5.2 error response). */
export class OAuthError extends OperationError {
  constructor(
    message: string,
    /** The OAuth `error` code, e.g. `invalid_grant`. */
    readonly oauthCode: string,
    readonly description: string | null,
    readonly status: number,
  ) {
    super(message);
    this.name = "OAuthError";
  }
}

function seconds(value: unknown): number | null {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) && number > 0 ? number : null;
}

function oauthErrorOf(response: HttpResponse, what: string): OAuthError | null {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null) return null;
  const { error, error_description: description } = body as Record<string, unknown>;
  if (typeof error !== "string" || error === "") return null;
  const code = printable(error, 60);
  const detail = typeof description === "string" && description !== ""
    ? printable(description)
    : null;
  return new OAuthError(
    `the server refused the ${what} (${code}${detail ? `: ${detail}` : ""})`,
    code,
    detail,
    response.status,
  );
}

function failure(response: HttpResponse, endpoint: string, what: string): OperationError {
  if (response.status >= 500 || response.status === 429) {
    return new UnavailableError(
      `${hostOf(endpoint)} answered HTTP ${response.status} to the ${what}`,
      "The server may be down or overloaded; try again shortly.",
    );
  }
  return oauthErrorOf(response, what) ??
    new OperationError(`${hostOf(endpoint)} answered HTTP ${response.status} to the ${what}`);
}

async function tokenRequest(
  context: HttpContext,
  endpoint: string,
  form: URLSearchParams,
  what: string,
  signal?: AbortSignal,
): Promise<TokenSet> {
  const response = await httpRequest(context, {
    method: "POST",
    url: endpoint,
    body: form,
    signal,
  });
  if (!response.ok) throw failure(response, endpoint, what);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = null;
  }
  const fields = typeof body === "object" && body !== null ? body as Record<string, unknown> : {};
  const invalid = (detail: string) =>
    new OperationError(`${hostOf(endpoint)} sent an invalid answer to the ${what}: ${detail}`);
  if (typeof fields.access_token !== "string" || !/^[\x21-\x7e]+$/.test(fields.access_token)) {
    throw invalid("no usable access_token");
  }
  if (typeof fields.token_type !== "string" || fields.token_type.toLowerCase() !== "bearer") {
    throw invalid(`token_type must be Bearer`);
  }
  const refresh = fields.refresh_token;
  if (refresh !== undefined && refresh !== null && typeof refresh !== "string") {
    throw invalid("refresh_token is not a string");
  }
  return {
    access_token: fields.access_token,
    expires_in: seconds(fields.expires_in),
    refresh_token: typeof refresh === "string" && refresh !== "" ? refresh : null,
    refresh_token_expires_in: seconds(fields.refresh_token_expires_in),
    // Shown by login and `auth status`: never raw server text on a terminal.
    scope: typeof fields.scope === "string" ? printable(fields.scope, 1000) || null : null,
  };
}

/** Redeems an authorization code with its PKCE verifier. */
export function exchangeCode(
  context: HttpContext,
  parameters: {
    tokenEndpoint: string;
    clientId: string;
    code: string;
    redirectUri: string;
    verifier: string;
  },
  signal?: AbortSignal,
): Promise<TokenSet> {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: parameters.code,
    redirect_uri: parameters.redirectUri,
    client_id: parameters.clientId,
    code_verifier: parameters.verifier,
  });
  return tokenRequest(context, parameters.tokenEndpoint, form, "authorization code", signal);
}

/** Trades a refresh token for new tokens; `OAuthError` when refused (e.g. `invalid_grant`). */
export function refreshTokens(
  context: HttpContext,
  parameters: { tokenEndpoint: string; clientId: string; refreshToken: string },
): Promise<TokenSet> {
  const form = new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: parameters.refreshToken,
    client_id: parameters.clientId,
  });
  return tokenRequest(context, parameters.tokenEndpoint, form, "token refresh");
}

/** Revokes a token (RFC 7009). Resolves when the server answered 200; throws otherwise. */
export async function revokeToken(
  context: HttpContext,
  parameters: {
    revocationEndpoint: string;
    clientId: string;
    token: string;
    hint: "refresh_token" | "access_token";
    timeoutMs: number;
  },
): Promise<void> {
  const response = await httpRequest(context, {
    method: "POST",
    url: parameters.revocationEndpoint,
    body: new URLSearchParams({
      token: parameters.token,
      token_type_hint: parameters.hint,
      client_id: parameters.clientId,
    }),
    timeoutMs: parameters.timeoutMs,
  });
  if (response.status !== 200) {
    throw failure(response, parameters.revocationEndpoint, "revocation request");
  }
}
