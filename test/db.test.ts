import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs, { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import initSqlJs, { type Statement } from "sql.js";
import { openDatabase, type Database } from "../src/db";
import { isSqlError } from "../src/sql-error";

const schema = `
  CREATE TABLE students (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    email  TEXT NOT NULL UNIQUE,
    cohort TEXT CHECK (cohort IN ('Morning', 'Evening'))
  );`;

async function classDatabase(): Promise<Database> {
  const db = await openDatabase();
  db.exec(schema);
  return db;
}

interface StudentRow {
  id: number;
  name: string;
  email: string;
  cohort: string | null;
}

/** Assert that `fn` throws a SqlError whose message is exactly `message`. */
function assertSqlError(fn: () => unknown, message: string, sql?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isSqlError(e), `expected a SqlError, got ${String(e)}`);
    assert.equal(e.message, message);
    if (sql !== undefined) assert.equal(e.sql, sql);
    return true;
  });
}

test("create, insert with ? and with named params, then select typed rows", async () => {
  const db = await classDatabase();
  db.run("INSERT INTO students (name, email, cohort) VALUES (?, ?, ?)", ["Ada Lovelace", "ada.lovelace@example.edu", "Morning"]);
  db.run("INSERT INTO students (name, email, cohort) VALUES (:name, :email, :cohort)", {
    name: "Grace Hopper",
    email: "grace.hopper@example.edu",
    cohort: "Evening",
  });
  db.run("INSERT INTO students (name, email, cohort) VALUES ($name, $email, @cohort)", {
    $name: "Mei Chen",
    email: "mei.chen@example.edu",
    cohort: null,
  });
  const rows = db.all<StudentRow>("SELECT * FROM students ORDER BY id");
  assert.deepEqual(rows, [
    { id: 1, name: "Ada Lovelace", email: "ada.lovelace@example.edu", cohort: "Morning" },
    { id: 2, name: "Grace Hopper", email: "grace.hopper@example.edu", cohort: "Evening" },
    { id: 3, name: "Mei Chen", email: "mei.chen@example.edu", cohort: null },
  ]);
  assert.deepEqual(db.all("SELECT name FROM students WHERE cohort = ?", ["Evening"]), [{ name: "Grace Hopper" }]);
  db.close();
});

test("numbers, text, bytes and null come back as they went in", async () => {
  const db = await openDatabase();
  db.exec("CREATE TABLE things (n INTEGER, x REAL, t TEXT, b BLOB, z)");
  db.run("INSERT INTO things VALUES (?, ?, ?, ?, ?)", [42, 2.5, "héllo ✨", new Uint8Array([1, 2, 255]), null]);
  const row = db.one("SELECT * FROM things");
  assert.deepEqual(row, { n: 42, x: 2.5, t: "héllo ✨", b: new Uint8Array([1, 2, 255]), z: null });
  db.close();
});

test("one() returns the first row, or undefined when there is none", async () => {
  const db = await classDatabase();
  assert.equal(db.one("SELECT * FROM students WHERE id = ?", [99]), undefined);
  db.run("INSERT INTO students (name, email) VALUES ('Yuki Tanaka', 'yuki@example.edu'), ('Lars J', 'lars@example.edu')");
  assert.deepEqual(db.one<{ name: string }>("SELECT name FROM students ORDER BY name"), { name: "Lars J" });
  db.close();
});

test("run() reports how many rows changed and the last inserted id", async () => {
  const db = await classDatabase();
  assert.deepEqual(db.run("INSERT INTO students (name, email) VALUES (?, ?)", ["A", "a@x"]), { changes: 1, lastId: 1 });
  assert.deepEqual(db.run("INSERT INTO students (name, email) VALUES (?, ?), (?, ?)", ["B", "b@x", "C", "c@x"]), {
    changes: 2,
    lastId: 3,
  });
  assert.deepEqual(db.run("UPDATE students SET cohort = 'Morning' WHERE id >= ?", [2]), { changes: 2, lastId: 3 });
  assert.deepEqual(db.run("DELETE FROM students WHERE id = ?", [99]), { changes: 0, lastId: 3 });
  db.close();
});

