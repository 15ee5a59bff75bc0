/**
 * The policy schema run by a second JSON Schema 2020-12 implementation, written
 * independently of ajv (which generates the validator the CLI ships): @hyperjump/json-schema.
 */

import { registerSchema, validate } from "npm:@hyperjump/json-schema@1.18.0/draft-2020-12";
import policySchema from "../../schemas/acl-policy.schema.json" with { type: "json" };

registerSchema(policySchema as unknown as Parameters<typeof registerSchema>[0]);
const validator = await validate(policySchema.$id);

/** Whether @hyperjump/json-schema finds `document` valid against the policy schema. */
export function independentlyValid(document: unknown): boolean {
  return validator(document as Parameters<typeof validator>[0]).valid;
}
