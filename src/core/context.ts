/**
 * What an operation may use of the program that runs it: the API and state directory, the
 * environment, a log for diagnostics, progress reporting and cancellation. The CLI and the
 * MCP server each build one; operations never see a terminal, flags or exit codes.
 */

/** Runs `work` while telling the person it is under way (a spinner, a progress notice). */
export type ProgressReporter = <T>(label: string, work: () => Promise<T>) => Promise<T>;

/** What an HTTP request needs: debug logging, cancellation, and optionally another fetch. */
export interface HttpContext {
  /** Log each request (`--debug` / `CLOUDSIGNAL_DEBUG=1`). */
  debug: boolean;
  /** Writes one diagnostic line (no newline needed); never data. */
  log(line: string): void;
  /** Cancels every request of the operation (Ctrl+C, an MCP cancellation). */
  signal?: AbortSignal;
  /** The fetch to use (tests, embedding); the global one by default. */
  fetch?: typeof fetch;
}

/** The neutral context of every operation. */
export interface OperationContext extends HttpContext {
  /** API base URL without a trailing slash. */
  apiUrl: string;
  /** Whether the API URL was chosen by flag or environment (not the default). */
  apiUrlExplicit: boolean;
  /** The state directory: CLOUDSIGNAL_HOME or ~/.cloudsignal. */
  home: string;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Reports a slow step; runs `work` directly when absent. */
  progress?: ProgressReporter;
}

/** The API used when neither `--api-url` nor `CLOUDSIGNAL_API_URL` says otherwise. */
export const DEFAULT_API_URL = "https://api.cloudsignal.io";

/** Runs `work` under the context's progress reporter, if it has one. */
export function step<T>(
  context: { progress?: ProgressReporter },
  label: string,
  work: () => Promise<T>,
): Promise<T> {
  return context.progress ? context.progress(label, work) : work();
}

/** Logs `debug: <line>` when the context debugs. */
export function debugLog(context: HttpContext, line: string): void {
  if (context.debug) context.log(`debug: ${line}`);
}

/** The state directory from the environment: CLOUDSIGNAL_HOME, else ~/.cloudsignal. */
export function homeFromEnv(env: (name: string) => string | undefined): string | null {
  const override = env("CLOUDSIGNAL_HOME");
  if (override) return override;
  const home = env("HOME") ?? env("USERPROFILE");
  return home ? `${home}/.cloudsignal` : null;
}

/** True when a `CLOUDSIGNAL_DEBUG` value turns debugging on. */
export function debugFromEnv(value: string | undefined): boolean {
  return ["1", "true", "yes"].includes((value ?? "").toLowerCase());
}
