/**
 * One overwrite rule for `acl get -o` and `acl init`: a file with other contents is never
 * replaced without --force (nothing is written, exit 1); one that already holds the same
 * text is left as is; a new file is created.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import { POLICY, withFakeApi } from "./fake_api.ts";

Deno.test("acl get -o and acl init refuse to replace other contents without --force", async () => {
  const dir = await tempDir();
  await withFakeApi(() => null, async (api) => {
    try {
      const commands: [string, string[]][] = [
        ["acl get", ["acl", "get", "-o"]],
        ["acl init", ["acl", "init", "--preset", "permit-all", "-o"]],
      ];
      for (const [name, args] of commands) {
        const path = `${dir.path}/${name.replace(" ", "-")}.json`;
        await Deno.writeTextFile(path, "my edits\n");
        const refused = await api.cli([...args, path]);
        assert.equal(refused.code, 1, `${name}: ${refused.stderr}`);
        assert.match(
          refused.stderr,
          /already exists; nothing was written\nUse --force to replace it, or --output <file> to write elsewhere\.\n$/,
          name,
        );
        assert.equal(await Deno.readTextFile(path), "my edits\n", `${name}: untouched`);

        const forced = await api.cli([...args, path, "--force"]);
        assert.equal(forced.code, 0, `${name}: ${forced.stderr}`);
        const written = await Deno.readTextFile(path);
        assert.notEqual(written, "my edits\n", name);
        assert.equal(JSON.parse(written).version, "2.2", name);

        const again = await api.cli([...args, path]);
        assert.equal(again.code, 0, `${name}: the same contents again is not a conflict`);
        assert.match(
          again.stderr,
          /already holds /,
          `${name} says it left the file: ${again.stderr}`,
        );
        assert.doesNotMatch(again.stderr, /^Wrote /m, name);
        assert.equal(await Deno.readTextFile(path), written, name);
        const files = [...Deno.readDirSync(dir.path)].map((entry) => entry.name);
        assert.ok(files.every((file) => !file.endsWith(".tmp")), `${name}: ${files}`);
      }
      const fresh = await api.cli(["acl", "get", "-o", `${dir.path}/new.json`]);
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir.path}/new.json`)), {
        $revision: 7,
        ...POLICY,
      });
      const unchanged = await api.cli(["acl", "get", "-o", `${dir.path}/new.json`]);
      assert.match(unchanged.stderr, /new\.json already holds policy revision 7 of Fake/);
      const intoDir = await api.cli(["acl", "get", "-o", dir.path]);
      assert.equal(intoDir.code, 1);
      assert.match(intoDir.stderr, /cannot write .*: it is a directory/);
    } finally {
      await dir.cleanup();
    }
  });
});
