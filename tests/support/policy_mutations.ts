/**
 * Generated mutations of policy documents, for the tests that every invalid policy gets
 * located findings (never a crash) from the validator, the CLI and the platform's API.
 *
 * At every position of a document (every value, the root included): `null`, a value of each
 * other JSON type, and each enumerated string of the schema (which swaps versions, actions,
 * defaults); every member of every object removed; every object given an unknown member and
 * each field name the schema knows (set to null). Field names and enumerations are read from
 * schemas/acl-policy.schema.json, so new fields are mutated without editing this file.
 */

import policySchema from "../../schemas/acl-policy.schema.json" with { type: "json" };

/** How a document was changed. */
export type MutationKind =
  | "null"
  | "wrong_type"
  | "enum_value"
  | "missing_member"
  | "extra_member";

/** One mutated document. */
export interface PolicyMutation {
  /** The example it was made from, e.g. `examples/agent-card.json`. */
  source: string;
  kind: MutationKind;
  /** JSON pointer of the changed value, removed member or added member. */
  pointer: string;
  /** Readable, for failure messages: `null at /rules/0`. */
  label: string;
  readonly document: unknown;
}

/** The example policies the mutations start from, by path relative to the repository. */
export async function examplePolicies(): Promise<Map<string, unknown>> {
  const root = new URL("../../", import.meta.url);
  const found = new Map<string, unknown>();
  for (const dir of ["examples/", "examples/presets/"]) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
    }
    for (const name of names.sort()) {
      found.set(`${dir}${name}`, JSON.parse(await Deno.readTextFile(new URL(dir + name, root))));
    }
  }
  return found;
}

function collect(schema: unknown, fields: Set<string>, enums: Set<string>): void {
  if (Array.isArray(schema)) {
    for (const item of schema) collect(item, fields, enums);
    return;
  }
  if (schema === null || typeof schema !== "object") return;
  const object = schema as Record<string, unknown>;
  if (object.properties && typeof object.properties === "object") {
    for (const name of Object.keys(object.properties)) fields.add(name);
  }
  if (Array.isArray(object.enum)) {
    for (const value of object.enum) if (typeof value === "string") enums.add(value);
  }
  for (const value of Object.values(object)) collect(value, fields, enums);
}

const SCHEMA_FIELDS = new Set<string>();
const SCHEMA_ENUMS = new Set<string>();
collect(policySchema, SCHEMA_FIELDS, SCHEMA_ENUMS);

/** Every field name the policy schema declares, anywhere. */
export const KNOWN_FIELDS: readonly string[] = [...SCHEMA_FIELDS].sort();
/** Every enumerated string of the policy schema. */
export const ENUM_STRINGS: readonly string[] = [...SCHEMA_ENUMS].sort();

/** A member no schema object has. */
export const UNKNOWN_MEMBER = "x_unknown";

const SAMPLES: Record<string, unknown> = {
  number: 7,
  string: "text",
  boolean: true,
  array: [],
  object: {},
};

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function escapeToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Every position of `document`: its pointer, its value, and its parent with the key. */
function* positions(
  value: unknown,
  pointer = "",
  parent: { container: unknown; key: string | number } | null = null,
): Generator<{ pointer: string; value: unknown; parent: typeof parent }> {
  yield { pointer, value, parent };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      yield* positions(value[i], `${pointer}/${i}`, { container: value, key: i });
    }
  } else if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      yield* positions(child, `${pointer}/${escapeToken(key)}`, { container: value, key });
    }
  }
}

/** A copy of `document` with the value at `pointer` passed through `change`. */
function edit(
  document: unknown,
  pointer: string,
  change: (holder: Record<string, unknown> | unknown[], key: string | number) => void,
): unknown {
  const copy = structuredClone({ root: document });
  const tokens = pointer === ""
    ? []
    : pointer.slice(1).split("/").map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
  let holder: Record<string, unknown> | unknown[] = copy as Record<string, unknown>;
  let key: string | number = "root";
  for (const token of tokens) {
    holder = (holder as Record<string, unknown>)[key] as Record<string, unknown>;
    key = Array.isArray(holder) ? Number(token) : token;
  }
  change(holder, key);
  return copy.root;
}

function replaced(document: unknown, pointer: string, value: unknown): unknown {
  return edit(document, pointer, (holder, key) => {
    (holder as Record<string | number, unknown>)[key] = structuredClone(value);
  });
}

/** Every single-step mutation of `document` (deterministic order). */
export function* mutationsOf(source: string, document: unknown): Generator<PolicyMutation> {
  // The document is built when read: a random walk lists every mutation but reads one.
  const make = (
    kind: MutationKind,
    pointer: string,
    label: string,
    build: () => unknown,
  ): PolicyMutation => {
    let built: { document: unknown } | null = null;
    return {
      source,
      kind,
      pointer,
      label: `${label} (${source})`,
      get document() {
        return (built ??= { document: build() }).document;
      },
    };
  };
  for (const { pointer, value, parent } of positions(document)) {
    const at = pointer || "(root)";
    if (value !== null) {
      yield make("null", pointer, `null at ${at}`, () => replaced(document, pointer, null));
    }
    for (const [type, sample] of Object.entries(SAMPLES)) {
      if (type === jsonType(value)) continue;
      yield make(
        "wrong_type",
        pointer,
        `${type} ${JSON.stringify(sample)} at ${at}`,
        () => replaced(document, pointer, sample),
      );
    }
    if (typeof value === "string") {
      for (const option of ENUM_STRINGS) {
        if (option === value) continue;
        yield make(
          "enum_value",
          pointer,
          `${JSON.stringify(option)} at ${at}`,
          () => replaced(document, pointer, option),
        );
      }
    }
    if (parent && !Array.isArray(parent.container)) {
      yield make(
        "missing_member",
        pointer,
        `${at} removed`,
        () =>
          edit(document, pointer, (holder, key) => {
            delete (holder as Record<string, unknown>)[key as string];
          }),
      );
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const name of [UNKNOWN_MEMBER, ...KNOWN_FIELDS]) {
        if (Object.hasOwn(value, name)) continue;
        yield make(
          "extra_member",
          `${pointer}/${escapeToken(name)}`,
          `"${name}": null added at ${at}`,
          () => replaced(document, `${pointer}/${escapeToken(name)}`, null),
        );
      }
    }
  }
}

/** Every single-step mutation of every example policy. */
export async function exampleMutations(): Promise<PolicyMutation[]> {
  const all: PolicyMutation[] = [];
  for (const [source, document] of await examplePolicies()) {
    all.push(...mutationsOf(source, document));
  }
  return all;
}

/** Whether two pointers are the same, or one holds the other. */
export function pointersRelated(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