test("exec() runs several statements; tables() lists tables by name", async () => {
  const db = await openDatabase();
  assert.deepEqual(db.tables(), []);
  db.exec("CREATE TABLE students (id INTEGER PRIMARY KEY); CREATE TABLE attendance (day TEXT); INSERT INTO students VALUES (7);");
  assert.deepEqual(db.tables(), ["attendance", "students"]);
  assert.deepEqual(db.all("SELECT id FROM students"), [{ id: 7 }]);
  db.close();
});

test("each database is separate and starts empty", async () => {
  const one = await classDatabase();
  const two = await openDatabase();
  assert.deepEqual(one.tables(), ["students"]);
  assert.deepEqual(two.tables(), []);
  one.close();
  two.close();
});

test("a name full of SQL is stored safely as data when passed as a param", async () => {
  const db = await classDatabase();
  const bobby = "Robert'); DROP TABLE students;--";
  db.run("INSERT INTO students (name, email) VALUES (?, ?)", [bobby, "bobby@example.edu"]);
  assert.deepEqual(db.tables(), ["students"]);
  assert.deepEqual(db.all("SELECT name FROM students"), [{ name: bobby }]);
  assert.deepEqual(db.one("SELECT email FROM students WHERE name = :name", { name: bobby }), { email: "bobby@example.edu" });
  db.close();
});

test("constraint errors keep SQLite's reason and add a beginner's hint", async () => {
  const db = await classDatabase();
  const insert = "INSERT INTO students (name, email, cohort) VALUES (?, ?, ?)";
  db.run(insert, ["Ada Lovelace", "ada.lovelace@example.edu", "Morning"]);
  assertSqlError(
    () => db.run(insert, ["Ada Again", "ada.lovelace@example.edu", "Morning"]),
    "UNIQUE constraint failed: students.email — another row already has this email; UNIQUE columns cannot repeat.",
    insert,
  );
  assertSqlError(
    () => db.run(insert, [null, "nobody@example.edu", "Morning"]),
    'NOT NULL constraint failed: students.name — every row needs a value for name; NULL means "no value", and it is not allowed here.',
  );
  assertSqlError(
    () => db.run(insert, ["Mei Chen", "mei.chen@example.edu", "Afternoon"]),
    "CHECK constraint failed: cohort IN ('Morning', 'Evening') — a value breaks a CHECK rule of the table; look at its CREATE TABLE to see which values are allowed.",
  );
  db.exec("CREATE TABLE pairs (a, b, UNIQUE (a, b)); INSERT INTO pairs VALUES (1, 2);");
  assertSqlError(
    () => db.run("INSERT INTO pairs VALUES (1, 2)"),
    "UNIQUE constraint failed: pairs.a, pairs.b — another row already has this a and b together; that combination must be UNIQUE.",
  );
  assert.equal(db.all("SELECT * FROM students").length, 1, "failed inserts must not add rows");
  db.close();
});

test("mistakes in the SQL itself get a hint too", async () => {
  const db = await classDatabase();
  assertSqlError(
    () => db.all("SELECT * FROM studnets"),
    "no such table: studnets — check the spelling, and run the cell that creates the table first; db.tables() lists the tables you have.",
    "SELECT * FROM studnets",
  );
  assertSqlError(
    () => db.all("SELECT * FROM students WHERE name = Ada"),
    "no such column: Ada — check the spelling of the column; text values need 'single quotes', or SQLite reads them as a column name.",
  );
  assertSqlError(
    () => db.all("SELEC * FROM students"),
    'near "SELEC": syntax error — SQLite could not read the SQL there; look for a typo, a missing comma, or a quote that is not closed.',
  );
  assertSqlError(
    () => db.exec(schema),
    "table students already exists — a table of that name exists already (did this cell run before?); CREATE TABLE IF NOT EXISTS is safe to run twice.",
  );
  assertSqlError(
    () => db.all("SELECT ?", [1, 2]),
    "column index out of range — there are more values than ? placeholders in the SQL; give exactly one value per ?.",
  );
  db.close();
});

