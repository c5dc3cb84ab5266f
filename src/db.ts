// A small, friendly way to use SQLite from a notebook.
//
// SQLite is a real SQL database that lives inside one file, or here, only in
// memory: it is gone when the kernel stops. It runs in Node through sql.js
// (SQLite compiled to WebAssembly), so there is nothing to install.
//
// Always pass values as `params` instead of gluing them into the SQL text:
// SQLite then treats them as data, never as SQL, so a name like
// "Robert'); DROP TABLE students;--" is stored as a name and nothing breaks.

import initSqlJs from "sql.js";
import type { BindParams, Database as SqlJsDatabase, SqlJsStatic, Statement } from "sql.js";
import { SqlError, isSqlError } from "./sql-error";

/**
 * A value SQLite can store: a number, some text, bytes (a BLOB), or `null` for "no value".
 * @example
 * const values: SqlValue[] = [1, "Ada Lovelace", null];
 */
export type SqlValue = number | string | Uint8Array | null;

/**
 * Values for the placeholders in your SQL: a list for `?` placeholders (in order),
 * or an object for named ones like `:name` (write the key with or without the colon).
 * @example
 * db.all("SELECT * FROM students WHERE cohort = ?", ["Morning"]);
 * db.all("SELECT * FROM students WHERE cohort = :cohort", { cohort: "Morning" });
 */
export type Params = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/**
 * An open in-memory SQLite database. Get one with `await openDatabase()`.
 * @example
 * import { openDatabase, type Database } from "rollcall";
 * const db: Database = await openDatabase();
 * db.tables();   // [] — a new database is empty
 */
export interface Database {
  /**
   * Run one statement that changes data (CREATE, INSERT, UPDATE, DELETE).
   * Returns how many rows changed and the id of the last row inserted.
   * @example
   * const { changes, lastId } = db.run(
   *   "INSERT INTO students (name, email) VALUES (?, ?)",
   *   ["Ada Lovelace", "ada.lovelace@example.edu"],
   * );
   * // changes: 1, lastId: the new row's id
   */
  run(sql: string, params?: Params): { changes: number; lastId: number };
  /**
   * Run one SELECT and get every row, as objects keyed by column name.
   * `Row` only tells TypeScript what shape you expect; it does not check the rows.
   * @example
   * const rows = db.all<{ name: string }>("SELECT name FROM students ORDER BY name");
   * rows[0].name;   // "Aarav Patel"
   */
  all<Row = Record<string, SqlValue>>(sql: string, params?: Params): Row[];
  /**
   * Run one SELECT and get its first row, or `undefined` when there is none.
   * @example
   * const ada = db.one<{ email: string }>("SELECT email FROM students WHERE id = ?", [1]);
   * if (ada !== undefined) console.log(ada.email);
   */
  one<Row = Record<string, SqlValue>>(sql: string, params?: Params): Row | undefined;
  /**
   * Run several statements at once, separated by `;` (no params, no results).
   * Good for setting up tables. If one fails, the ones before it have already run.
   * @example
   * db.exec(`
   *   CREATE TABLE students (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
   *   INSERT INTO students (name, email) VALUES ('Ada Lovelace', 'ada.lovelace@example.edu');
   * `);
   */
  exec(sqlScript: string): void;
  /**
   * The names of your tables, in alphabetical order.
   * @example
   * db.tables();   // ["students"]
   */
  tables(): string[];
  /**
   * Close the database and free its memory. Its data is gone; using it afterwards is an error.
   * @example
   * db.close();
   */
  close(): void;
}

/**
 * Open a new, empty SQLite database in memory.
 * It is `async` because SQLite has to load the first time: write `await`.
 *
 * @example
 * import { openDatabase } from "rollcall";
 * const db = await openDatabase();
 * db.exec("CREATE TABLE students (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
 * db.run("INSERT INTO students (name) VALUES (?)", ["Grace Hopper"]);
 * db.all("SELECT * FROM students");   // [{ id: 1, name: "Grace Hopper" }]
 */
