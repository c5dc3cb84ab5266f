// A small, friendly way to use SQLite from a notebook.
//
// SQLite is a real SQL database that lives inside one file. Here it can also
// live only in memory: `openDatabase()` gives you one in memory, gone when the
// kernel stops; `openDatabase({ file: "roll-call.sqlite" })` keeps it in that
// file and saves every change the moment you make it, so your data is still
// there after a kernel restart. It runs in Node through sql.js (SQLite compiled
// to WebAssembly), so there is nothing to install.
//
// Always pass values as `params` instead of gluing them into the SQL text:
// SQLite then treats them as data, never as SQL, so a name like
// "Robert'); DROP TABLE students;--" is stored as a name and nothing breaks.

import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { BigIntStats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
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
 * An open SQLite database, in memory or kept in a file. Get one with `await openDatabase()`
 * (in memory) or `await openDatabase({ file: "roll-call.sqlite" })` (in a file).
 * @example
 * import { openDatabase, type Database } from "rollcall";
 * const db: Database = await openDatabase();
 * db.tables();   // [] — a new database is empty
 */
export interface Database {
  /**
   * Run one statement that changes data (CREATE, INSERT, UPDATE, DELETE).
   * Returns how many rows changed and the id of the last row inserted.
   * In a database kept in a file, the change is in the file before `run` returns
   * (between BEGIN and COMMIT: when COMMIT runs).
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
   * In a database kept in a file, what the statements changed is saved when they are done.
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
   * The full path of the file this database is kept in, or `undefined` when it lives only in memory.
   * @example
   * const db = await openDatabase({ file: "roll-call.sqlite" });
   * db.file;   // "/home/you/course/roll-call.sqlite"
   */
  readonly file: string | undefined;
  /**
   * Make sure the file holds every change, and create it if it is not there yet.
   * You rarely need this: every change is saved the moment you make it.
   * It is an error between BEGIN and COMMIT (finish the transaction first),
   * and for a database in memory, which has no file.
   * @example
   * const db = await openDatabase({ file: "roll-call.sqlite" });
   * db.save();   // the file exists now, even before the first table
   */
  save(): void;
  /**
   * Close the database and free its memory. Using it afterwards is an error.
   * A database in memory is gone. One kept in a file is saved first and stays in its file;
   * if that cannot be done (say, a BEGIN without COMMIT or ROLLBACK yet), `close` throws
   * and the database stays open, so nothing is lost.
   * @example
   * db.close();
   */
  close(): void;
}

/**
 * Where to keep a database: leave `file` out to keep it only in memory.
 * @example
 * const db = await openDatabase({ file: "roll-call.sqlite" });
 */
export interface OpenOptions {
  /**
   * The file to keep the database in, like "roll-call.sqlite". A relative path starts
   * in the kernel's folder, `process.cwd()` (usually the notebook's folder).
   * If there is no such file yet, the database starts empty and the file appears
   * with your first change. The folder must exist already.
   */
  readonly file?: string;
}

/**
 * Open a SQLite database: with no options, a new, empty one in memory;
 * with `{ file }`, the one kept in that file (or a new, empty one that will be kept there).
 * It is `async` because SQLite has to load the first time: write `await`.
 *
 * A database kept in a file saves every change as soon as it is made, so it is still
 * there after a kernel restart. Changes between BEGIN and COMMIT are saved together,
 * at COMMIT, and ROLLBACK saves nothing: put many changes in one transaction and they
 * are saved once, which is quicker. A save never leaves a half-written file behind,
 * and it refuses to overwrite the file if another program (a second notebook, say)
 * changed it since this one opened or last saved it.
 *
 * @example
 * import { openDatabase } from "rollcall";
 * const db = await openDatabase();
 * db.exec("CREATE TABLE students (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
 * db.run("INSERT INTO students (name) VALUES (?)", ["Grace Hopper"]);
 * db.all("SELECT * FROM students");   // [{ id: 1, name: "Grace Hopper" }]
 *
 * @example
 * // Kept in a file: after a kernel restart, run this cell again and Grace is still there.
 * const kept = await openDatabase({ file: "roll-call.sqlite" });
 * kept.exec("CREATE TABLE IF NOT EXISTS students (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
 * kept.all("SELECT * FROM students");   // [] the first time; [{ id: 1, name: "Grace Hopper" }] after
 * kept.run("INSERT INTO students (name) VALUES (?)", ["Grace Hopper"]);   // in the file already
 */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const SQL = await loadSqlJs();
  if (options.file === undefined) return wrap(new SQL.Database(), undefined);
  const path = resolve(options.file);
  refuseMissingFolder(path);
  refuseIfAnotherProgramIsMidChange(path);
  const found = readIfThere(path);
  const { db, copy } = found === undefined ? startEmpty(SQL) : openBytes(SQL, path, found.bytes);
  return wrap(db, keepInFile(SQL, db, path, found?.stamp, copy));
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

/** Wrap a sql.js database in our smaller `Database`; `keeper` keeps it in its file, if it has one. */
function wrap(db: SqlJsDatabase, keeper: Keeper | undefined): Database {
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

  /**
   * Do `work`, then `keep` what it changed, even when `work` failed: a failed statement
   * may still have changed rows (INSERT OR FAIL, or a script that stopped halfway).
   */
  function thenKeep<T>(work: () => T, keep: (() => void) | undefined): T {
    if (keep === undefined || closed) return work();
    let result: T;
    try {
      result = work();
    } catch (error) {
      try {
        keep();
      } catch {
        // The SQL mistake is the news here. A save that failed is tried, and reported,
        // again by the next change, by save() and by close().
      }
      throw error;
    }
    keep();
    return result;
  }

  const database: Database = {
    run(sql, params) {
      const change = () => {
        const changes = withStatement(sql, params, (statement) => {
          statement.step();
          return db.getRowsModified();
        });
        const lastId = withStatement("SELECT last_insert_rowid() AS id", undefined, (statement) => {
          statement.step();
          return Number(statement.get()[0]);
        });
        return { changes, lastId };
      };
      return thenKeep(change, keeper?.afterChange);
    },

    // all() and one() are for SELECT, but INSERT ... RETURNING works in them too, so they keep as well.
    all<Row = Record<string, SqlValue>>(sql: string, params?: Params): Row[] {
      const read = () =>
        withStatement(sql, params, (statement) => {
          const rows: Row[] = [];
          while (statement.step()) rows.push(statement.getAsObject() as Row);
          return rows;
        });
      return thenKeep(read, keeper?.afterRead);
    },

    one<Row = Record<string, SqlValue>>(sql: string, params?: Params): Row | undefined {
      const read = () => withStatement(sql, params, (statement) => (statement.step() ? (statement.getAsObject() as Row) : undefined));
      return thenKeep(read, keeper?.afterRead);
    },

    exec(sqlScript) {
      if (closed) throw new SqlError("the database is closed", sqlScript);
      const change = () => {
        try {
          db.exec(sqlScript);
        } catch (error) {
          throw asSqlError(error, sqlScript);
        }
      };
      thenKeep(change, keeper?.afterChange);
    },

    tables() {
      const sql = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
      return database.all<{ name: string }>(sql).map((row) => row.name);
    },

    file: keeper?.path,

    save() {
      if (closed) throw new SqlError("the database is closed", "");
      if (keeper === undefined) {
        throw new Error(
          'this database lives only in memory, so there is no file to save it to — open one kept in a file with await openDatabase({ file: "roll-call.sqlite" }).',
        );
      }
      keeper.saveNow();
    },

    close() {
      if (closed) return;
      keeper?.beforeClose(); // if this throws, the database stays open and nothing is lost
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

// ---------------------------------------------------------------------------
// Keeping a database in a file
//
// sql.js runs SQLite in memory only. So a database "in a file" is a database in
// memory plus a keeper: after each change, the keeper copies the whole database
// into bytes and writes them to the file.
//
// Why not sql.js's own `export()` for the copy? It closes SQLite's connection and
// opens a new one, and a new connection starts afresh: PRAGMA foreign_keys is off
// again, an open transaction is gone (its changes undone), TEMP tables are gone,
// last_insert_rowid() is 0, and prepared statements are freed. `VACUUM INTO` copies
// a database into another file and leaves the connection as it was, so the keeper
// uses that.

/** What we saw of the file when we last read or wrote it. If any of it differs now, someone else wrote the file. */
interface Stamp {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
}

/** Keeps one database's file up to date. */
interface Keeper {
  /** The file's full path. */
  readonly path: string;
  /** After run() and exec(): save, if anything differs from the file and no transaction is open. */
  afterChange(): void;
  /** After all() and one(): usually a SELECT, so first a quick look whether anything changed at all. */
  afterRead(): void;
  /** For save(): save now (an error inside a transaction), and create the file if there is none yet. */
  saveNow(): void;
  /** For close(): save what changed; an error inside a transaction. */
  beforeClose(): void;
}

/**
 * The keeper of the database `db`, kept in the file at `path`.
 * `stamp` is the file as we read it (undefined: there was no file), and `copy`
 * is `db` as `snapshot` copies it, so we can tell when something changed.
 */
function keepInFile(SQL: SqlJsStatic, db: SqlJsDatabase, path: string, stamp: Stamp | undefined, copy: Uint8Array): Keeper {
  let onDisk = stamp;
  let saved = copy;
  let lastCounters = changeCounters(db);

  /** Write `bytes` to the file, unless someone else changed the file since we last saw it. */
  function write(bytes: Uint8Array): void {
    const mode = refuseToOverwrite(path, onDisk);
    try {
      onDisk = writeAtomically(path, bytes, mode);
    } catch (error) {
      throw cannotWrite(path, error);
    }
    saved = bytes;
  }

  /** Save when the database differs from the file (or `evenIfSame`). Only for outside a transaction. */
  function saveIfChanged(evenIfSame: boolean): void {
    // Noted before writing: if the write fails, all() and one() do not fail again and again;
    // the next change, save() and close() try again, and say why it fails.
    lastCounters = changeCounters(db);
    const bytes = snapshot(SQL, db);
    if (evenIfSame || !sameBytes(bytes, saved)) write(bytes);
  }

  return {
    path,
    afterChange() {
      // COMMIT saves the whole transaction at once; after ROLLBACK there is nothing new to save.
      if (!inTransaction(db)) saveIfChanged(false);
    },
    afterRead() {
      if (changeCounters(db) !== lastCounters && !inTransaction(db)) saveIfChanged(false);
    },
    saveNow() {
      if (inTransaction(db)) throw transactionOpen(path, "save");
      saveIfChanged(onDisk === undefined);
    },
    beforeClose() {
      // Closing would end the transaction, and SQLite would undo it: ask the learner to decide first.
      if (inTransaction(db)) throw transactionOpen(path, "close");
      saveIfChanged(false);
    },
  };
}

/**
 * True while a transaction is open: after BEGIN (or SAVEPOINT), before COMMIT or ROLLBACK.
 * SQLite knows (its sqlite3_get_autocommit()), but sql.js does not offer that function.
 * Watching the SQL for BEGIN and COMMIT would not do: SQLite also ends a transaction
 * by itself, for example on a conflict with ON CONFLICT ROLLBACK. So we ask SQLite in a way that
 * changes nothing: it refuses BEGIN inside a transaction, and outside one we undo ours at once.
 * (VACUUM INTO is refused inside a transaction too, but asking with BEGIN is about ten times quicker.)
 */
function inTransaction(db: SqlJsDatabase): boolean {
  try {
    db.run("BEGIN");
  } catch (error) {
    if (messageOf(error) === "cannot start a transaction within a transaction") return true;
    throw error;
  }
  db.run("ROLLBACK");
  return false;
}

/**
 * A quick fingerprint of changes: rows changed so far (which counts `INSERT ... RETURNING` too),
 * and the schema's and the user's version numbers (CREATE, DROP, ALTER and PRAGMA user_version).
 */
function changeCounters(db: SqlJsDatabase): string {
  const sql = `SELECT total_changes(), (SELECT schema_version FROM pragma_schema_version),
                      (SELECT user_version FROM pragma_user_version)`;
  return JSON.stringify(db.exec(sql)[0]?.values);
}

/**
 * The whole database as the bytes of a SQLite file, leaving its connection as it was.
 * sql.js keeps each database as a file in a file system of its own, in memory, which we cannot
 * read directly. So we make an empty scratch database, let VACUUM INTO fill the scratch's file
 * with a copy of `db`, and read that file with the scratch's `export()`: its closing and reopening
 * harms nobody, since we throw the scratch away right after.
 */
function snapshot(SQL: SqlJsStatic, db: SqlJsDatabase): Uint8Array {
  const scratch = new SQL.Database();
  try {
    // `filename` is the scratch's file in sql.js's file system; sql.js's types do not list it.
    const { filename } = scratch as unknown as { filename?: unknown };
    if (typeof filename !== "string")
      throw new Error("rollcall cannot copy this database: this version of sql.js keeps its files differently");
    db.run("VACUUM INTO ?", [`/${filename}`]);
    return scratch.export();
  } finally {
    scratch.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

// --- Reading the file ------------------------------------------------------

/**
 * A missing folder is an error; we do not create it. It is most often a typo in the path
 * ("Data/" for "data/"), and a folder made for a typo would hide the file where nobody looks.
 */
function refuseMissingFolder(path: string): void {
  const folder = dirname(path);
  const stats = statSync(folder, { throwIfNoEntry: false });
  if (stats === undefined) {
    throw new Error(
      `the folder "${folder}" does not exist, so "${basename(path)}" cannot be kept in it — check the spelling of the path, or make the folder first (in a terminal: mkdir -p "${folder}").`,
    );
  }
  if (!stats.isDirectory()) throw new Error(`"${folder}" is a file, not a folder, so "${path}" cannot be kept in it — check the path.`);
}

/**
 * Other SQLite programs (the sqlite3 tool, DB Browser for SQLite, Python) keep a change they have
 * not finished in a second file beside the database: its name with "-journal" or "-wal" added.
 * While that file holds something, the database file alone is not the whole story: reading it
 * could miss changes, and replacing it could break that program's work.
 */
function refuseIfAnotherProgramIsMidChange(path: string): void {
  for (const suffix of ["-journal", "-wal"]) {
    if ((statSync(path + suffix, { throwIfNoEntry: false })?.size ?? 0) === 0) continue;
    throw new Error(
      `another program is using "${path}" right now, or stopped in the middle of a change: "${basename(path)}${suffix}" beside it holds changes that are not in the file yet, so rollcall leaves both files alone — close that program (or open the file with it, or with the sqlite3 tool, once, so it can finish), then open the file here again.`,
    );
  }
}

/** The file's bytes and stamp, or undefined when there is no file (yet). */
function readIfThere(path: string): { bytes: Uint8Array; stamp: Stamp } | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw cannotRead(path, error);
  }
  try {
    // The stamp first, then the bytes: if someone writes in between, our stamp is the older
    // one, so our next save is refused instead of overwriting their change.
    const stats = fstatSync(fd, { bigint: true });
    if (stats.isDirectory()) {
      throw new Error(`"${path}" is a folder, not a file — give the name of a file, like "${join(path, "roll-call.sqlite")}".`);
    }
    return { bytes: readFileSync(fd), stamp: stampOf(stats) };
  } catch (error) {
    throw codeOf(error) === undefined ? error : cannotRead(path, error);
  } finally {
    closeSync(fd);
  }
}

/** A new, empty database, for a file that is not there yet. */
function startEmpty(SQL: SqlJsStatic): { db: SqlJsDatabase; copy: Uint8Array } {
  const db = new SQL.Database();
  return { db, copy: snapshot(SQL, db) };
}

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = "SQLite format 3\u0000";

/** Open the bytes of a database file; refuse bytes that are not one. The file itself is only read. */
function openBytes(SQL: SqlJsStatic, path: string, bytes: Uint8Array): { db: SqlJsDatabase; copy: Uint8Array } {
  // To SQLite an empty file is an empty database; anything else must start with its header.
  if (bytes.length > 0 && Buffer.from(bytes.subarray(0, 16)).toString("latin1") !== SQLITE_HEADER) {
    throw notSqlite(path, "it does not start the way SQLite files do");
  }
  const db = new SQL.Database(bytes);
  try {
    // The copy reads every table, so a damaged file is found now rather than at the first save.
    return { db, copy: snapshot(SQL, db) };
  } catch (error) {
    db.close();
    throw notSqlite(path, `SQLite says: ${messageOf(error)}`);
  }
}

// --- Writing the file ------------------------------------------------------

/**
 * Before overwriting the file: refuse when someone else changed it since we last read or wrote it,
 * when it is read-only, or when another program is in the middle of a change.
 * Returns the file's permissions, to give the new version the same ones (undefined: no file yet).
 */
function refuseToOverwrite(path: string, onDisk: Stamp | undefined): number | undefined {
  refuseIfAnotherProgramIsMidChange(path);
  const now = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!sameStamp(now === undefined ? undefined : stampOf(now), onDisk)) throw changedElsewhere(path, now === undefined);
  if (now === undefined) return undefined;
  const mode = Number(now.mode & 0o7777n);
  // Checked by hand: the rename below would replace even a read-only file, and for the
  // superuser no file is read-only at all. Whoever made it read-only wants it left alone.
  if ((mode & 0o222) === 0) throw readOnly(path);
  return mode;
}

/**
 * Replace the file with `bytes` so that, at every moment, it holds either the old database or
 * the new one, whole, even if the kernel is killed or the power goes off halfway:
 * 1. write the new version to a temporary file in the same folder (a rename is all-or-nothing
 *    only within one disk), and fsync it, so it is really on the disk and not only in a cache;
 * 2. rename it over the file: the folder now lists the new version instead of the old one, in one step;
 * 3. fsync the folder, so that the rename is on the disk too.
 * Returns the new file's stamp.
 */
function writeAtomically(path: string, bytes: Uint8Array, mode: number | undefined): Stamp {
  // A dot first hides it in Jupyter's file list; the process id and random letters keep two writers apart.
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    const stamp = writeAndSync(temporary, bytes, mode);
    renameSync(temporary, path);
    syncFolder(dirname(path));
    return stamp;
  } catch (error) {
    try {
      rmSync(temporary, { force: true }); // leave no half-written temporary file behind
    } catch {
      // The error that matters is the one below.
    }
    throw error;
  }
}

/** Write a new file, fsync it, and return its stamp, taken from the very file we wrote. */
function writeAndSync(temporary: string, bytes: Uint8Array, mode: number | undefined): Stamp {
  const fd = openSync(temporary, "wx", mode ?? 0o666); // "wx": never write into a file that is already there
  try {
    if (mode !== undefined) fchmodSync(fd, mode); // the same permissions as the old file, whatever the umask
    writeFileSync(fd, bytes);
    fsyncSync(fd);
    return stampOf(fstatSync(fd, { bigint: true }));
  } finally {
    closeSync(fd);
  }
}

/** fsync a folder, so a rename in it is on the disk. Some systems (Windows) cannot; the rename is still all-or-nothing. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, "r");
    fsyncSync(fd);
  } catch {
    // See above: nothing a learner could do about it, and no data is at risk.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function stampOf(stats: BigIntStats): Stamp {
  return { size: stats.size, mtimeNs: stats.mtimeNs, ino: stats.ino };
}

function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
}

// --- Errors about the file -------------------------------------------------
// Plain Errors, not SqlErrors: the SQL was fine; the file is the trouble.

function notSqlite(path: string, why: string): Error {
  return new Error(
    `"${path}" is not a SQLite database (${why}), so it was not opened, and it was left untouched — check the file name; to start a new database, give a name no file has yet, like "roll-call.sqlite".`,
  );
}

function cannotRead(path: string, error: unknown): Error {
  return new Error(`could not read "${path}" (${messageOf(error)}) — check that it is a file you may read; it was left untouched.`, {
    cause: error,
  });
}

function changedElsewhere(path: string, gone: boolean): Error {
  return new Error(
    `"${path}" was ${gone ? "deleted or moved" : "changed"} by another program (a second notebook, perhaps) since this notebook opened or last saved it, so this notebook did not overwrite it — open it again, with await openDatabase({ file: ${JSON.stringify(path)} }), to see it as it is now, then make your change again. Until then your latest change is only in this notebook's memory.`,
  );
}

function readOnly(path: string): Error {
  return new Error(
    `"${path}" is read-only, so your change was not saved to it — your latest change is only in this notebook's memory. To keep changes, make the file writable (in a terminal: chmod u+w "${path}"), then run db.save(); or open another file.`,
  );
}

function cannotWrite(path: string, error: unknown): Error {
  return new Error(
    `could not save "${path}" (${messageOf(error)}) — your latest change is only in this notebook's memory, and the file is as it was. Check that the folder "${dirname(path)}" still exists, that you may write in it and that the disk is not full, then run db.save() to try again.`,
    { cause: error },
  );
}

function transactionOpen(path: string, doing: "save" | "close"): Error {
  return new Error(
    `cannot ${doing} "${path}" in the middle of a transaction (a BEGIN without COMMIT or ROLLBACK yet) — run db.run("COMMIT") to keep its changes (COMMIT saves them to the file), or db.run("ROLLBACK") to undo them, then ${doing === "save" ? "try again" : "close it"}.`,
  );
}

/** sql.js throws Errors and sometimes plain strings. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
