/** The `cloudsignal` command line: builds the command tree and runs it. */

import { createProgram, runProgram } from "./src/cli/program.ts";
import { registerAcl } from "./src/commands/acl.ts";
import { registerAuth } from "./src/commands/auth.ts";
import { registerCompletions } from "./src/commands/completions.ts";
import { registerDev } from "./src/commands/dev.ts";
import { registerMcp } from "./src/commands/mcp.ts";
import { registerUser } from "./src/commands/user.ts";

const program = createProgram();
registerAuth(program);
registerAcl(program);
registerUser(program);
registerDev(program);
registerMcp(program, async (context, options) => {
  const { runMcp } = await import("./src/mcp/run.ts");
  return await runMcp(context, options);
});
registerCompletions(program);
await runProgram(program, Deno.args);
