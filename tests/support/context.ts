/** Operation contexts for unit tests: no terminal, the log kept in memory. */

import type { OperationContext } from "../../src/core/context.ts";

/** An operation context whose log lines are kept. */
export interface TestContext extends OperationContext {
  /** Every line logged, in order. */
  readonly logged: string[];
}

/** Options of `testContext`. */
export interface TestContextOptions {
  apiUrl?: string;
  home?: string;
  env?: Record<string, string>;
  debug?: boolean;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** A context with an explicit API URL, a given home, and only the given environment. */
export function testContext(options: TestContextOptions = {}): TestContext {
  const logged: string[] = [];
  const env = options.env ?? {};
  return {
    apiUrl: options.apiUrl ?? "http://127.0.0.1:1",
    apiUrlExplicit: true,
    home: options.home ?? "/nonexistent",
    env: (name) => env[name],
    debug: options.debug ?? false,
    log: (line) => logged.push(line),
    signal: options.signal,
    fetch: options.fetch,
    logged,
  };
}
