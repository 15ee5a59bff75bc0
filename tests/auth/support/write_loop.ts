/**
 * Test helper process: rewrites the credential store of the directory in argv[0] as fast as
 * it can through the CLI's own `updateCredentials`, each time with the next generation
 * number in every session (40 sessions, so each write is ~30 KB). Runs until killed.
 */

import {
  credentialsLocation,
  updateCredentials,
  withSession,
} from "../../../src/auth/credentials.ts";
import { sampleSession } from "./sessions.ts";

const location = credentialsLocation(Deno.args[0]);
let announced = false;
for (;;) {
  await updateCredentials(location, (file) => {
    const previous = Number(file.sessions[0]?.access_token.split("-")[1] ?? "0");
    const generation = previous + 1;
    let next = file;
    for (let i = 0; i < 40; i++) {
      next = withSession(
        next,
        sampleSession({
          organization: { id: `org-${i}`, short_id: `o${i}`, name: `Organization ${i}` },
          access_token: `gen-${generation}-${"a".repeat(400)}`,
          refresh_token: `gen-${generation}-${"r".repeat(200)}`,
        }),
        i === 0,
      );
    }
    return { write: next, result: generation };
  });
  if (!announced) {
    announced = true;
    await Deno.stdout.write(new TextEncoder().encode("writing\n"));
  }
}
