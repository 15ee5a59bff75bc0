/**
 * What the compiler reads from a policy, checked before it reads it: a policy that skipped
 * validation gets a `PolicyCompileError` naming the place, never a TypeError or a rule that
 * compiles to a guess (an unknown action must not become pub+sub).
 */

/** A part of a policy the compiler cannot read: where (JSON pointer) and what was expected. */
export interface ShapeProblem {
  pointer: string;
  message: string;
}

type Check = (value: unknown) => boolean;

const isString: Check = (value) => typeof value === "string";
const isBoolean: Check = (value) => typeof value === "boolean";
const oneOf = (...allowed: unknown[]): Check => (value) => allowed.includes(value);
const isQosList: Check = (value) =>
  Array.isArray(value) && value.every((q) => q === 0 || q === 1 || q === 2);

/** Field, whether it is required, its check, and what the message says it must be. */
type FieldSpec = [string, boolean, Check, string];

const RULE_FIELDS: FieldSpec[] = [
  ["topic", true, isString, "a string"],
  ["action", true, oneOf("sub", "pub", "pub+sub"), "sub, pub or pub+sub"],
  ["binding", false, isString, "a string"],
  ["user", false, isString, "a string"],
  ["effect", false, oneOf("allow", "deny"), "allow or deny"],
  ["qos", false, isQosList, "a list of 0, 1 and 2"],
  ["retain", false, isBoolean, "true or false"],
  ["require_grant", false, isBoolean, "true or false"],
];

const PUBLISHER_FIELDS: FieldSpec[] = [
  ["identity", true, isString, "a string"],
  [
    "topics",
    true,
    (value) => Array.isArray(value) && value.every(isString),
    "a list of strings",
  ],
  ["qos", false, isQosList, "a list of 0, 1 and 2"],
  ["retain", false, isBoolean, "true or false"],
];

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function fieldProblem(
  value: unknown,
  pointer: string,
  what: string,
  fields: FieldSpec[],
): ShapeProblem | null {
  if (!isObject(value)) return { pointer, message: `${what} must be an object` };
  for (const [name, required, check, expected] of fields) {
    const field = value[name];
    if (field === undefined) {
      if (required) return { pointer, message: `${what} has no "${name}"` };
    } else if (!check(field)) {
      return { pointer: `${pointer}/${name}`, message: `"${name}" must be ${expected}` };
    }
  }
  return null;
}

/** Why the rule at `pointer` cannot be compiled, or null when the compiler can read it. */
export function ruleShapeProblem(rule: unknown, pointer: string): ShapeProblem | null {
  return fieldProblem(rule, pointer, "a rule", RULE_FIELDS);
}

/** Why the publisher at `pointer` cannot be compiled, or null when the compiler can read it. */
export function publisherShapeProblem(publisher: unknown, pointer: string): ShapeProblem | null {
  return fieldProblem(publisher, pointer, "a publisher", PUBLISHER_FIELDS);
}

/** Why the top level of a policy cannot be compiled (not an object, a section not a list). */
export function policyShapeProblem(policy: unknown): ShapeProblem | null {
  if (!isObject(policy)) return { pointer: "", message: "the policy must be a JSON object" };
  if (!oneOf("2", "2.1", "2.2")(policy.version)) {
    return { pointer: "/version", message: 'version must be "2", "2.1" or "2.2"' };
  }
  if (!oneOf("allow", "deny")(policy.default)) {
    return { pointer: "/default", message: "default must be allow or deny" };
  }
  for (const section of ["global", "rules", "publishers"]) {
    if (policy[section] !== undefined && !Array.isArray(policy[section])) {
      return { pointer: `/${section}`, message: `"${section}" must be a list` };
    }
  }
  return null;
}
