import assert from "node:assert/strict";
import { test } from "node:test";
import { NotDoneYet, isNotDoneYet, todo } from "../src/not-done-yet";

test("todo() returns (does not throw) a NotDoneYet naming the exercise", () => {
  const e = todo("first-student");
  assert.ok(e instanceof NotDoneYet);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "NotDoneYet");
  assert.equal(e.exercise, "first-student");
  assert.equal(e.message, "not done yet: first-student");
});

test("a stub that throws todo() is recognised", () => {
  function firstStudent(): string {
    throw todo("first-student");
  }
  assert.throws(firstStudent, (e: unknown) => isNotDoneYet(e) && e.exercise === "first-student");
});

test("isNotDoneYet checks the name, so a second copy of the class still counts", () => {
  const fromAnotherCopy = Object.assign(new Error("not done yet: x"), { name: "NotDoneYet", exercise: "x" });
  assert.equal(isNotDoneYet(fromAnotherCopy), true);
  assert.equal(isNotDoneYet(new Error("not done yet: x")), false);
  assert.equal(isNotDoneYet(new TypeError("x")), false);
  assert.equal(isNotDoneYet("not done yet: x"), false);
  assert.equal(isNotDoneYet(null), false);
});
