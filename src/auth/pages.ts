/** The small HTML pages the login callback server shows in the browser. */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** What a page says; every field is plain text and escaped when rendered. */
export interface PageContent {
  /** Whether it reports success (green) or a problem (red). */
  ok: boolean;
  title: string;
  /** Paragraphs. */
  lines: string[];
  /** HTTP status to answer with. */
  status: number;
}

/** Headers of every page: no caching, no referrer (the URL held the code), no scripts. */
export const PAGE_HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/** Renders a page as a complete HTML document. */
export function renderPage(page: PageContent): string {
  const colour = page.ok ? "#1a7f37" : "#cf222e";
  const paragraphs = page.lines.map((line) => `<p>${escapeHtml(line)}</p>`).join("\n    ");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(page.title)} · CloudSignal CLI</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #1f2328; }
    h1 { font-size: 1.4rem; color: ${colour}; }
    p { line-height: 1.5; }
  </style>
</head>
<body>
  <main>
    <h1>${escapeHtml(page.title)}</h1>
    ${paragraphs}
  </main>
</body>
</html>
`;
}

/** The page after a successful login. */
export function successPage(email: string, organization: string): PageContent {
  return {
    ok: true,
    status: 200,
    title: "You are signed in",
    lines: [
      `The CloudSignal CLI is now logged in as ${email} (organization ${organization}).`,
      "You can close this tab and return to the terminal.",
    ],
  };
}

/** The page when the user denied the request (`error=access_denied`). */
export function deniedPage(): PageContent {
  return {
    ok: false,
    status: 403,
    title: "Sign-in was cancelled",
    lines: [
      "The login request was denied, so the CLI was not logged in and nothing was stored.",
      "You can close this tab. Run `cloudsignal login` to try again.",
    ],
  };
}

/** The page for another error from the authorization server, or a failed exchange. */
export function failurePage(detail: string): PageContent {
  return {
    ok: false,
    status: 400,
    title: "Sign-in failed",
    lines: [detail, "You can close this tab. Run `cloudsignal login` to try again."],
  };
}

/** The page for a callback whose `state` does not match the waiting login. */
export function wrongStatePage(): PageContent {
  return {
    ok: false,
    status: 400,
    title: "This sign-in does not match the login in progress",
    lines: [
      "The response does not carry the state value of the `cloudsignal login` that is " +
      "waiting, so it was refused. It may come from an older login attempt or from " +
      "another site.",
      "Use the URL printed by the command that is running now, or run `cloudsignal login` again.",
    ],
  };
}

/** The page for a second callback after the login was completed. */
export function alreadyUsedPage(): PageContent {
  return {
    ok: false,
    status: 409,
    title: "This login was already completed",
    lines: [
      "The CLI accepts one sign-in per `cloudsignal login`, and it already received it.",
      "You can close this tab.",
    ],
  };
}

/** The page for any other path. */
export function notFoundPage(): PageContent {
  return {
    ok: false,
    status: 404,
    title: "Not found",
    lines: ["This local server only answers the login callback of the CloudSignal CLI."],
  };
}