test("two statements in run() are refused instead of quietly running only the first", async () => {
  const db = await classDatabase();
  const sql = "INSERT INTO students (name, email) VALUES ('A', 'a@x'); INSERT INTO students (name, email) VALUES ('B', 'b@x')";
  assertSqlError(
    () => db.run(sql),
    "more than one SQL statement — run(), all() and one() take one statement at a time; use db.exec(...) to run several.",
  );
  assert.deepEqual(db.all("SELECT * FROM students"), []);
  assert.deepEqual(db.all("SELECT 1 AS one; -- a comment after the semicolon is fine"), [{ one: 1 }]);
  db.close();
});

test("using a closed database says so", async () => {
  const db = await openDatabase();
  db.close();
  db.close(); // closing twice is harmless
  assertSqlError(
    () => db.all("SELECT 1"),
    "the database is closed — close() was called on it already; open a new one with await openDatabase().",
  );
  assert.throws(() => db.exec("SELECT 1"), /the database is closed/);
});

test("every prepared statement is freed, even when SQLite refuses it", async (t) => {
  // sql.js keeps one module per process, so these are the very classes our Database uses.
  const SQL = await initSqlJs();
  const db = await classDatabase(); // made first: exec() uses sql.js's own statement loop
  let prepared = 0;
  let freed = 0;
  // sql.js does not export its Statement class at runtime; reach it through a statement.
  const scratch = new SQL.Database();
  const statementPrototype = Object.getPrototypeOf(scratch.prepare("SELECT 1")) as Statement;
  scratch.close();
  const prepare = SQL.Database.prototype.prepare;
  const free = statementPrototype.free;
  t.mock.method(SQL.Database.prototype, "prepare", function (this: unknown, ...args: Parameters<typeof prepare>) {
    const statement = prepare.apply(this, args);
    prepared++;
    return statement;
  });
  t.mock.method(statementPrototype, "free", function (this: unknown) {
    freed++;
    return free.apply(this);
  });

  db.run("INSERT INTO students (name, email) VALUES (?, ?)", ["A", "a@x"]);
  db.all("SELECT * FROM students");
  db.one("SELECT * FROM students WHERE id = 99");
  db.tables();
  for (const bad of [
    () => db.run("INSERT INTO students (name, email) VALUES (?, ?)", ["A2", "a@x"]),
    () => db.run("INSERT INTO students (email) VALUES (?)", ["x@x"]),
    () => db.all("SELECT ?", [1, 2]),
    () => db.all("SELECT 1; SELECT 2"),
  ]) {
    assert.throws(bad);
  }
  assert.ok(prepared >= 10, `only ${prepared} statements were prepared`);
  assert.equal(freed, prepared);
  db.close();
});

test("opening many databases loads SQLite only once and stays quick", async () => {
  const started = performance.now();
  const dbs = await Promise.all(Array.from({ length: 20 }, () => openDatabase()));
  const ms = performance.now() - started;
  for (const db of dbs) db.close();
  assert.ok(ms < 1000, `20 opens took ${ms.toFixed(0)} ms`);
});

// ---------------------------------------------------------------------------
// A database kept in a file

/** A new folder in the system's temporary folder, removed when the test is over. */
function tempFolder(t: TestContext): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), "rollcall-db-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** What a writer changes: the file's inode, modification time and size. */
function stampOf(file: string): string {
  const stats = statSync(file, { bigint: true });
  return `${stats.ino} ${stats.mtimeNs} ${stats.size}`;
}

/** Open a second, separate copy of the file, the way a restarted kernel would, and run one query. */
async function readBack(file: string, sql: string): Promise<unknown[]> {
  const other = await openDatabase({ file });
  try {
    return other.all(sql);
  } finally {
    other.close();
  }
}

async function fileDatabase(file: string): Promise<Database> {
  const db = await openDatabase({ file });
  db.exec(schema);
  return db;
}

const insertStudent = "INSERT INTO students (name, email) VALUES (?, ?)";