export async function openDatabase(): Promise<Database> {
  const SQL = await loadSqlJs();
  return wrap(new SQL.Database());
}

// ---------------------------------------------------------------------------
// How it works

// Loading SQLite's WebAssembly takes a moment, so we do it once and keep it.
let sqlJs: Promise<SqlJsStatic> | undefined;

function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs().catch((error: unknown) => {
    sqlJs = undefined; // it failed: let the next call try again
    throw error;
  });
  return sqlJs;
}

/** Wrap a sql.js database in our smaller `Database`. */
function wrap(db: SqlJsDatabase): Database {
  let closed = false;

  /** Prepare one statement, give it the params, use it, and always free it. */
  function withStatement<T>(sql: string, params: Params | undefined, use: (statement: Statement) => T): T {
    if (closed) throw new SqlError("the database is closed", sql);
    let statement: Statement | undefined;
    try {
      statement = db.prepare(sql);
      refuseMoreThanOne(statement, sql);
      if (params !== undefined) statement.bind(toBindParams(params));
      return use(statement);
    } catch (error) {
      throw asSqlError(error, sql);
    } finally {
      statement?.free(); // free it even after an error, so no memory is lost
    }
  }

  /** SQLite would quietly ignore a second statement; tell the learner instead. */
  function refuseMoreThanOne(statement: Statement, sql: string): void {
    const first = statement.getSQL();
    const rest = sql.startsWith(first) ? sql.slice(first.length) : "";
    if (rest.trim() === "") return;
    let second: Statement;
    try {
      second = db.prepare(rest);
    } catch {
      return; // only comments or `;` left, or junk that is not a statement at all
    }
    second.free();
    throw new SqlError("more than one SQL statement", sql);
  }

  const database: Database = {
    run(sql, params) {
      const changes = withStatement(sql, params, (statement) => {
        statement.step();
        return db.getRowsModified();
      });
      const lastId = withStatement("SELECT last_insert_rowid() AS id", undefined, (statement) => {
        statement.step();
        return Number(statement.get()[0]);
      });
      return { changes, lastId };
    },

    all<Row = Record<string, SqlValue>>(sql: string, params?: Params): Row[] {
      return withStatement(sql, params, (statement) => {
        const rows: Row[] = [];
        while (statement.step()) rows.push(statement.getAsObject() as Row);
        return rows;
      });
    },

    one<Row = Record<string, SqlValue>>(sql: string, params?: Params): Row | undefined {
      return withStatement(sql, params, (statement) =>
        statement.step() ? (statement.getAsObject() as Row) : undefined,
      );
    },

    exec(sqlScript) {
      if (closed) throw new SqlError("the database is closed", sqlScript);
      try {
        db.exec(sqlScript);
      } catch (error) {
        throw asSqlError(error, sqlScript);
      }
    },

    tables() {
      const sql = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
      return database.all<{ name: string }>(sql).map((row) => row.name);
    },

    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
  return database;
}

/**
 * sql.js wants named keys with their prefix (":name"); learners often leave it off.
 * For a bare key we offer all three prefixes; SQLite ignores the ones the SQL does not use.
 */
function toBindParams(params: Params): BindParams {
  if (isList(params)) return [...params];
  const named: Record<string, SqlValue> = {};
  for (const [key, value] of Object.entries(params)) {
    if (/^[:$@]/.test(key)) named[key] = value;
    else for (const prefix of [":", "$", "@"]) named[prefix + key] = value;
  }
  return named;
}

function isList(params: Params): params is readonly SqlValue[] {
  return Array.isArray(params);
}

/** sql.js throws Errors and sometimes plain strings; turn either into a SqlError. */
function asSqlError(error: unknown, sql: string): SqlError {
  if (isSqlError(error)) return error;
  return new SqlError(error instanceof Error ? error.message : String(error), sql);
}
