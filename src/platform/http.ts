/**
 * HTTP plumbing of the platform: JSON and error responses, bodies read with a size limit,
 * and a router that answers 404 for unknown paths and 405 (with `Allow`) for other methods.
 */

/** Largest request body accepted (413 beyond). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An error answered as `{ error, message, ...extra }` with an HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
};

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { ...JSON_HEADERS, ...headers },
  });
}

/** The response for an `HttpError`. */
export function errorResponse(error: HttpError): Response {
  return json(
    { error: error.code, message: error.message, ...error.extra },
    error.status,
    error.headers,
  );
}

/** Reads the body as text, refusing more than `MAX_BODY_BYTES` (413). */
export async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_request", "the body is not valid UTF-8");
  }
}

function tooLarge(): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`,
  );
}

/** Parses a JSON body: 400 `invalid_json` with the place of the syntax error. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") throw new HttpError(400, "invalid_json", "the body is empty; send JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, "invalid_json", `the body is not valid JSON: ${detail}`);
  }
}

/** Refuses a body whose Content-Type is present and not JSON (415). */
export function requireJsonType(request: Request): void {
  const type = request.headers.get("content-type");
  if (type === null) return;
  const media = type.split(";")[0].trim().toLowerCase();
  if (media === "application/json" || media.endsWith("+json")) return;
  throw new HttpError(
    415,
    "unsupported_media_type",
    `send the body as application/json (got ${media || "an empty Content-Type"})`,
  );
}

/** What a route handler gets. */
export interface RouteContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
}

/** A route handler. */
export type Handler = (context: RouteContext) => Promise<Response> | Response;

interface Route {
  template: string;
  pattern: RegExp;
  names: string[];
  methods: Map<string, Handler>;
}

/** Routes by path template (`/v2/users/{id}/claims`) and method. */
export class Router {
  readonly #routes: Route[] = [];

  /** Adds a handler for `method` on `template`. */
  on(method: string, template: string, handler: Handler): this {
    let route = this.#routes.find((r) => r.pattern.source === compile(template).pattern.source);
    if (!route) {
      route = { template, ...compile(template), methods: new Map() };
      this.#routes.push(route);
    }
    route.methods.set(method, handler);
    if (method === "GET") route.methods.set("HEAD", handler);
    return this;
  }

  /** Every route as method and path template (HEAD beside each GET). */
  routes(): { method: string; template: string }[] {
    return this.#routes.flatMap((route) =>
      [...route.methods.keys()].map((method) => ({ method, template: route.template }))
    );
  }

  /** Answers a request: the handler's response, 404, or 405 with `Allow`. */
  async handle(request: Request, url: URL): Promise<Response> {
    for (const route of this.#routes) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      const handler = route.methods.get(request.method);
      if (!handler) {
        const allow = [...route.methods.keys()].join(", ");
        throw new HttpError(
          405,
          "method_not_allowed",
          `${request.method} is not allowed on ${url.pathname} (allowed: ${allow})`,
          {},
          { allow },
        );
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(match[i + 1]);
        } catch {
          throw new HttpError(400, "invalid_request", `malformed path segment for {${name}}`);
        }
      });
      return await handler({ request, url, params });
    }
    throw new HttpError(404, "not_found", `no such endpoint: ${request.method} ${url.pathname}`);
  }
}

function compile(template: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = template.split("/").map((part) => {
    const name = /^\{(\w+)\}$/.exec(part);
    if (name) {
      names.push(name[1]);
      return "([^/]+)";
    }
    return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).join("/");
  return { pattern: new RegExp(`^${source}$`), names };
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}