test("a database kept in a file is there again after it is opened again", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const db = await openDatabase({ file: path.relative(process.cwd(), file) }); // relative paths start in process.cwd()
  assert.equal(db.file, file);
  db.all("SELECT 1");
  assert.equal(existsSync(file), false, "nothing to keep yet, so no file yet");
  db.exec(schema);
  db.run(insertStudent, ["Ada Lovelace", "ada.lovelace@example.edu"]);
  db.close();

  const again = await openDatabase({ file });
  assert.deepEqual(again.tables(), ["students"]);
  assert.deepEqual(again.all("SELECT id, name FROM students"), [{ id: 1, name: "Ada Lovelace" }]);
  again.close();
});

test("save() makes the file even before the first change; a database in memory has no file to save to", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const db = await openDatabase({ file });
  db.save();
  assert.deepEqual(await readBack(file, "SELECT count(*) AS n FROM sqlite_schema"), [{ n: 0 }]);
  const before = stampOf(file);
  db.save();
  db.close();
  assert.equal(stampOf(file), before, "nothing new to save");
  assert.throws(() => db.save(), /^SqlError: the database is closed/);

  const memory = await openDatabase();
  assert.equal(memory.file, undefined);
  assert.throws(() => memory.save(), {
    message:
      'this database lives only in memory, so there is no file to save it to — open one kept in a file with await openDatabase({ file: "roll-call.sqlite" }).',
  });
  memory.close();
});

test("every change is in the file as soon as run(), exec() or a RETURNING in all() is done; reading writes nothing", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const db = await openDatabase({ file });
  db.exec(schema);
  assert.deepEqual(await readBack(file, "SELECT name FROM sqlite_schema WHERE type = 'table'"), [{ name: "students" }]);
  db.run(insertStudent, ["Ada Lovelace", "ada.lovelace@example.edu"]);
  assert.deepEqual(await readBack(file, "SELECT name FROM students"), [{ name: "Ada Lovelace" }]);
  assert.deepEqual(db.all("INSERT INTO students (name, email) VALUES ('Grace Hopper', 'grace@example.edu') RETURNING id"), [{ id: 2 }]);
  assert.deepEqual(await readBack(file, "SELECT count(*) AS n FROM students"), [{ n: 2 }]);
  db.run("PRAGMA user_version = 7");
  assert.deepEqual(await readBack(file, "PRAGMA user_version"), [{ user_version: 7 }]);

  const before = stampOf(file);
  db.all("SELECT * FROM students");
  db.one("SELECT * FROM students WHERE id = 1");
  db.tables();
  db.run("SELECT 1");
  db.run("DELETE FROM students WHERE id = 99"); // changes no row
  db.close();
  assert.equal(stampOf(file), before, "nothing changed, so nothing was written");
});

