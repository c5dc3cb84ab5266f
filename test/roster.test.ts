import assert from "node:assert/strict";
import { test } from "node:test";
import { roster, students } from "../src/roster";

test("the class has 12 students with ids 1..12", () => {
  assert.deepEqual(
    students.map((s) => s.id),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
});

test("names and emails are unique, and emails are first.last@example.edu in ASCII", () => {
  assert.equal(new Set(students.map((s) => s.name)).size, 12);
  assert.equal(new Set(students.map((s) => s.email)).size, 12);
  for (const s of students) {
    assert.match(s.email, /^[a-z]+\.[a-z]+@example\.edu$/, s.email);
    const first = s.name.split(" ")[0] ?? "";
    const plainFirst = first
      .normalize("NFD")
      .replace(/[^A-Za-z]/g, "")
      .toLowerCase();
    assert.ok(s.email.startsWith(`${plainFirst}.`), `${s.email} should start with ${plainFirst}.`);
  }
});

test("there are two cohorts of six: Morning and Evening", () => {
  const morning = students.filter((s) => s.cohort === "Morning").length;
  const evening = students.filter((s) => s.cohort === "Evening").length;
  assert.deepEqual([morning, evening], [6, 6]);
});

test("roster is the students' names in the same order", () => {
  assert.deepEqual(
    [...roster],
    students.map((s) => s.name),
  );
  assert.equal(roster[0], "Ada Lovelace");
});

test("the sample cannot be changed by accident; a copy can", () => {
  assert.ok(Object.isFrozen(students) && Object.isFrozen(roster));
  assert.ok(students.every((s) => Object.isFrozen(s)));
  assert.throws(() => (roster as string[]).push("Alan Turing"), TypeError);
  assert.throws(() => {
    (students[0] as { name: string }).name = "Someone Else";
  }, TypeError);
  const mine = [...roster];
  mine.push("Alan Turing");
  assert.equal(mine.length, 13);
  assert.equal(roster.length, 12);
});
