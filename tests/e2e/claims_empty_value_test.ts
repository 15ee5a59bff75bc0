/** An empty claim value never matches a rule: it is refused before anything is sent. */

import assert from "node:assert/strict";
import { withFakeApi } from "./fake_api.ts";
import { setClaim } from "../../src/claims/user_claims.ts";
import { UsageError } from "../../src/core/errors.ts";
import { testContext } from "../support/context.ts";

Deno.test("user claims set --value '' is a usage error naming --value; nothing is sent", async () => {
  await withFakeApi(() => null, async (api) => {
    const result = await api.cli([
      "user",
      "claims",
      "set",
      "scout",
      "--key",
      "agent_id",
      "--value",
      "",
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /^Error: --value is empty: an empty claim value never matches any rule\n/,
    );
    assert.match(result.stderr, /cloudsignal user claims unset/);
    assert.deepEqual(api.requests, []);
    const spaced = await api.cli(["user", "claims", "set", "scout", "--key", "k", "--value", " "]);
    assert.notEqual(spaced.code, 2, "a space is a value");
  });
});

Deno.test("setClaim refuses an empty value for every front end", async () => {
  await assert.rejects(
    setClaim(testContext(), { user: "scout", key: "agent_id", value: "" }),
    (error) => error instanceof UsageError && error.argument === "value",
  );
});
