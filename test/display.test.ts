import assert from "node:assert/strict";
import { test } from "node:test";
import { barChart, publish, renderBarChart, renderTable, show, table } from "../src/display";
import { captureStdout } from "./support/capture-stdout";

test("renderTable lines up a text table, numbers on the right", () => {
  const { text } = renderTable([
    { id: 1, name: "Ada Lovelace" },
    { id: 12, name: "Mei" },
  ]);
  assert.equal(text, ["id │ name", "───┼─────────────", " 1 │ Ada Lovelace", "12 │ Mei"].join("\n"));
});

test("renderTable takes every column that appears in any row, and shows null and missing values", () => {
  const { text, html } = renderTable([{ a: 1 }, { b: null }, { a: 3, c: "x" }]);
  assert.equal(text.split("\n")[0], "a │    b │ c");
  assert.equal(text.split("\n")[4], "3 │      │ x");
  assert.match(text, /│ null │/);
  assert.match(html, /<th[^>]*>a<\/th><th[^>]*>b<\/th><th[^>]*>c<\/th>/);
});

test("renderTable escapes HTML in headers and cells and makes a plain rollcall-table", () => {
  const { html, text } = renderTable([{ "<b>": "<script>alert('x')</script> & co" }]);
  assert.match(html, /^<table class="rollcall-table"/);
  assert.ok(!html.includes("<script>") && !html.includes("<b>"), html);
  assert.ok(html.includes("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"), html);
  assert.ok(text.includes("<script>alert('x')</script> & co"), "the text version shows the value as it is");
  assert.equal((html.match(/<tr>/g) ?? []).length, 2);
});

test("renderTable says when there are no rows", () => {
  assert.deepEqual(renderTable([]), { html: "<p><em>(no rows)</em></p>", text: "(no rows)" });
});

test("renderBarChart draws text bars scaled to the largest value, in the given order", () => {
  const { text } = renderBarChart(
    new Map([
      ["Morning", 6],
      ["Evening", 3],
      ["Night", 0],
    ]),
    { title: "Students per cohort" },
  );
  assert.equal(text, ["Students per cohort", `Morning │${"█".repeat(30)} 6`, `Evening │${"█".repeat(15)} 3`, "Night   │ 0"].join("\n"));
});

test("renderBarChart draws one SVG bar per label, sized by value, with labels escaped", () => {
  const { svg } = renderBarChart({ "<b>A & B</b>": 4, C: 2 }, { title: "Tom & Jerry's <chart>" });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(widths, [320, 160]);
  assert.ok(svg.includes("&lt;b&gt;A &amp; B&lt;/b&gt;"), svg);
  assert.ok(svg.includes("Tom &amp; Jerry&#39;s &lt;chart&gt;"), svg);
  assert.ok(!svg.includes("<b>") && !svg.includes("<chart>"));
});

test("renderBarChart copes with no data", () => {
  const { svg, text } = renderBarChart({});
  assert.equal(text, "(no data)");
  assert.ok(svg.includes("(no data)") && !svg.includes("<rect"));
});

test("outside a kernel, publish prints the text/plain version and a newline", () => {
  const out = captureStdout(() => publish({ "text/html": "<b>Hello</b>", "text/plain": "Hello" }));
  assert.equal(out, "Hello\n");
});

test("show() prints rows as a table, a list as index and value from 0, and anything else as text", () => {
  assert.equal(
    captureStdout(() => show([{ name: "Ada" }, { name: "Grace" }])),
    "name\n─────\nAda\nGrace\n",
  );
  assert.equal(
    captureStdout(() => show(["Ada", "Grace"])),
    "index │ value\n──────┼──────\n    0 │ Ada\n    1 │ Grace\n",
  );
  assert.equal(
    captureStdout(() => show({ total: 12, cohorts: ["Morning", "Evening"] })),
    "{ total: 12, cohorts: [ 'Morning', 'Evening' ] }\n",
  );
  assert.equal(
    captureStdout(() => show("plain words")),
    "plain words\n",
  );
  assert.equal(
    captureStdout(() => show([])),
    "(empty list)\n",
  );
});

test("table() and barChart() print their text versions outside a kernel", () => {
  assert.equal(
    captureStdout(() => table([{ n: 1 }])),
    "n\n─\n1\n",
  );
  assert.equal(
    captureStdout(() => barChart({ a: 2 })),
    `a │${"█".repeat(30)} 2\n`,
  );
});

test("inside the tslab kernel, publish sends ONE display_data with every MIME type", () => {
  // The real module tslab's kernel uses; in a kernel it holds the function of the running cell.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very CommonJS instance tslab's kernel writes through
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
  const sent: unknown[][] = [];
  jupyter.lastWriteDisplayData = (...args: unknown[]) => sent.push(args);
  try {
    const out = captureStdout(() => barChart({ a: 1 }, { title: "T" }));
    assert.equal(out, "", "nothing should go to stdout inside a kernel");
  } finally {
    jupyter.lastWriteDisplayData = null;
  }
  assert.equal(sent.length, 1);
  const [content, update] = sent[0] as [{ data: Record<string, string>; metadata: object; transient: object }, boolean];
  assert.equal(update, false);
  assert.deepEqual(Object.keys(content.data).sort(), ["image/svg+xml", "text/html", "text/plain"]);
  assert.match(content.data["image/svg+xml"] ?? "", /^<svg /);
  // Inline in the page (text/html, which every notebook UI prefers to an SVG image), the chart's text takes the theme's colour.
  assert.equal(content.data["text/html"], content.data["image/svg+xml"]);
  assert.match(content.data["text/html"] ?? "", /^<svg [^>]*fill="currentColor">/);
  assert.deepEqual([content.metadata, content.transient], [{}, {}]);
  // With the kernel gone again, output falls back to stdout.
  assert.equal(
    captureStdout(() => publish({ "text/plain": "back" })),
    "back\n",
  );
});
