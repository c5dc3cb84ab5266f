import assert from "node:assert/strict";
import { test } from "node:test";
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
