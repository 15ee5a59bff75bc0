/**
 * Runs the precompiled JSON Schema validator and turns its errors into findings with stable
 * codes and messages that name the field and what was expected.
 */

import validateSchema, { type SchemaError } from "./generated/policy_schema_validator.js";
import type { FindingList } from "./findings.ts";
import { escapePointerToken, pointerTokens } from "./json_positions.ts";
import { closest } from "./suggest.ts";

const FIELDS: Record<string, readonly string[]> = {
  root: [
    "$schema",
    "$revision",
    "description",
    "version",
    "default",
    "global",
    "rules",
    "publishers",
    "tests",
  ],
  rule: [
    "topic",
    "action",
    "binding",
    "user",
    "effect",
    "qos",
    "retain",
    "require_grant",
    "description",
  ],
  publisher: ["identity", "topics", "qos", "retain", "description"],
  test: ["name", "description", "client", "action", "topic", "qos", "retain", "expect"],
  client: ["username", "client_id", "org_id", "org_short_id", "claims"],
};

/** Fields that need version 2.2, with where they may appear. */
const V22_FIELDS = new Set(["user", "effect", "qos", "retain", "require_grant", "tests"]);

function kindOf(tokens: string[]): keyof typeof FIELDS {
  if (tokens.length === 0) return "root";
  if (tokens[0] === "publishers") return "publisher";
  if (tokens[0] === "tests") {
    return tokens.length >= 3 && tokens[2] === "client" ? "client" : "test";
  }
  return "rule";
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value === "number" ? "the number" : typeof value} ${String(value)}`;
}

const ARTICLE: Record<string, string> = {
  object: "an object",
  array: "an array",
  string: "a string",
  boolean: "true or false",
  number: "a number",
  integer: "an integer",
};

function valueAt(document: unknown, tokens: string[]): unknown {
  let value: unknown = document;
  for (const token of tokens) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[token];
  }
  return value;
}

function listChoices(values: unknown[]): string {
  const words = values.map((value) => String(value));
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")}${words.length > 2 ? "," : ""} or ${words.at(-1)}`;
}

function fieldLabel(tokens: string[]): string {
  const last = tokens.at(-1) ?? "";
  if (/^\d+$/.test(last) && tokens.length >= 2) return `"${tokens.at(-2)}" item ${last}`;
  return `"${last}"`;
}

function enumMessage(tokens: string[], value: unknown, allowed: unknown[]): [string, string] {
  const field = tokens.at(-1) ?? "";
  const shown = JSON.stringify(value);
  if (tokens.length === 1 && field === "version") {
    if (typeof value === "number") {
      return [
        "version_not_string",
        `version must be a quoted string: "${value}" (found the number ${value})`,
      ];
    }
    return ["invalid_version", `unsupported version ${shown} (must be "2", "2.1" or "2.2")`];
  }
  if (field === "action" && tokens[0] !== "tests") {
    return ["invalid_action", `invalid action ${shown} (must be sub, pub, or pub+sub)`];
  }
  if (field === "action") {
    return ["invalid_value", `invalid test action ${shown} (must be pub or sub)`];
  }
  if (tokens.at(-2) === "qos" || field === "qos") {
    return ["invalid_value", `invalid QoS ${shown} (must be 0, 1 or 2)`];
  }
  return ["invalid_value", `invalid ${field} ${shown} (must be ${listChoices(allowed)})`];
}

/** Codes of schema findings that leave the rest of their rule safe to check. */
const HARMLESS_TO_SEMANTICS = new Set(["unknown_field", "requires_version"]);

/** Where the schema found problems. */
export interface SchemaProblems {
  /** Pointers whose values are unusable: semantic checks skip them. */
  broken: string[];
  /** Pointers of every schema finding. */
  flagged: string[];
}

