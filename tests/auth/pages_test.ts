import assert from "node:assert/strict";
import {
  escapeHtml,
  failurePage,
  PAGE_HEADERS,
  renderPage,
  successPage,
} from "../../src/auth/pages.ts";

Deno.test("pages escape everything they echo", () => {
  const hostile = `<script>alert("x")</script>&'`;
  const html = renderPage(failurePage(hostile)) + renderPage(successPage(hostile, hostile));
  assert.equal(html.includes("<script>"), false);
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
  assert.equal(escapeHtml(`a"b'c<d>e&f`), "a&quot;b&#39;c&lt;d&gt;e&amp;f");
});

Deno.test("pages forbid scripts, framing, caching and referrers", () => {
  assert.match(PAGE_HEADERS["content-security-policy"], /default-src 'none'/);
  assert.doesNotMatch(PAGE_HEADERS["content-security-policy"], /script-src/);
  assert.equal(PAGE_HEADERS["referrer-policy"], "no-referrer");
  assert.equal(PAGE_HEADERS["cache-control"], "no-store");
  assert.equal(PAGE_HEADERS["x-frame-options"], "DENY");
});
