/**
 * An independent, standards-compliant OpenID provider for the login tests: `oidc-provider`
 * (certified by the OpenID Foundation) configured the way the big providers run: discovery
 * only at `/.well-known/openid-configuration` (no RFC 8414 document), PKCE required, a scope
 * required, a refresh token only with `offline_access`, and a login and a consent page of its
 * own that the test drives in Chromium.
 *
 * The CloudSignal API part on the same origin answers `GET /v2/me` for the provider's access
 * tokens, which it checks with the provider's token introspection (RFC 7662) as a resource
 * server does.
 */

import Provider from "npm:oidc-provider@9.13.3";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { launchBrowser } from "../auth/support/login_flow.ts";

/** The one account: its password, email, username and organization. */
export const ACCOUNT = {
  sub: "ada-7f3c",
  email: "ada@example.com",
  password: "correct horse battery staple",
  username: "ada",
  organization: { id: "3f1a9b7e-5c2d-4e8f-9a01-6b7c8d9e0f12", short_id: "oidcorg1", name: "Acme" },
} as const;

/** What the `grant.success` event tells (the package ships no types). */
interface GrantContext {
  oidc: { params?: Record<string, unknown> };
}

const CLI_CLIENT = "cloudsignal-cli";
const API_CLIENT = "cloudsignal-api";

/** What the provider saw, for assertions. */
export interface ProviderLog {
  /** Every authorization request's query (the CLI's `scope` among them). */
  authorizations: URLSearchParams[];
  /** The grant type of every token request the provider granted. */
  grants: string[];
  /** `/v2/me` answers by status. */
  me: number[];
}

/** A running provider with its API. */
export interface OidcProvider {
  /** The API URL (and issuer): `http://127.0.0.1:<port>`. */
  apiUrl: string;
  log: ProviderLog;
  close(): Promise<void>;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of request) chunks.push(chunk as Uint8Array);
  const bytes = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0));
  chunks.reduce((offset, chunk) => (bytes.set(chunk, offset), offset + chunk.length), 0);
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

function send(response: ServerResponse, status: number, type: string, body: string) {
  response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  response.end(body);
}

