import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import {
  recordRevisionInFile,
  removeLegacyRevisionRecord,
  setRevisionInText,
  splitRevision,
  withRevision,
} from "../../src/policy/file_revision.ts";
import type { Policy } from "../../src/acl/types.ts";

const POLICY: Policy = { version: "2.2", default: "deny", rules: [{ topic: "a", action: "pub" }] };

Deno.test("withRevision: $revision first, after $schema, replacing a stored one", () => {
  assert.deepEqual(Object.keys(withRevision(POLICY, 3)), [
    "$revision",
    "version",
    "default",
    "rules",
  ]);
  const stored = {
    $schema: "s",
    version: "2.2",
    $revision: 1,
    default: "deny",
  } as unknown as Policy;
  const marked = withRevision(stored, 9);
  assert.deepEqual(Object.keys(marked), ["$schema", "$revision", "version", "default"]);
  assert.equal(marked.$revision, 9);
});

Deno.test("splitRevision: the policy without it, and the number it named", () => {
  const { policy, revision } = splitRevision(withRevision(POLICY, 4) as unknown as Policy);
  assert.equal(revision, 4);
  assert.deepEqual(policy, POLICY);
  assert.deepEqual(splitRevision(POLICY), { policy: POLICY, revision: null });
});

Deno.test("setRevisionInText: replaces the number in place and keeps every other byte", () => {
  const text = '{\n  "$revision": 12,\n  "version": "2.2"\n}\n';
  assert.equal(setRevisionInText(text, 130), '{\n  "$revision": 130,\n  "version": "2.2"\n}\n');
  assert.equal(
    setRevisionInText('{"version":"2.2","$revision":7}', 8),
    '{"version":"2.2","$revision":8}',
  );
});

Deno.test("setRevisionInText: inserts the member in the file's own style", () => {
  assert.equal(
    setRevisionInText('{\n\t"version": "2.2",\n\t"default": "deny"\n}', 5),
    '{\n\t"$revision": 5,\n\t"version": "2.2",\n\t"default": "deny"\n}',
  );
  assert.equal(setRevisionInText('{"version":"2.2"}', 5), '{"$revision":5,"version":"2.2"}');
  assert.equal(setRevisionInText("{}", 5), '{"$revision": 5}');
  assert.equal(setRevisionInText("[1]", 5), null);
  assert.equal(setRevisionInText("{", 5), null);
});

Deno.test("setRevisionInText: any object in any layout parses back with only $revision changed", () => {
  const value = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 6 }).filter((key) => key !== "$revision"),
    fc.jsonValue({ maxDepth: 2 }),
    { minKeys: 1, maxKeys: 5 },
  );
  fc.assert(
    fc.property(
      value,
      fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
      fc.integer({ min: 1, max: 1e9 }),
      fc.constantFrom(0, 1, 2, "\t"),
      (object, existing, next, indent) => {
        const source = existing === undefined ? object : { ...object, $revision: existing };
        const text = JSON.stringify(source, null, indent);
        const result = setRevisionInText(text, next);
        assert.notEqual(result, null);
        assert.deepEqual(JSON.parse(result!), { ...JSON.parse(text), $revision: next });
        if (existing !== undefined) {
          const back = result!.replace(/("\$revision":\s*)\d+/, (_, key) => `${key}${existing}`);
          assert.equal(back, text, "only the number changed");
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("recordRevisionInFile: only a file still holding what was pushed, mode and link kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/p.json`;
    const text = '{\n  "$revision": 1,\n  "version": "2.2"\n}\n';
    await Deno.writeTextFile(path, text, { mode: 0o640 });
    await Deno.chmod(path, 0o640);
    await Deno.symlink(path, `${dir}/link.json`);
    assert.equal(await recordRevisionInFile(`${dir}/link.json`, text, 2), "recorded");
    assert.equal(await Deno.readTextFile(path), text.replace('": 1', '": 2'));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
    assert.ok((await Deno.lstat(`${dir}/link.json`)).isSymlink, "the link stays a link");

    assert.equal(await recordRevisionInFile(path, text, 3), "file_changed");
    assert.match(await Deno.readTextFile(path), /"\$revision": 2/, "an edit made since is kept");
    assert.equal(await recordRevisionInFile(`${dir}/gone.json`, text, 3), "write_failed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeLegacyRevisionRecord: removes the old per-organization record, quietly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/policy-revisions.json`, "{}");
    await removeLegacyRevisionRecord(dir);
    await assert.rejects(Deno.stat(`${dir}/policy-revisions.json`), Deno.errors.NotFound);
    await removeLegacyRevisionRecord(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
