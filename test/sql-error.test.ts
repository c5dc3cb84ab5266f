import assert from "node:assert/strict";
import { test } from "node:test";
import { SqlError, isSqlError } from "../src/sql-error";

test("a SqlError keeps SQLite's reason first, then the hint, and remembers the SQL", () => {
  const e = new SqlError("NOT NULL constraint failed: students.email", "INSERT INTO students (name) VALUES (?)");
  assert.equal(e.name, "SqlError");
  assert.equal(e.reason, "NOT NULL constraint failed: students.email");
  assert.equal(e.sql, "INSERT INTO students (name) VALUES (?)");
  assert.equal(
    e.message,
    'NOT NULL constraint failed: students.email — every row needs a value for email; NULL means "no value", and it is not allowed here.',
  );
  assert.ok(e instanceof Error);
});

test("reasons without a hint are kept as they are", () => {
  const e = new SqlError("database is locked", "SELECT 1");
  assert.equal(e.message, "database is locked");
});

test("every common reason gets its own hint", () => {
  const reasons = [
    "UNIQUE constraint failed: students.email",
    "NOT NULL constraint failed: students.name",
    "CHECK constraint failed: age >= 0",
    "no such table: studnets",
    "no such column: nme",
    'near "SELEC": syntax error',
    "table students already exists",
  ];
  const hints = reasons.map((reason) => new SqlError(reason, "").message.slice(reason.length));
  for (const hint of hints) assert.match(hint, /^ — \S/);
  assert.equal(new Set(hints).size, reasons.length, "two reasons share a hint");
});

test("isSqlError tells SqlErrors from other errors, even from a second copy of the class", () => {
  assert.equal(isSqlError(new SqlError("no such table: x", "SELECT * FROM x")), true);
  assert.equal(isSqlError(new Error("no such table: x")), false);
  assert.equal(isSqlError("no such table: x"), false);
  assert.equal(isSqlError(undefined), false);
  const fromAnotherCopy = Object.assign(new Error("no such table: x"), { name: "SqlError", sql: "SELECT * FROM x" });
  assert.equal(isSqlError(fromAnotherCopy), true);
});