/** Starts the provider on a free port; `accessTokenTtlSeconds` defaults to an hour. */
export async function startOidcProvider(
  options: { accessTokenTtlSeconds?: number } = {},
): Promise<OidcProvider> {
  const apiSecret = crypto.randomUUID();
  const log: ProviderLog = { authorizations: [], grants: [], me: [] };
  let issuer = "";

  const interaction = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    const details = await provider.interactionDetails(request, response);
    const { uid, prompt, params } = details;
    if (request.method === "GET") {
      // Like Okta or Entra: an authorization request must name what it asks for.
      if (typeof params.scope !== "string" || params.scope.trim() === "") {
        return await provider.interactionFinished(request, response, {
          error: "invalid_scope",
          error_description: "the authorization request must include a scope",
        }, { mergeWithLastSubmission: false });
      }
      if (prompt.name === "login") {
        return send(
          response,
          200,
          "text/html",
          page(
            "Sign in - Test OpenID Provider",
            `<h1>Sign in</h1><form method="post" action="/interaction/${uid}/login">
<label>Email <input type="email" name="email" id="op-email"></label>
<label>Password <input type="password" name="password" id="op-password"></label>
<button type="submit" id="op-sign-in">Sign in</button></form>`,
          ),
        );
      }
      const scopes = [
        ...((prompt.details.missingOIDCScope as string[] | undefined) ?? []),
      ];
      return send(
        response,
        200,
        "text/html",
        page(
          "Consent - Test OpenID Provider",
          `<h1>Allow ${escape(String(params.client_id))}?</h1>
<p id="op-scopes">${escape(scopes.join(" "))}</p>
<form method="post" action="/interaction/${uid}/confirm">
<button type="submit" id="op-allow">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort">
<button type="submit" id="op-deny">Deny</button></form>`,
        ),
      );
    }
    const action = url.pathname.split("/")[3];
    if (action === "login") {
      const form = await readForm(request);
      const ok = form.get("email") === ACCOUNT.email && form.get("password") === ACCOUNT.password;
      if (!ok) {
        return send(response, 401, "text/html", page("Wrong password", "<p>Wrong password</p>"));
      }
      return await provider.interactionFinished(request, response, {
        login: { accountId: ACCOUNT.sub },
      }, { mergeWithLastSubmission: false });
    }
    if (action === "abort") {
      return await provider.interactionFinished(request, response, {
        error: "access_denied",
        error_description: "End-User aborted interaction",
      }, { mergeWithLastSubmission: false });
    }
    const accountId = details.session!.accountId;
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId, clientId: String(params.client_id) });
    const missing = prompt.details.missingOIDCScope as string[] | undefined;
    if (missing) grant.addOIDCScope(missing.join(" "));
    const grantId = await grant.save();
    await provider.interactionFinished(request, response, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
  };

  const me = async (request: IncomingMessage, response: ServerResponse) => {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1];
    let active = false;
    let sub: unknown;
    if (token) {
      const introspection = await fetch(`${issuer}/token/introspection`, {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa(`${API_CLIENT}:${apiSecret}`)}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }),
      });
      const result = await introspection.json() as { active?: boolean; sub?: unknown };
      active = result.active === true;
      sub = result.sub;
    }
    if (!active || sub !== ACCOUNT.sub) {
      log.me.push(401);
      return send(
        response,
        401,
        "application/json",
        JSON.stringify({ error: "unauthorized", message: "the access token is not valid" }),
      );
    }
    log.me.push(200);
    send(
      response,
      200,
      "application/json",
      JSON.stringify({
        user_id: ACCOUNT.sub,
        username: ACCOUNT.username,
        email: ACCOUNT.email,
        organization: ACCOUNT.organization,
      }),
    );
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", issuer);
    const handle = async () => {
      if (url.pathname === "/v2/me") return await me(request, response);
      // Auth0, Google and Entra publish no RFC 8414 document; neither does this deployment.
      if (url.pathname === "/.well-known/oauth-authorization-server") {
        return send(response, 404, "application/json", JSON.stringify({ error: "not_found" }));
      }
      if (url.pathname.startsWith("/interaction/")) {
        return await interaction(request, response, url);
      }
      if (url.pathname === "/auth") log.authorizations.push(url.searchParams);
      return provider.callback()(request, response);
    };
    handle().catch((error) => {
      if (!response.headersSent) send(response, 500, "text/plain", String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLI_CLIENT,
        application_type: "native",
        token_endpoint_auth_method: "none",
        redirect_uris: ["http://127.0.0.1/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
      {
        client_id: API_CLIENT,
        client_secret: apiSecret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
    ],
    scopes: ["openid", "offline_access", "email"],
    claims: { email: ["email"] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // Only the resource server (the API) may ask what a token is worth.
        allowedPolicy: (_ctx: unknown, client: { clientId: string }) =>
          client.clientId === API_CLIENT,
      },
      revocation: { enabled: true },
    },
    interactions: { url: (_ctx: unknown, { uid }: { uid: string }) => `/interaction/${uid}` },
    cookies: { keys: [crypto.randomUUID()] },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86_400,
      Interaction: 600,
      Session: 3600,
      Grant: 86_400,
    },
    findAccount: (_ctx: unknown, sub: string) =>
      sub === ACCOUNT.sub
        ? { accountId: sub, claims: () => ({ sub, email: ACCOUNT.email }) }
        : undefined,
  });
  provider.on("server_error", (_ctx: unknown, error: unknown) => {
    console.error("oidc-provider:", error);
  });
  provider.on("grant.success", (ctx: GrantContext) => {
    log.grants.push(String(ctx.oidc.params?.grant_type));
  });
  return {
    apiUrl: issuer,
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What the browser went through. */
export interface ProviderSignIn {
  /** The scopes the consent page asked for. */
  consented: string;
  /** The final page's text (the CLI's page). */
  text: string;
}

/** Signs in on the provider's own pages and allows the consent, in Chromium. */
export async function signInAtProvider(
  browser: Awaited<ReturnType<typeof launchBrowser>>,
  url: string,
): Promise<ProviderSignIn> {
  const page = await browser.context.newPage();
  try {
    await page.goto(url);
    await page.fill("#op-email", ACCOUNT.email);
    await page.fill("#op-password", ACCOUNT.password);
    await page.click("#op-sign-in");
    await page.waitForSelector("#op-allow");
    const consented = await page.textContent("#op-scopes") ?? "";
    await Promise.all([
      page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/),
      page.click("#op-allow"),
    ]);
    await page.waitForLoadState("domcontentloaded");
    return { consented, text: await page.textContent("body") ?? "" };
  } finally {
    await page.close();
  }
}
