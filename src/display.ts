// Show data nicely: tables and small bar charts.
//
// In Jupyter you see HTML (a real table, a drawn chart). In a terminal, or
// anywhere without Jupyter, you see the same thing as plain text. Each output
// carries both versions (a "MIME bundle") and the viewer picks the best one.

import escapeHtml from "escape-html";
import { inspect } from "node:util";

/**
 * Show any value: a list of objects (like rows from `db.all`) as a table,
 * a list of plain values as a numbered table (counting from 0, like `list[0]`),
 * and anything else as text.
 *
 * @example
 * import { show, roster, students } from "rollcall";
 * show(students);           // a table: id, name, email, cohort
 * show(roster);             // a table: index, value
 * show({ total: 12 });      // { total: 12 }
 */
export function show(value: unknown): void {
  if (!Array.isArray(value)) {
    publish({ "text/plain": typeof value === "string" ? value : inspect(value, { depth: 4 }) });
  } else if (value.length === 0) {
    publish({ "text/plain": "(empty list)" });
  } else if (value.every(isRow)) {
    table(value);
  } else {
    table(value.map((item: unknown, index) => ({ index, value: item })));
  }
}

/**
 * Show rows as a table, one column per property.
 *
 * @example
 * import { table } from "rollcall";
 * table([
 *   { name: "Ada Lovelace", cohort: "Morning" },
 *   { name: "Grace Hopper", cohort: "Evening" },
 * ]);
 */
export function table(rows: readonly object[]): void {
  const { html, text } = renderTable(rows);
  publish({ "text/html": html, "text/plain": text });
}

/**
 * Draw a small horizontal bar chart: one bar per label, as long as its number.
 * Takes an object or a Map from label to number; bars keep their order.
 *
 * @example
 * import { barChart } from "rollcall";
 * barChart({ Morning: 6, Evening: 6 }, { title: "Students per cohort" });
 * barChart(new Map([["heads", 52], ["tails", 48]]));
 */
export function barChart(counts: Readonly<Record<string, number>> | ReadonlyMap<string, number>, options: { title?: string } = {}): void {
  const { svg, text } = renderBarChart(counts, options);
  // As HTML the SVG sits in the page and its text takes the theme's colour (currentColor); an SVG image could not.
  publish({ "text/html": svg, "image/svg+xml": svg, "text/plain": text });
}

/**
 * Send one output with several versions of the same thing, keyed by MIME type.
 * Inside Jupyter (the tslab kernel) the notebook shows the richest version it can;
 * anywhere else the `"text/plain"` version is printed.
 *
 * @example
 * publish({ "text/html": "<b>Hello</b>", "text/plain": "Hello" });
 */
export function publish(bundle: Readonly<Record<string, string | object>>): void {
  const writeDisplayData = tslabDisplay();
  if (writeDisplayData !== undefined) {
    writeDisplayData({ data: { ...bundle }, metadata: {}, transient: {} }, false);
  } else if (typeof bundle["text/plain"] === "string") {
    process.stdout.write(bundle["text/plain"] + "\n");
  }
}

/**
 * Build a table as HTML and as aligned plain text, without showing it.
 *
 * @example
 * const { text } = renderTable([{ id: 1, name: "Ada" }]);
 * // id │ name
 * // ───┼─────
 * //  1 │ Ada
 */
export function renderTable(objects: readonly object[]): { html: string; text: string } {
  // Any object is a row (an interface like Student has no index signature, yet is one): its own properties are the cells.
  const rows = objects as readonly Record<string, unknown>[];
  if (rows.length === 0) return { html: "<p><em>(no rows)</em></p>", text: "(no rows)" };
  // Every property that appears in any row becomes a column, in order of first appearance.
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const numeric = columns.map((column) => rows.every((row) => typeof row[column] === "number" || row[column] == null));
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));

  // Grey with transparency reads on a light and a dark theme alike; the text keeps the theme's own colour.
  const th = "padding:4px 10px;border-bottom:2px solid rgba(128,128,128,0.7);";
  const td = "padding:3px 10px;border-bottom:1px solid rgba(128,128,128,0.35);";
  const align = (i: number) => `text-align:${numeric[i] ? "right" : "left"};`;
  const html = [
    '<table class="rollcall-table" style="border-collapse:collapse;">',
    `<thead><tr>${columns.map((c, i) => `<th style="${th}${align(i)}">${escapeHtml(c)}</th>`).join("")}</tr></thead>`,
    "<tbody>",
    ...cells.map((row) => `<tr>${row.map((cell, i) => `<td style="${td}${align(i)}">${escapeHtml(cell)}</td>`).join("")}</tr>`),
    "</tbody></table>",
  ].join("\n");

  const widths = columns.map((column, i) => Math.max(width(column), ...cells.map((row) => width(row[i] ?? ""))));
  const line = (values: string[]) =>
    values
      .map((value, i) => pad(value, widths[i] ?? 0, numeric[i] ?? false))
      .join(" │ ")
      .trimEnd();
  const text = [
    line(columns),
    widths.map((w) => "─".repeat(w)).join("─┼─"),
    ...cells.map((row) => line(row.map((cell) => cell.replace(/\r?\n/g, " ↵ ")))),
  ].join("\n");
  return { html, text };
}

