/** The policy a new organization starts with: deny everything until one is pushed. */

import type { Policy } from "../acl/mod.ts";

/** Revision 1 of every new organization. */
export const DEFAULT_POLICY: Policy = {
  $schema: "https://cloudsignal.io/schemas/acl-policy.json",
  description: "New organization: denies every publish and subscribe until you push a policy " +
    "(cloudsignal acl init --preset permit-all, then " +
    "cloudsignal acl update policy.json --if-revision 1).",
  version: "2.2",
  default: "deny",
  global: [],
  rules: [],
  publishers: [],
  tests: [
    {
      name: "nothing is allowed yet",
      client: { username: "device-1" },
      action: "pub",
      topic: "sensors/kitchen/temperature",
      expect: "deny",
    },
  ],
};