test("between BEGIN and COMMIT nothing is written; COMMIT writes it all; ROLLBACK writes nothing", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const db = await fileDatabase(file);
  db.run(insertStudent, ["Ada Lovelace", "ada@example.edu"]);
  const before = stampOf(file);

  db.run("BEGIN");
  db.run(insertStudent, ["Grace Hopper", "grace@example.edu"]);
  db.run("UPDATE students SET cohort = 'Morning'");
  assert.equal(stampOf(file), before);
  assert.deepEqual(await readBack(file, "SELECT name, cohort FROM students"), [{ name: "Ada Lovelace", cohort: null }]);
  assert.throws(() => db.save(), {
    message: `cannot save "${file}" in the middle of a transaction (a BEGIN without COMMIT or ROLLBACK yet) — run db.run("COMMIT") to keep its changes (COMMIT saves them to the file), or db.run("ROLLBACK") to undo them, then try again.`,
  });
  assert.throws(() => db.close(), /^Error: cannot close ".*" in the middle of a transaction/);
  assert.equal(db.all("SELECT * FROM students").length, 2, "close() refused, so the database is still open");
  db.run("COMMIT");
  assert.deepEqual(await readBack(file, "SELECT name, cohort FROM students ORDER BY id"), [
    { name: "Ada Lovelace", cohort: "Morning" },
    { name: "Grace Hopper", cohort: "Morning" },
  ]);

  const committed = stampOf(file);
  db.exec("BEGIN; INSERT INTO students (name, email) VALUES ('Mei Chen', 'mei@example.edu');");
  db.run("DELETE FROM students WHERE id = 1");
  db.exec("ROLLBACK");
  assert.equal(stampOf(file), committed, "ROLLBACK leaves nothing new to write");

  db.exec("SAVEPOINT before_mei; INSERT INTO students (name, email) VALUES ('Mei Chen', 'mei@example.edu');");
  assert.equal(stampOf(file), committed, "a SAVEPOINT outside BEGIN is a transaction too");
  db.exec("RELEASE before_mei");
  assert.deepEqual(await readBack(file, "SELECT count(*) AS n FROM students"), [{ n: 3 }]);

  // SQLite can end a transaction by itself: ON CONFLICT ROLLBACK undoes it all. The next change is saved at once.
  db.run("BEGIN");
  db.run(insertStudent, ["Lars Jensen", "lars@example.edu"]);
  assert.throws(() => db.run("INSERT OR ROLLBACK INTO students (name, email) VALUES ('Ada Again', 'ada@example.edu')"), /UNIQUE/);
  db.run(insertStudent, ["Yuki Tanaka", "yuki@example.edu"]);
  assert.deepEqual(await readBack(file, "SELECT name FROM students WHERE id > 3"), [{ name: "Yuki Tanaka" }]);
  db.close();
});

test("PRAGMA foreign_keys = ON, TEMP tables and last_insert_rowid() are still there after a save", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const db = await openDatabase({ file });
  db.exec(`
    PRAGMA foreign_keys = ON;
    CREATE TABLE students (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE picks (id INTEGER PRIMARY KEY, student_id INTEGER NOT NULL REFERENCES students (id));
    CREATE TEMP TABLE scratch (note TEXT);
    INSERT INTO scratch VALUES ('kept in memory only');
  `);
  assert.deepEqual(db.run("INSERT INTO students (id, name) VALUES (41, 'Ada Lovelace')"), { changes: 1, lastId: 41 });
  assert.deepEqual(await readBack(file, "SELECT id FROM students"), [{ id: 41 }], "the insert was saved");
  assert.deepEqual(db.one("PRAGMA foreign_keys"), { foreign_keys: 1 });
  assert.deepEqual(db.one("SELECT last_insert_rowid() AS id"), { id: 41 });
  assert.deepEqual(db.all("SELECT note FROM scratch"), [{ note: "kept in memory only" }]);
  assertSqlError(() => db.run("INSERT INTO picks (student_id) VALUES (99)"), "FOREIGN KEY constraint failed");
  db.run("INSERT INTO picks (student_id) VALUES (41)");
  assert.deepEqual(db.one("PRAGMA foreign_keys"), { foreign_keys: 1 }, "still on after another save");
  assert.deepEqual(await readBack(file, "SELECT student_id FROM picks"), [{ student_id: 41 }]);
  db.close();
});

test("a save is refused when another program changed the file since, and the other program's data stays", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const changed = (how: string) =>
    `"${file}" was ${how} by another program (a second notebook, perhaps) since this notebook opened or last saved it, so this notebook did not overwrite it — open it again, with await openDatabase({ file: ${JSON.stringify(file)} }), to see it as it is now, then make your change again. Until then your latest change is only in this notebook's memory.`;
  const first = await fileDatabase(file);
  first.run(insertStudent, ["Ada Lovelace", "ada@example.edu"]);
  const second = await openDatabase({ file }); // say, a second notebook
  second.run(insertStudent, ["Grace Hopper", "grace@example.edu"]);

  assert.throws(() => first.run(insertStudent, ["Mei Chen", "mei@example.edu"]), { message: changed("changed") });
  assert.throws(() => first.save(), { message: changed("changed") });
  assert.throws(() => first.close(), { message: changed("changed") });
  assert.deepEqual(await readBack(file, "SELECT name FROM students ORDER BY id"), [{ name: "Ada Lovelace" }, { name: "Grace Hopper" }]);
  assert.deepEqual(first.all("SELECT name FROM students ORDER BY id"), [{ name: "Ada Lovelace" }, { name: "Mei Chen" }], "still in memory");

  // Written in place, with the very same bytes: only the modification time tells. (Wait first:
  // Linux moves file times on in steps of a few milliseconds.)
  await new Promise((resolve) => setTimeout(resolve, 30));
  writeFileSync(file, readFileSync(file));
  assert.throws(() => second.run(insertStudent, ["Lars Jensen", "lars@example.edu"]), { message: changed("changed") });
  rmSync(file);
  const third = await fileDatabase(file);
  assert.throws(() => second.run(insertStudent, ["Yuki Tanaka", "yuki@example.edu"]), { message: changed("changed") });
  third.close();
  rmSync(file);
  assert.throws(() => second.save(), { message: changed("deleted or moved") });
});

