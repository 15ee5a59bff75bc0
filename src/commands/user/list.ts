/** `user list`: the organization's users, as a table or JSON. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { printable } from "../../core/printable.ts";
import type { User } from "../../api/openapi_types.ts";
import { listUsers } from "../../claims/user_claims.ts";

/** The users as an aligned table: username, email, id. */
export function usersTable(users: User[]): string {
  if (users.length === 0) return "The organization has no users.\n";
  const rows = users.map((user) => [printable(user.username), printable(user.email), user.id]);
  const widths = [0, 1].map((column) =>
    Math.max(["USERNAME", "EMAIL"][column].length, ...rows.map((row) => row[column].length))
  );
  const line = (row: string[]) =>
    `${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${printable(row[2])}`;
  return `${[line(["USERNAME", "EMAIL", "ID"]), ...rows.map(line)].join("\n")}\n`;
}

/** Prints the organization's users. */
export async function runListUsers(
  context: CliContext,
  flags: { json?: boolean },
): Promise<number> {
  const users = await listUsers(context);
  if (flags.json) printJson(context.io, { users });
  else context.io.out(usersTable(users));
  return EXIT_OK;
}
