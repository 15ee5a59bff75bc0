import assert from "node:assert/strict";
import { failureText, forAgents } from "../../src/mcp/errors.ts";
import { OperationError } from "../../src/core/errors.ts";
import { testContext } from "../support/context.ts";

Deno.test("mcp errors: hints that name CLI commands name the tools an agent has instead", () => {
  assert.equal(
    forAgents("See them with: cloudsignal user claims show alice"),
    "See them with: the user_claims_show tool (user alice)",
  );
  assert.equal(
    forAgents("Give the user's id or username; `cloudsignal user list` lists them."),
    "Give the user's id or username; the user_list tool lists them.",
  );
  assert.equal(
    forAgents("List them with: cloudsignal acl revisions"),
    "List them with: the acl_list_revisions tool",
  );
  assert.equal(
    forAgents("To remove it: cloudsignal user claims unset <user> --key <key>"),
    "To remove it: the user_claims_unset tool",
  );
  const login = "Not logged in. Run `cloudsignal login --api-url http://127.0.0.1:8780` first.";
  assert.equal(forAgents(login), login, "a login is the person's to do");
  const error = new OperationError("no user bob", "`cloudsignal user list` lists them.");
  assert.equal(failureText(error, testContext()), "no user bob\nthe user_list tool lists them.");
});
