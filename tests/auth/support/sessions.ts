/** Sample stored sessions for credential-store tests. */

import type { StoredSession } from "../../../src/auth/credentials.ts";

/** A complete session; `overrides` replace fields. */
export function sampleSession(overrides: Partial<StoredSession> = {}): StoredSession {
  const now = Date.now();
  return {
    api_url: "http://127.0.0.1:4000",
    organization: { id: "0b8e7c1e-org", short_id: "acme", name: "Acme" },
    user: { id: "user-1", email: "ada@example.com", username: "ada" },
    client_id: "cloudsignal-cli",
    token_endpoint: "http://127.0.0.1:4000/oauth/token",
    revocation_endpoint: "http://127.0.0.1:4000/oauth/revoke",
    access_token: `access-${crypto.randomUUID()}`,
    access_token_expires_at: new Date(now + 3600_000).toISOString(),
    refresh_token: `refresh-${crypto.randomUUID()}`,
    refresh_token_expires_at: null,
    scope: null,
    created_at: new Date(now).toISOString(),
    issued_at: new Date(now).toISOString(),
    ...overrides,
  };
}
