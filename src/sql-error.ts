// The error you get when SQLite refuses a statement.
//
// SQLite's own reason stays at the start of the message, word for word, so you
// can search the web for it. After the " — " comes a hint for beginners.

/**
 * SQLite refused a statement. The message is SQLite's reason, then a hint.
 * `sql` is the statement that failed; `reason` is SQLite's reason alone.
 *
 * @example
 * import { openDatabase, isSqlError } from "rollcall";
 * const db = await openDatabase();
 * try {
 *   db.all("SELECT * FROM studnets");
 * } catch (e) {
 *   if (isSqlError(e)) console.log(e.message);
 *   // no such table: studnets — check the spelling, and run the cell that creates the table first; ...
 * }
 */
export class SqlError extends Error {
  /** The SQL text that failed. */
  readonly sql: string;
  /** SQLite's own reason, without the hint, like "no such table: studnets". */
  readonly reason: string;

  constructor(reason: string, sql: string) {
    const hint = hintFor(reason);
    super(hint === undefined ? reason : `${reason} — ${hint}`);
    this.name = "SqlError";
    this.reason = reason;
    this.sql = sql;
  }
}

/**
 * True when `e` is a `SqlError`. Use it in a `catch` to tell SQL mistakes from other errors.
 *
 * @example
 * try {
 *   db.run("INSERT INTO students (email) VALUES (?)", ["ada@example.edu"]);
 * } catch (e) {
 *   if (isSqlError(e)) console.log("SQLite said:", e.reason);
 *   else throw e;
 * }
 */
export function isSqlError(e: unknown): e is SqlError {
  // Compare the name, not only the class: a notebook may load this file twice.
  return e instanceof SqlError || (e instanceof Error && e.name === "SqlError");
}

/** A beginner's hint for SQLite's most common reasons, or undefined when we have none. */
function hintFor(reason: string): string | undefined {
  let m: RegExpMatchArray | null;
  if ((m = reason.match(/^UNIQUE constraint failed: (.+)$/))) {
    const columns = columnNames(m[1] ?? "");
    return columns.length === 1
      ? `another row already has this ${columns[0]}; UNIQUE columns cannot repeat.`
      : `another row already has this ${columns.join(" and ")} together; that combination must be UNIQUE.`;
  }
  if ((m = reason.match(/^NOT NULL constraint failed: (.+)$/))) {
    return `every row needs a value for ${columnNames(m[1] ?? "").join(", ")}; NULL means "no value", and it is not allowed here.`;
  }
  if (reason.startsWith("CHECK constraint failed")) {
    return "a value breaks a CHECK rule of the table; look at its CREATE TABLE to see which values are allowed.";
  }
  if (reason.startsWith("no such table")) {
    return "check the spelling, and run the cell that creates the table first; db.tables() lists the tables you have.";
  }
  if (reason.startsWith("no such column") || reason.includes("has no column named")) {
    return "check the spelling of the column; text values need 'single quotes', or SQLite reads them as a column name.";
  }
  if (reason.endsWith("syntax error") || reason.startsWith("unrecognized token") || reason.startsWith("incomplete input")) {
    return "SQLite could not read the SQL there; look for a typo, a missing comma, or a quote that is not closed.";
  }
  if (/^table .+ already exists$/.test(reason)) {
    return "a table of that name exists already (did this cell run before?); CREATE TABLE IF NOT EXISTS is safe to run twice.";
  }
  if (reason === "column index out of range") {
    return "there are more values than ? placeholders in the SQL; give exactly one value per ?.";
  }
  if (reason === "more than one SQL statement") {
    return "run(), all() and one() take one statement at a time; use db.exec(...) to run several.";
  }
  if (reason === "Nothing to prepare") {
    return "the SQL text is empty; write a statement, like SELECT * FROM students.";
  }
  if (reason === "the database is closed") {
    return "close() was called on it already; open a new one with await openDatabase().";
  }
  if (reason.includes("unknown type (undefined)")) {
    return 'one of the values is undefined; check the spelling of what you passed, or use null for "no value".';
  }
  return undefined;
}

/** "students.email, students.cohort" → ["email", "cohort"] */
function columnNames(list: string): string[] {
  return list.split(", ").map((column) => column.slice(column.lastIndexOf(".") + 1));
}