/** Validates `document` against the policy schema and adds a finding per problem. */
export function addSchemaFindings(document: unknown, findings: FindingList): SchemaProblems {
  if (validateSchema(document)) return { broken: [], flagged: [] };
  const broken: string[] = [];
  const flagged: string[] = [];
  const version = valueAt(document, ["version"]);
  for (const error of validateSchema.errors ?? []) {
    const mapped = mapError(error, document, version);
    if (!mapped) continue;
    const [code, pointer, message, atKey] = mapped;
    findings.error(code, pointer, message, { atKey });
    // A missing field breaks that field, not the object holding it.
    const damaged = error.keyword === "required"
      ? `${pointer}/${escapePointerToken(String(error.params.missingProperty))}`
      : pointer;
    flagged.push(damaged);
    if (!HARMLESS_TO_SEMANTICS.has(code)) broken.push(damaged);
  }
  return { broken, flagged };
}

function mapError(
  error: SchemaError,
  document: unknown,
  version: unknown,
): [string, string, string, boolean] | null {
  const pointer = error.instancePath;
  const tokens = pointerTokens(pointer);
  const value = valueAt(document, tokens);
  switch (error.keyword) {
    case "if":
      return null;
    case "required": {
      const missing = String(error.params.missingProperty);
      if (missing === "binding" && error.schemaPath.includes("/allOf/0/")) {
        return [
          "binding_required",
          pointer,
          `{$self} needs "binding": the name of the claim it resolves to`,
          false,
        ];
      }
      if (missing === "binding") {
        return [
          "require_grant_without_binding",
          pointer,
          `require_grant needs "binding": the claim whose values grant channels`,
          false,
        ];
      }
      return ["missing_field", pointer, `missing required field "${missing}"`, false];
    }
    case "additionalProperties": {
      const field = String(error.params.additionalProperty);
      const at = `${pointer}/${escapePointerToken(field)}`;
      const suggestion = closest(field, FIELDS[kindOf(tokens)]);
      return [
        "unknown_field",
        at,
        `unknown field "${field}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
        true,
      ];
    }
    case "false schema": {
      const field = tokens.at(-1) ?? "";
      if (V22_FIELDS.has(field) || field === "qos" || field === "retain") {
        return [
          "requires_version",
          pointer,
          `"${field}" needs version "2.2" (this policy is version ${JSON.stringify(version)})`,
          true,
        ];
      }
      return ["unknown_field", pointer, `field "${field}" is not allowed here`, true];
    }
    case "not":
      return [
        "requires_version",
        pointer,
        `{$self} placeholders need version "2.1" or later (this policy is version ${
          JSON.stringify(version)
        })`,
        false,
      ];
    case "enum": {
      const [code, message] = enumMessage(tokens, value, error.params.allowedValues as unknown[]);
      return [code, pointer, message, false];
    }
    case "const":
      return null;
    case "type": {
      const expected = ARTICLE[String(error.params.type)] ?? String(error.params.type);
      if (tokens.length === 0) {
        return [
          "wrong_type",
          pointer,
          `the policy must be a JSON object, not ${describeType(value)}`,
          false,
        ];
      }
      return [
        "wrong_type",
        pointer,
        `${fieldLabel(tokens)} must be ${expected}, not ${describeType(value)}`,
        false,
      ];
    }
    case "minLength":
      return ["empty_value", pointer, `${fieldLabel(tokens)} must not be empty`, false];
    case "minItems":
      return ["empty_value", pointer, `${fieldLabel(tokens)} must list at least one value`, false];
    case "uniqueItems":
      return [
        "duplicate_value",
        pointer,
        `${
          fieldLabel(tokens)
        } lists the same value twice (items ${error.params.j} and ${error.params.i})`,
        false,
      ];
    case "pattern": {
      const field = tokens.at(-1) ?? "";
      const name = error.params.propertyName ?? value;
      if (tokens.at(-1) === "claims" || error.params.propertyName !== undefined) {
        return [
          "invalid_claim_name",
          pointer,
          `invalid claim name ${
            JSON.stringify(name)
          }: a letter or _, then letters, digits, _ or - (64 at most)`,
          false,
        ];
      }
      return [
        "invalid_claim_name",
        pointer,
        `invalid ${field} ${
          JSON.stringify(value)
        }: claim names are a letter or _, then letters, digits, _ or - (64 at most)`,
        false,
      ];
    }
    case "propertyNames":
      return null;
  }
  return ["schema", pointer, `${fieldLabel(tokens)} ${error.message ?? "is invalid"}`, false];
}
