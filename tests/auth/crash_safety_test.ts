import assert from "node:assert/strict";
import { credentialsLocation, readCredentials } from "../../src/auth/credentials.ts";
import { tempDir } from "../support/cli.ts";

const WRITER = new URL("./support/write_loop.ts", import.meta.url).pathname;
const ROUNDS = 100;

function generationOf(token: string): number {
  return Number(token.split("-")[1]);
}

Deno.test("a writer killed with SIGKILL leaves the old or the new file, never a broken one", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    let last = 0;
    let advanced = 0;
    let killedMidWrite = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", WRITER, dir.path],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stdout.getReader();
      await reader.read(); // "writing": at least one write done, more under way
      // Kill at a random point inside the following writes.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
      child.kill("SIGKILL");
      const status = await child.status;
      reader.releaseLock();
      await child.stdout.cancel();
      await child.stderr.cancel();
      assert.equal(status.signal, "SIGKILL");

      const names = [...Deno.readDirSync(dir.path)].map((entry) => entry.name);
      if (names.some((name) => name.endsWith(".tmp"))) killedMidWrite++;

      const file = await readCredentials(location); // throws if damaged
      assert.ok(file, `round ${round}: the file is there`);
      assert.equal(file.sessions.length, 40);
      const generations = new Set(file.sessions.map((s) => generationOf(s.access_token)));
      assert.equal(generations.size, 1, `round ${round}: one write, not a mix`);
      const generation = [...generations][0];
      assert.ok(generation >= last, `round ${round}: never older (${generation} < ${last})`);
      if (generation > last) advanced++;
      last = generation;
      assert.equal((await Deno.stat(location.file)).mode! & 0o777, 0o600);
    }
    assert.ok(advanced >= ROUNDS / 2, `writes went on across rounds (${advanced})`);
    // The kills must have hit the dangerous window (a temporary file half written or not
    // yet renamed) in some rounds, or this test proved nothing.
    assert.ok(killedMidWrite > 0, "no kill landed during a write");
  } finally {
    await dir.cleanup();
  }
});