/**
 * Build a bar chart as SVG and as plain-text bars (█), without showing it.
 *
 * @example
 * const { text } = renderBarChart({ Morning: 6, Evening: 3 });
 * // Morning │██████████████████████████████ 6
 * // Evening │███████████████ 3
 */
export function renderBarChart(
  counts: Readonly<Record<string, number>> | ReadonlyMap<string, number>,
  options: { title?: string } = {},
): { svg: string; text: string } {
  const entries: [string, number][] = counts instanceof Map ? [...counts] : Object.entries(counts);
  const title = options.title;
  const largest = Math.max(0, ...entries.map(([, value]) => value).filter(Number.isFinite));
  // How long a bar is, from 0 to 1: its value compared with the largest value.
  const share = (value: number) => (largest > 0 && Number.isFinite(value) && value > 0 ? value / largest : 0);

  // The text version: labels padded to the same width, then the bar, then the number.
  const labelWidth = Math.max(0, ...entries.map(([label]) => width(label)));
  const textBars = entries.map(([label, value]) => {
    const length = value > 0 ? Math.max(1, Math.round(share(value) * 30)) : 0;
    return `${pad(label, labelWidth, false)} │${"█".repeat(length)} ${formatNumber(value)}`;
  });
  const text = [...(title ? [title] : []), ...(entries.length === 0 ? ["(no data)"] : textBars)].join("\n");

  // The SVG version: the same layout, drawn. Sizes are in pixels; 7.5 is roughly one letter.
  const row = 26;
  const top = title ? 30 : 6;
  const left = Math.max(40, labelWidth * 7.5 + 16);
  const barSpace = 320;
  const valueSpace = Math.max(...entries.map(([, value]) => formatNumber(value).length * 7.5), 0) + 16;
  const svgWidth = Math.ceil(left + barSpace + valueSpace);
  const svgHeight = top + Math.max(1, entries.length) * row + 6;
  const bars = entries.map(([label, value], i) => {
    const y = top + i * row;
    const barWidth = share(value) * barSpace;
    return [
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${barWidth.toFixed(1)}" height="18" fill="#4c78a8"/>`,
      `<text x="${(left + barWidth + 6).toFixed(1)}" y="${y + 17}">${escapeHtml(formatNumber(value))}</text>`,
    ].join("");
  });
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${svgHeight}" viewBox="0 0 ${svgWidth} ${svgHeight}" font-family="sans-serif" font-size="13" fill="currentColor">`,
    ...(title ? [`<text x="${left}" y="19" font-weight="bold">${escapeHtml(title)}</text>`] : []),
    ...(entries.length === 0 ? [`<text x="${left}" y="${top + 17}">(no data)</text>`] : bars),
    "</svg>",
  ].join("\n");
  return { svg, text };
}

// ---------------------------------------------------------------------------
// How it works

/** An object with its own properties, like a row from `db.all`, becomes a table row. */
function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
}

/** How one value looks inside a table cell. */
function cellText(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "null";
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === "object") return inspect(value, { depth: 1, breakLength: Infinity });
  return String(value);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/** Length in characters as you see them (an emoji or "é" counts once). */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, right: boolean): string {
  const space = " ".repeat(Math.max(0, size - width(text)));
  return right ? space + text : text + space;
}

/** The signature of tslab's internal function that sends a display_data message. */
type WriteDisplayData = (
  content: { data: Record<string, string | object>; metadata: Record<string, never>; transient: Record<string, never> },
  update: boolean,
) => void;

/**
 * Inside the tslab kernel, its module `tslab/dist/jupyter` is already loaded and holds
 * `lastWriteDisplayData`: the function that sends output to the cell running now.
 * We look for it among the loaded modules instead of loading tslab ourselves, so plain
 * Node (and the tests) never pay for loading tslab's compiler. Outside a kernel: undefined.
 */
function tslabDisplay(): WriteDisplayData | undefined {
  for (const [file, loaded] of Object.entries(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    const write: unknown = (loaded?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof write === "function") return write as WriteDisplayData;
  }
  return undefined;
}
