/**
 * `cloudsignal dev` with a data directory that is a file (or under one): a clear error
 * naming the path, before anything is printed, created or removed.
 */

import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/cli.ts";
import { PlatformStore, StoreError } from "../../src/platform/store.ts";

const PORTS = ["--api-port", "0", "--mqtt-port", "0"];

Deno.test("dev --data-dir <a file>: usage error naming it; the file and its directory untouched", async () => {
  const dir = await tempDir();
  try {
    const file = `${dir.path}/notes.txt`;
    await Deno.writeTextFile(file, "keep me\n");
    const cases: [string[], RegExp][] = [
      [["--data-dir", file], /^Error: --data-dir .*\/notes\.txt is a file, not a directory\n/],
      [["--data-dir", `${file}/`, "--reset"], /^Error: --data-dir .*\/notes\.txt is a file/],
      [
        ["--data-dir", `${file}/dev/data`],
        /^Error: --data-dir .*\/notes\.txt\/dev\/data cannot be a directory: .*\/notes\.txt is a file\n/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(["dev", ...args, ...PORTS], {
        env: { CLOUDSIGNAL_HOME: `${dir.path}/home` },
      });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
      assert.match(result.stderr, /names the directory that holds the platform's SQLite database/);
      assert.doesNotMatch(result.stderr, /unexpected failure|development platform/);
      assert.equal(result.stdout, "");
      assert.equal(await Deno.readTextFile(file), "keep me\n");
      assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["notes.txt"]);
    }
  } finally {
    await dir.cleanup();
  }
});

Deno.test("dev with CLOUDSIGNAL_HOME/dev a file: an error naming it and --data-dir", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/dev`, "");
    const result = await runCli(["dev", ...PORTS], { env: { CLOUDSIGNAL_HOME: dir.path } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^Error: the platform's data directory .*\/dev is a file, not a directory\nMove that file away, or choose another directory with --data-dir\.\n$/,
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("PlatformStore.open on a file is a StoreError, not a raw mkdir failure", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/file`, "");
    for (const path of [`${dir.path}/file`, `${dir.path}/file/sub`]) {
      await assert.rejects(
        PlatformStore.open(path),
        (error) => error instanceof StoreError && error.code === "data_dir_not_directory",
        path,
      );
    }
  } finally {
    await dir.cleanup();
  }
});