test("two notebooks that both start a new file: the second to save is refused", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const one = await openDatabase({ file });
  const two = await openDatabase({ file });
  one.exec(schema);
  assert.throws(() => two.exec(schema), /^Error: ".*roll-call\.sqlite" was changed by another program/);
  assert.deepEqual(await readBack(file, "SELECT name FROM sqlite_schema WHERE type = 'table'"), [{ name: "students" }]);
  one.close();
});

test("a file that is not a SQLite database is refused with a clear error, and left untouched", async (t) => {
  const folder = tempFolder(t);
  const csv = path.join(folder, "students.csv");
  writeFileSync(csv, "name,email\nAda Lovelace,ada@example.edu\n");
  const before = stampOf(csv);
  await assert.rejects(openDatabase({ file: csv }), {
    message: `"${csv}" is not a SQLite database (it does not start the way SQLite files do), so it was not opened, and it was left untouched — check the file name; to start a new database, give a name no file has yet, like "roll-call.sqlite".`,
  });
  assert.equal(readFileSync(csv, "utf8"), "name,email\nAda Lovelace,ada@example.edu\n");
  assert.equal(stampOf(csv), before);

  // It starts like one, but the rest is not.
  const fake = path.join(folder, "fake.sqlite");
  const bytes = Buffer.concat([Buffer.from("SQLite format 3\u0000", "latin1"), Buffer.alloc(4096, 0xab)]);
  writeFileSync(fake, bytes);
  await assert.rejects(openDatabase({ file: fake }), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(
      e.message,
      /^".*fake\.sqlite" is not a SQLite database \(SQLite says: .+\), so it was not opened, and it was left untouched — /,
    );
    return true;
  });
  assert.deepEqual(readFileSync(fake), bytes);
  assert.deepEqual(readdirSync(folder).sort(), ["fake.sqlite", "students.csv"]);

  // To SQLite, an empty file is an empty database.
  const empty = path.join(folder, "empty.sqlite");
  writeFileSync(empty, "");
  const db = await openDatabase({ file: empty });
  assert.deepEqual(db.tables(), []);
  db.close();
});

test("a folder that does not exist is an error, and is not made", async (t) => {
  const missing = path.join(tempFolder(t), "Data");
  await assert.rejects(openDatabase({ file: path.join(missing, "roll-call.sqlite") }), {
    message: `the folder "${missing}" does not exist, so "roll-call.sqlite" cannot be kept in it — check the spelling of the path, or make the folder first (in a terminal: mkdir -p "${missing}").`,
  });
  assert.equal(existsSync(missing), false);
});

test("a file being changed by another SQLite program (a -wal or -journal beside it) is left alone", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const db = await fileDatabase(file);
  writeFileSync(`${file}-wal`, "changes another program has not finished");
  assert.throws(
    () => db.run(insertStudent, ["Ada Lovelace", "ada@example.edu"]),
    /^Error: another program is using ".*roll-call\.sqlite" right now/,
  );
  await assert.rejects(openDatabase({ file }), /roll-call\.sqlite-wal" beside it holds changes that are not in the file yet/);
  rmSync(`${file}-wal`);
  db.save();
  assert.deepEqual(await readBack(file, "SELECT name FROM students"), [{ name: "Ada Lovelace" }]);
  db.close();
});

