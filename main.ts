/** The `cloudsignal` command line: builds the command tree and runs it. */

import { createProgram, runProgram } from "./src/cli/program.ts";
import { registerAcl } from "./src/commands/acl.ts";

const program = createProgram();
registerAcl(program);
await runProgram(program, Deno.args);
