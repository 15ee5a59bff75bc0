/**
 * Test helper process: takes the credentials lock of the directory in argv[0], prints
 * "locked", and keeps it until killed.
 */

import { withFileLock } from "../../../src/auth/lock.ts";

await withFileLock(`${Deno.args[0]}/credentials.json.lock`, async () => {
  await Deno.stdout.write(new TextEncoder().encode("locked\n"));
  await new Promise(() => setInterval(() => {}, 60_000));
});