test("when the file cannot be written, the error says so, the file is as it was, and save() tries again", async (t) => {
  const folder = tempFolder(t);
  const file = path.join(folder, "roll-call.sqlite");
  const db = await fileDatabase(file);
  chmodSync(file, 0o444); // read-only: checked by hand, so this fails even for the superuser
  assert.throws(() => db.run(insertStudent, ["Ada Lovelace", "ada@example.edu"]), {
    message: `"${file}" is read-only, so your change was not saved to it — your latest change is only in this notebook's memory. To keep changes, make the file writable (in a terminal: chmod u+w "${file}"), then run db.save(); or open another file.`,
  });
  assert.deepEqual(await readBack(file, "SELECT count(*) AS n FROM students"), [{ n: 0 }]);
  chmodSync(file, 0o640);
  db.save();
  assert.deepEqual(await readBack(file, "SELECT name FROM students"), [{ name: "Ada Lovelace" }]);
  assert.equal(statSync(file).mode & 0o777, 0o640, "the new version keeps the file's permissions");
  db.close();

  // The folder went away before the first save.
  const sub = path.join(folder, "week-1");
  mkdirSync(sub);
  const fresh = await openDatabase({ file: path.join(sub, "roll-call.sqlite") });
  rmSync(sub, { recursive: true });
  assert.throws(
    () => fresh.exec(schema),
    /^Error: could not save ".*week-1\/roll-call\.sqlite" \(ENOENT: .*\) — your latest change is only in this notebook's memory, and the file is as it was\. Check that the folder ".*week-1" still exists/,
  );
  assert.deepEqual(fresh.tables(), ["students"]);
  mkdirSync(sub);
  fresh.save();
  assert.deepEqual(await readBack(path.join(sub, "roll-call.sqlite"), "SELECT name FROM sqlite_schema WHERE type = 'table'"), [
    { name: "students" },
  ]);
  fresh.close();
});

test("a save that fails halfway, at the rename, leaves the old file whole and no temporary file behind", async (t) => {
  const folder = tempFolder(t);
  const file = path.join(folder, "roll-call.sqlite");
  const db = await fileDatabase(file);
  db.run(insertStudent, ["Ada Lovelace", "ada@example.edu"]);
  const before = readFileSync(file);
  const rename = t.mock.method(fs, "renameSync", () => {
    throw Object.assign(new Error("EIO: i/o error, rename"), { code: "EIO" });
  });
  assert.throws(
    () => db.run(insertStudent, ["Grace Hopper", "grace@example.edu"]),
    /^Error: could not save ".*" \(EIO: i\/o error, rename\)/,
  );
  assert.equal(rename.mock.callCount(), 1);
  rename.mock.restore();
  assert.deepEqual(readFileSync(file), before);
  assert.deepEqual(readdirSync(folder), ["roll-call.sqlite"]);
  db.save();
  assert.deepEqual(await readBack(file, "SELECT count(*) AS n FROM students"), [{ n: 2 }]);
  db.close();
});

const dbModule = path.join(__dirname, "..", "src", "db.js");

/** Run `code` in a child Node process and wait until it is killed with SIGKILL; it must not end any other way. */
async function runUntilKilled(code: string, kill?: (pid: number) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const ended = new Promise<string>((resolve) => child.once("exit", (exitCode, signal) => resolve(signal ?? `exit code ${exitCode}`)));
  if (kill !== undefined) {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("saving")) resolve();
      });
      void ended.then((how) => reject(new Error(`the child ended by itself (${how})`)));
    });
    assert.ok(child.pid !== undefined);
    await kill(child.pid);
  }
  assert.equal(await ended, "SIGKILL");
}

