/** `cloudsignal completions <shell>` and the hidden `complete` its scripts call back. */

import { Argument, type CommandUnknownOpts } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { examplesText } from "../cli/examples.ts";

const SHELLS = ["bash", "zsh", "fish", "powershell", "pwsh"] as const;

const INSTALL_HELP = `${
  examplesText([
    [
      "bash (or add `source <(cloudsignal completions bash)` to ~/.bashrc)",
      "cloudsignal completions bash > ~/.local/share/bash-completion/completions/cloudsignal",
    ],
    ["zsh (then restart zsh)", 'cloudsignal completions zsh > "${fpath[1]}/_cloudsignal"'],
    ["fish", "cloudsignal completions fish > ~/.config/fish/completions/cloudsignal.fish"],
    [
      "PowerShell (add the line to $PROFILE)",
      "cloudsignal completions powershell | Out-String | Invoke-Expression",
    ],
  ])
}

The scripts run \`cloudsignal complete -- <words>\` on each TAB, so \`cloudsignal\` must be on PATH.
Homebrew installs them for you.`;

function rootOf(command: CommandUnknownOpts): CommandUnknownOpts {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

/** Registers `completions <shell>` and the hidden `complete [words...]`. */
export function registerCompletions(program: Program): void {
  program
    .command("completions")
    .description("Print the shell completion script for bash, zsh, fish or powershell.")
    .addArgument(
      new Argument("<shell>", "the shell (pwsh is the same as powershell)").choices(SHELLS),
    )
    .addHelpText("after", INSTALL_HELP)
    .action(act(async (shell, _options, command) => {
      const context = contextOf(command);
      const { completionScript } = await import("../cli/completion.ts");
      context.io.out(completionScript(shell === "pwsh" ? "powershell" : shell));
    }));

  program
    .command("complete", { hidden: true })
    .description("Print the completions of a partial command line (used by the shell scripts).")
    .argument("[words...]", "the command line after `cloudsignal`, the last word being completed")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(act(async (words, _options, command) => {
      const context = contextOf(command);
      const { completeWords } = await import("../cli/completion.ts");
      context.io.out(completeWords(rootOf(command as CommandUnknownOpts), words));
    }));
}
