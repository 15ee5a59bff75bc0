/**
 * Opening the user's browser: `BROWSER` (a `:`-separated list of commands, `%s` standing
 * for the URL, else the URL is appended), then the system's opener (`open` on macOS,
 * `start` on Windows, `wslview` on WSL, `xdg-open` elsewhere). Commands run without a
 * shell. Failing to open one is not an error: the URL has been printed already.
 */

/** How to start one candidate. */
export interface BrowserCommand {
  command: string;
  args: string[];
  /** Windows: pass `args` to the command line as they are (for `cmd /c start`). */
  raw?: boolean;
}

function isWsl(env: (name: string) => string | undefined): boolean {
  if (env("WSL_DISTRO_NAME") || env("WSL_INTEROP")) return true;
  try {
    return /microsoft/i.test(Deno.readTextFileSync("/proc/sys/kernel/osrelease"));
  } catch {
    return false;
  }
}

/** Escapes a URL for `cmd /c start`, where `& | < > ^` are special. */
function cmdEscape(url: string): string {
  return url.replace(/[&|<>^]/g, (character) => `^${character}`);
}

/** The commands tried, in order, to open `url`. */
export function browserCommands(
  url: string,
  env: (name: string) => string | undefined,
  os: typeof Deno.build.os = Deno.build.os,
): BrowserCommand[] {
  const commands: BrowserCommand[] = [];
  const fromEnv = env("BROWSER")?.trim();
  if (fromEnv) {
    for (const entry of fromEnv.split(os === "windows" ? ";" : ":")) {
      const words = entry.trim().split(/\s+/).filter((word) => word !== "");
      if (words.length === 0) continue;
      const hasPlaceholder = words.some((word) => word.includes("%s"));
      const args = words.slice(1).map((word) => word.replaceAll("%s", url));
      commands.push({ command: words[0], args: hasPlaceholder ? args : [...args, url] });
    }
  }
  if (os === "darwin") {
    commands.push({ command: "open", args: [url] });
  } else if (os === "windows") {
    commands.push({
      command: "cmd",
      args: ["/d", "/c", "start", '""', cmdEscape(url)],
      raw: true,
    });
  } else {
    if (isWsl(env)) commands.push({ command: "wslview", args: [url] });
    commands.push({ command: "xdg-open", args: [url] });
  }
  return commands;
}

/** What `openBrowser` did. */
export interface BrowserOutcome {
  /** The command that started (or is still starting) a browser, or null when none did. */
  opened: string | null;
  /** The commands that failed, with why. */
  failures: string[];
}

/** How long an opener may take to report failure before it is taken as having worked. */
const SETTLE_MS = 3_000;

/**
 * Tries each command until one starts: a command that exits 0, or is still running after
 * a few seconds (a browser started directly), counts as opened; one that is missing or
 * exits non-zero is skipped. Never throws.
 */
export async function openBrowser(
  url: string,
  env: (name: string) => string | undefined,
): Promise<BrowserOutcome> {
  const failures: string[] = [];
  for (const candidate of browserCommands(url, env)) {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(candidate.command, {
        args: candidate.args,
        windowsRawArguments: candidate.raw === true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      failures.push(
        `${candidate.command}: ${
          error instanceof Deno.errors.NotFound ? "not found" : "failed to start"
        }`,
      );
      continue;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      child.status,
      new Promise<"running">((
        resolve,
      ) => (timer = setTimeout(() => resolve("running"), SETTLE_MS))),
    ]);
    clearTimeout(timer);
    if (outcome === "running") {
      child.unref();
      return { opened: candidate.command, failures };
    }
    if (outcome.success) return { opened: candidate.command, failures };
    failures.push(`${candidate.command}: exited with code ${outcome.code}`);
  }
  return { opened: null, failures };
}
