/**
 * Deno-backed stand-ins for the Node built-ins commander imports. Loading Deno's Node
 * polyfills for `fs`, `child_process`, `path`, `process` and `util` costs ~25 ms per start;
 * the CLI uses none of the features behind them (executable subcommands, script-name
 * inference), so the vendored commander bundle imports these instead.
 * See docs/decisions.md, "Vendored commander".
 */

type Listener = (...args: unknown[]) => void;

/** The part of Node's EventEmitter that commander uses. */
export class EventEmitter {
  #listeners = new Map<string | symbol, Listener[]>();

  /** Adds a listener for `event`. */
  on(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event);
    if (list) list.push(listener);
    else this.#listeners.set(event, [listener]);
    return this;
  }

  /** Alias of `on`. */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once(event: string | symbol, listener: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  /** Removes a listener. */
  off(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event);
    if (list) {
      const at = list.indexOf(listener);
      if (at >= 0) list.splice(at, 1);
    }
    return this;
  }

  /** Alias of `off`. */
  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }

  /** Calls every listener of `event`; true when there was one. */
  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const listener of [...list]) listener(...args);
    return true;
  }

  /** Number of listeners of `event`. */
  listenerCount(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** A copy of the listeners of `event`. */
  listeners(event: string | symbol): Listener[] {
    return [...(this.#listeners.get(event) ?? [])];
  }
}

function unsupported(feature: string): never {
  throw new Error(`${feature} is not supported by this build of commander`);
}

/** `child_process`: only used for executable subcommands, which the CLI does not have. */
export const childProcess = {
  spawn: (): never => unsupported("executable subcommands"),
};

/** `fs`: only used to locate executable subcommands. */
export const fs = {
  existsSync: (): never => unsupported("executable subcommands"),
  realpathSync: (): never => unsupported("executable subcommands"),
};

function basename(file: string, ext?: string): string {
  const base = file.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? "";
  return ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base;
}

function extname(file: string): string {
  const base = basename(file);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot) : "";
}

/** `path`: commander names a program after its script file with these. */
export const path = {
  basename,
  extname,
  dirname: (): never => unsupported("executable subcommands"),
  resolve: (): never => unsupported("executable subcommands"),
};

const encoder = new TextEncoder();

function writeAll(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): boolean {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  return true;
}

function columns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

function outputStream(stream: typeof Deno.stdout | typeof Deno.stderr) {
  return {
    write: (text: string) => writeAll(stream, text),
    get isTTY() {
      return stream.isTerminal();
    },
    get columns() {
      return columns();
    },
    hasColors: () => stream.isTerminal() && Deno.env.get("NO_COLOR") === undefined,
  };
}

/** `util.stripVTControlCharacters`: removes ANSI escape sequences when measuring help text. */
export function stripVTControlCharacters(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g, "");
}

/** `process`: the members commander reads, backed by `Deno`. */
export const process = {
  get argv(): string[] {
    return [Deno.execPath(), "cloudsignal", ...Deno.args];
  },
  execArgv: [] as string[],
  execPath: Deno.execPath,
  versions: {} as Record<string, string>,
  get platform(): string {
    return Deno.build.os === "windows" ? "win32" : Deno.build.os;
  },
  env: new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => typeof key === "string" ? Deno.env.get(key) : undefined,
    has: (_target, key) => typeof key === "string" && Deno.env.get(key) !== undefined,
  }),
  stdout: outputStream(Deno.stdout),
  stderr: outputStream(Deno.stderr),
  exit: (code?: number): never => Deno.exit(code),
  get exitCode(): number {
    return Deno.exitCode;
  },
  set exitCode(code: number) {
    Deno.exitCode = code;
  },
  on: (): never => unsupported("executable subcommands"),
};
