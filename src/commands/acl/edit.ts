/**
 * `acl edit`: fetch the live policy into a private temporary file, open `$VISUAL` /
 * `$EDITOR`, and on save check and test it, show the changes, ask, and push it based on the
 * revision fetched. A save with errors reopens the file with them at the top; an edit that
 * is not pushed is kept, and its path printed, so no work is lost.
 */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_ERROR, EXIT_OK } from "../../cli/exit_codes.ts";
import { OperationError, UsageError } from "../../core/errors.ts";
import { getPolicy } from "../../policy/read.ts";
import { withRevision } from "../../policy/file_revision.ts";
import { formatJson } from "../../core/json_text.ts";
import { planPolicyUpdate, type UpdatePlan } from "../../policy/update.ts";
import { PolicyInvalidError, TestsFailedError } from "../../policy/errors.ts";
import { editBuffer, problemsOf, readEditBuffer } from "../../policy/edit_buffer.ts";
import { type PushFlags, showAndPush } from "./push.ts";

/**
 * The editor command: `$VISUAL`, else `$EDITOR`, else `vi` (`notepad` on Windows) when there
 * is a terminal to run it in; without one and without a chosen editor, a usage error.
 */
export function editorCommand(
  env: (name: string) => string | undefined,
  terminal = true,
): string {
  for (const name of ["VISUAL", "EDITOR"]) {
    const value = env(name)?.trim();
    if (value) return value;
  }
  if (!terminal) {
    throw new UsageError(
      "acl edit needs an editor: there is no terminal to run vi in, and neither VISUAL nor EDITOR is set",
      "Set EDITOR to an editor that works without a terminal (for example EDITOR='code --wait'), " +
        "or use acl get -o policy.json and acl update policy.json.",
    );
  }
  return Deno.build.os === "windows" ? "notepad" : "vi";
}

/**
 * Runs the editor on `path` with the terminal, as git does: through the shell, so an editor
 * command with arguments (`code --wait`) works. Returns its exit code.
 */
async function runEditor(editor: string, path: string): Promise<number> {
  const [command, args] = Deno.build.os === "windows"
    ? ["cmd", ["/c", `${editor} "${path}"`]]
    : ["sh", ["-c", `${editor} "$@"`, editor, path]];
  try {
    const child = new Deno.Command(command, {
      args,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return (await child.status).code;
  } catch (error) {
    throw new OperationError(
      `cannot start the editor ${JSON.stringify(editor)}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      "Set VISUAL or EDITOR to your editor's command (for example EDITOR='code --wait').",
    );
  }
}

/** What a round in the editor produced. */
type Round =
  | { kind: "plan"; plan: UpdatePlan }
  | { kind: "done"; code: number; keep: boolean };

/** Edits the live policy and pushes the result; returns the exit code. */
export async function runEdit(context: CliContext, flags: PushFlags): Promise<number> {
  const { io } = context;
  const editor = editorCommand((name) => io.env(name), io.stdinIsTerminal && io.stdoutIsTerminal);
  const fetched = await getPolicy(context);
  const original = formatJson(withRevision(fetched.policy, fetched.revision));
  const dir = await Deno.makeTempDir({ prefix: "cloudsignal-edit-" });
  const path = `${dir}/policy.json`;
  await Deno.writeTextFile(path, editBuffer(original), { mode: 0o600 });
  let keep = true;
  try {
    const round = await editUntilUsable(context, editor, path, original);
    if (round.kind === "done") {
      keep = round.keep;
      return round.code;
    }
    const code = await showAndPush(context, round.plan, flags, {
      question: `Update the policy of ${round.plan.organization.name}?`,
      command: "acl edit",
    });
    keep = code !== EXIT_OK;
    return code;
  } finally {
    if (keep) {
      io.err(
        `Your edit is kept in ${path}; push it later with: cloudsignal acl update ${path}\n`,
      );
    } else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Opens the editor until a save checks out, is cancelled, or keeps the same problems. */
async function editUntilUsable(
  context: CliContext,
  editor: string,
  path: string,
  original: string,
): Promise<Round> {
  const { io } = context;
  let refused: string | null = null;
  for (;;) {
    const status = await runEditor(editor, path);
    if (status !== 0) {
      io.err(`The editor exited with status ${status}: nothing was sent.\n`);
      return { kind: "done", code: EXIT_ERROR, keep: true };
    }
    const saved = readEditBuffer(await Deno.readTextFile(path));
    if (saved.empty) {
      io.err("Edit cancelled (the file was emptied): nothing was sent.\n");
      return { kind: "done", code: EXIT_OK, keep: false };
    }
    if (saved.text.trim() === original.trim()) {
      io.err("No changes: nothing was sent.\n");
      return { kind: "done", code: EXIT_OK, keep: false };
    }
    const body = saved.text.replace(/^\n+/, "");
    if (refused !== null && body === refused) {
      io.err("The file was saved again with the same problems: nothing was sent.\n");
      return { kind: "done", code: EXIT_ERROR, keep: true };
    }
    try {
      const plan = await planPolicyUpdate(context, { policy: { text: saved.text, name: path } });
      return { kind: "plan", plan };
    } catch (error) {
      if (!(error instanceof PolicyInvalidError || error instanceof TestsFailedError)) throw error;
      refused = body;
      // The new header moves the policy by `shift` lines; the places it names follow.
      const blankedLines = saved.text.length - body.length;
      const headerLines = editBuffer("", problemsOf(error)).split("\n").length - 1;
      const shift = headerLines - blankedLines;
      await Deno.writeTextFile(path, editBuffer(body, problemsOf(error, shift)));
      io.err(`${path} has problems; reopening it with them at the top.\n`);
    }
  }
}