/** The roll call in the file must be whole: SQLite finds no damage, and the tally matches the picks. */
async function assertConsistent(file: string): Promise<number> {
  const db = await openDatabase({ file }); // throws if the file is torn
  try {
    assert.deepEqual(db.one("PRAGMA integrity_check"), { integrity_check: "ok" });
    const row = db.one<{ n: number; picks: number; ballast: number }>(
      "SELECT n, (SELECT count(*) FROM picks) AS picks, (SELECT length(bytes) FROM ballast) AS ballast FROM tally",
    );
    assert.ok(row !== undefined);
    assert.equal(row.picks, row.n, `${row.picks} picks but a tally of ${row.n}`);
    assert.equal(row.ballast, 300_000);
    return row.n;
  } finally {
    db.close();
  }
}

/** Child code: open the roll call (made if new, with 300 kB of ballast, so a save has something to write) and change it. */
function saverCode(file: string, change: string): string {
  return `
    const fs = require("node:fs");
    const { openDatabase } = require(${JSON.stringify(dbModule)});
    (async () => {
      const db = await openDatabase({ file: ${JSON.stringify(file)} });
      db.exec("CREATE TABLE IF NOT EXISTS tally (n INTEGER); CREATE TABLE IF NOT EXISTS picks (id INTEGER PRIMARY KEY); CREATE TABLE IF NOT EXISTS ballast (bytes BLOB);");
      if (db.one("SELECT count(*) AS n FROM tally").n === 0) db.exec("BEGIN; INSERT INTO tally VALUES (0); INSERT INTO ballast VALUES (randomblob(300000)); COMMIT;");
      const pick = () => db.exec("BEGIN; INSERT INTO picks DEFAULT VALUES; UPDATE tally SET n = n + 1; COMMIT;");
      ${change}
    })();`;
}

test("killed at the worst moments of a save, the file holds the old database or the new one, whole", async (t) => {
  const file = path.join(tempFolder(t), "roll-call.sqlite");
  const setup = await openDatabase({ file });
  setup.close();
  // The child dies by SIGKILL at one point of its save: in the middle of writing, before or after the rename.
  const die = 'process.kill(process.pid, "SIGKILL")';
  const crashes = [
    {
      at: "halfway through writing",
      expect: "old",
      patch: `const write = fs.writeFileSync; fs.writeFileSync = (fd, bytes, ...rest) => { if (armed) { fs.writeSync(fd, bytes, 0, bytes.length >> 1); ${die}; } return write(fd, bytes, ...rest); };`,
    },
    {
      at: "after writing, before the rename",
      expect: "old",
      patch: `const rename = fs.renameSync; fs.renameSync = (...args) => { if (armed) ${die}; return rename(...args); };`,
    },
    {
      at: "right after the rename",
      expect: "new",
      patch: `const rename = fs.renameSync; fs.renameSync = (...args) => { rename(...args); if (armed) ${die}; };`,
    },
  ];
  await runUntilKilled(saverCode(file, "pick(); process.kill(process.pid, 'SIGKILL');"));
  let before = await assertConsistent(file);
  assert.equal(before, 1);
  for (const crash of crashes) {
    await runUntilKilled(
      saverCode(file, `let armed = false; ${crash.patch} armed = true; pick(); console.error("the crash point was never reached");`),
    );
    const after = await assertConsistent(file);
    assert.equal(after, crash.expect === "old" ? before : before + 1, `killed ${crash.at}`);
    before = after;
  }
});

test("killed with SIGKILL at random moments while it saves in a loop, the file always opens and is consistent", async (t) => {
  const folder = tempFolder(t);
  const file = path.join(folder, "roll-call.sqlite");
  let last = 0;
  for (let round = 0; round < 5; round++) {
    await runUntilKilled(saverCode(file, 'process.stdout.write("saving\\n"); for (;;) pick();'), async (pid) => {
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      process.kill(pid, "SIGKILL");
    });
    const n = await assertConsistent(file);
    assert.ok(n >= last, `round ${round}: the tally went back from ${last} to ${n}`);
    last = n;
  }
  assert.ok(last >= 3, `only ${last} saves happened before the kills: the test proved little`);
  // A kill between writing the temporary file and the rename leaves that file behind, hidden; never a torn database.
  for (const name of readdirSync(folder)) assert.match(name, /^(roll-call\.sqlite|\.roll-call\.sqlite\.\d+-\w+\.tmp)$/);
});
