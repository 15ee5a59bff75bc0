/**
 * The server's resources: the live policy, its revisions (a URI template whose revision
 * numbers complete from the API), the policy's JSON Schema and the policy reference. Reads
 * of the policy use the same operation as `acl_get_policy`.
 */

import { type McpServer, type ReadResourceResult, ResourceTemplate } from "./vendor/mcp_sdk.js";
import { UsageError } from "../core/errors.ts";
import { callContext, type RequestExtra, type ToolRuntime } from "./tool.ts";
import { resourceError } from "./errors.ts";

/** The live policy's URI. */
export const LIVE_POLICY_URI = "cloudsignal://policy/live";
/** The URI template of a revision. */
export const REVISION_TEMPLATE = "cloudsignal://policy/revisions/{revision}";
/** The policy JSON Schema's URI. */
export const SCHEMA_URI = "cloudsignal://schemas/acl-policy.schema.json";
/** The policy reference's URI. */
export const REFERENCE_URI = "cloudsignal://docs/policy-reference.md";

async function policyContents(
  runtime: ToolRuntime,
  extra: RequestExtra,
  uri: URL,
  revision?: number,
): Promise<ReadResourceResult> {
  try {
    const { getPolicy } = await import("../policy/read.ts");
    const fetched = await getPolicy(callContext(runtime.context, extra), { revision });
    return {
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: `${JSON.stringify(fetched.policy, null, 2)}\n`,
        _meta: { revision: fetched.revision, organization: fetched.organization },
      }],
    };
  } catch (error) {
    throw resourceError(error, runtime.context);
  }
}

/** Registers the resources on `server`. */
export function serveResources(server: McpServer, runtime: ToolRuntime): void {
  server.registerResource("live-policy", LIVE_POLICY_URI, {
    title: "Live ACL policy",
    description: "The ACL policy the organization's broker enforces now (needs a login); " +
      "_meta.revision is its revision, the base_revision of acl_update_policy.",
    mimeType: "application/json",
  }, (uri, extra) => policyContents(runtime, extra, uri));

  server.registerResource(
    "policy-revision",
    new ResourceTemplate(REVISION_TEMPLATE, {
      list: undefined,
      complete: {
        revision: async (value) => {
          try {
            const { listRevisions } = await import("../policy/read.ts");
            const list = await listRevisions(runtime.context);
            return list.revisions.map((entry) => String(entry.revision))
              .filter((revision) => revision.startsWith(value));
          } catch {
            return [];
          }
        },
      },
    }),
    {
      title: "ACL policy revision",
      description: "An earlier (or the live) revision of the policy, by number (needs a login).",
      mimeType: "application/json",
    },
    (uri, variables, extra) => {
      const text = String(variables.revision);
      if (!/^\d{1,15}$/.test(text)) {
        throw resourceError(
          new UsageError(`revision must be a revision number (got ${JSON.stringify(text)})`),
          runtime.context,
        );
      }
      return policyContents(runtime, extra, uri, Number(text));
    },
  );

  server.registerResource("policy-schema", SCHEMA_URI, {
    title: "ACL policy JSON Schema",
    description: "The JSON Schema (2020-12) every policy document must match.",
    mimeType: "application/schema+json",
  }, async (uri) => {
    const { default: schema } = await import("../../schemas/acl-policy.schema.json", {
      with: { type: "json" },
    });
    return {
      contents: [{
        uri: uri.href,
        mimeType: "application/schema+json",
        text: `${JSON.stringify(schema, null, 2)}\n`,
      }],
    };
  });

  server.registerResource("policy-reference", REFERENCE_URI, {
    title: "ACL policy reference",
    description: "How policies work: rules, placeholders such as {$self}, selectors, " +
      "publishers, tests, and every validation finding code with its meaning.",
    mimeType: "text/markdown",
  }, async (uri) => {
    const { default: text } = await import("../../docs/policy-reference.md", {
      with: { type: "text" },
    });
    return { contents: [{ uri: uri.href, mimeType: "text/markdown", text }] };
  });
}
