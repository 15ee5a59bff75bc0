/**
 * The API's limit on a request body (1 MiB): a policy over it is refused by the server, so
 * validation and updates say so first, with the size and the limit.
 */

import type { Finding, Policy } from "../acl/types.ts";

/** The largest request body the API accepts. */
export const API_BODY_LIMIT_BYTES = 1024 * 1024;

/** The finding code of a policy too large for the API. */
export const TOO_LARGE_CODE = "policy_too_large";

/** Bytes of the body the API receives for `policy` (compact JSON, as the client sends it). */
export function apiBodyBytes(policy: Policy): number {
  return new TextEncoder().encode(JSON.stringify(policy)).length;
}

function size(bytes: number): string {
  const mebibytes = bytes / 1024 / 1024;
  const shown = mebibytes >= 0.1
    ? `${mebibytes.toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(0)} KiB`;
  return `${shown} (${bytes.toLocaleString("en-US")} bytes)`;
}

/** The size and the limit in words: "3.6 MiB (3,774,873 bytes) … 1 MiB (1,048,576 bytes)". */
export function bodySizeMessage(bytes: number): string {
  return `the policy is ${size(bytes)} as the API receives it (compact JSON), and the API ` +
    `accepts ${size(API_BODY_LIMIT_BYTES).replace("1.0 MiB", "1 MiB")} at most; make it ` +
    "smaller (one rule with a {$self} or {client_id} placeholder can replace a rule per device)";
}

/** The error finding for a policy over the limit, or null when it fits. */
export function bodySizeFinding(policy: Policy): Finding | null {
  const bytes = apiBodyBytes(policy);
  if (bytes <= API_BODY_LIMIT_BYTES) return null;
  return {
    severity: "error",
    code: TOO_LARGE_CODE,
    path: "(root)",
    pointer: "",
    message: bodySizeMessage(bytes),
    stage: "local",
  };
}
