/**
 * A class roster from CSV (`name`, `email`, optional `cohort`, with a header row), checked
 * whole: every bad row is a `Problem` at its line, and one bad row means no roster at all.
 */
import { parse } from "csv-parse/sync";
import { failed, ok, type Problem, type Result } from "./problem";

/** One learner as a roster file gives them. */
export interface RosterEntry {
  readonly name: string;
  readonly email: string;
  readonly cohort?: string;
  /** The 1-based line the row starts on. */
  readonly line: number;
}

const required = ["name", "email"] as const;
const optional = ["cohort"] as const;
type Column = (typeof required)[number] | (typeof optional)[number];
const columnList = "name, email and optionally cohort";

/** Deliberately loose: one @, no spaces, a dot in the domain. The roster's owner knows the real addresses. */
const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/u;

/** The key a learner is known by across imports: emails are case-insensitive in practice. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Reads a roster; `file` is the name to put in front of each problem (`roster.csv:LINE: …`).
 * @example
 * parseRoster("name,email\nAda Lovelace,ada@example.edu\n", "roster.csv");
 * // ok: [{ name: "Ada Lovelace", email: "ada@example.edu", line: 2 }]
 */
export function parseRoster(text: string, file: string): Result<readonly RosterEntry[]> {
  const records = readRecords(text, file);
  if (!records.ok) return records;
  const [header, ...rows] = records.value;
  if (header === undefined) {
    return failed([{ file, line: 1, message: `the file is empty; it needs a header row with the columns ${columnList}` }]);
  }
  const columns = readHeader(header.fields, file);
  if (!columns.ok) return columns;
  if (rows.length === 0) return failed([{ file, line: 2, message: "no learners: add one row per learner below the header row" }]);

  const problems: Problem[] = [];
  const entries: RosterEntry[] = [];
  const firstLineOf = new Map<string, number>();
  for (const { fields, line } of rows) {
    const at = (message: string) => problems.push({ file, line, message });
    if (fields.length !== columns.value.length) {
      at(
        `${fields.length} field${fields.length === 1 ? "" : "s"}, but the header has ${columns.value.length} columns (${columns.value.join(", ")})`,
      );
      continue;
    }
    const value = (column: Column): string => {
      const index = columns.value.indexOf(column);
      return index < 0 ? "" : (fields[index] ?? "").trim().normalize("NFC");
    };
    const name = value("name");
    const email = value("email");
    const cohort = value("cohort");
    const wrong: string[] = [];
    // Control and format characters (a line break, an escape sequence) would rewrite the terminal that shows the pick.
    for (const [column, text] of [
      ["name", name],
      ["email", email],
      ["cohort", cohort],
    ] as const)
      if (/[\p{Cc}\p{Cf}]/u.test(text))
        wrong.push(`the ${column} holds a control character (a line break, a tab or an escape): type it on one line`);
    if (name === "") wrong.push("missing name");
    if (email === "") wrong.push("missing email");
    else if (!emailShape.test(email)) wrong.push(`bad email ${JSON.stringify(email)} (an email looks like name@example.edu)`);
    else {
      const seen = firstLineOf.get(emailKey(email));
      if (seen !== undefined) wrong.push(`duplicate email ${email} (also on line ${seen}); each learner needs their own`);
      else firstLineOf.set(emailKey(email), line);
    }
    if (wrong.length > 0) at(wrong.join("; "));
    else entries.push(cohort === "" ? { name, email, line } : { name, email, cohort, line });
  }
  return problems.length > 0 ? failed(problems) : ok(entries);
}

interface CsvRecord {
  readonly fields: readonly string[];
  readonly line: number;
}

function readRecords(text: string, file: string): Result<readonly CsvRecord[]> {
  try {
    // One line ending for all, so csv-parse counts lines the way an editor shows them.
    const rows = parse(text.replace(/\r\n?/gu, "\n"), {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return ok(
      rows.map(({ record, info }) => ({
        fields: record,
        // info.lines is where the record ends; a quoted field may span lines.
        line: info.lines - record.reduce((n, field) => n + field.split("\n").length - 1, 0),
      })),
    );
  } catch (error) {
    const e = error as { lines?: unknown; message?: unknown };
    if (typeof e.message !== "string") throw error;
    const message = e.message.replace(/^[A-Za-z ]+: /u, "");
    return failed([{ file, ...(typeof e.lines === "number" ? { line: e.lines } : {}), message: `not valid CSV: ${message}` }]);
  }
}

function readHeader(header: readonly string[], file: string): Result<readonly Column[]> {
  const names = header.map((h) => h.trim().toLowerCase());
  const known: readonly string[] = [...required, ...optional];
  const wrong: string[] = [];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    wrong.push(`unknown column${unknown.length === 1 ? "" : "s"} ${unknown.map((n) => JSON.stringify(n)).join(", ")}`);
  const missing = required.filter((c) => !names.includes(c));
  if (missing.length > 0) wrong.push(`no ${missing.map((n) => JSON.stringify(n)).join(" or ")} column`);
  const twice = known.filter((c) => names.filter((n) => n === c).length > 1);
  if (twice.length > 0) wrong.push(`column ${twice.map((n) => JSON.stringify(n)).join(", ")} given twice`);
  if (wrong.length > 0) {
    return failed([
      { file, line: 1, message: `${wrong.join("; ")}: the header row must name the columns ${columnList}, like name,email,cohort` },
    ]);
  }
  return ok(names as Column[]);
}
