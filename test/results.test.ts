/**
 * The results contract (src/engine/results.ts): what `learnerResultsOf` makes of a
 * learner's test outcomes, the caps on every text a learner's code can fill,
 * and how `capResults` brings a result under a size.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { capResults, OUTPUT_CAP, roundPoints, learnerResultsOf, type LearnerResults, type TestOutcome } from "../src/engine/results.js";

const outcome = (exercise: string, status: TestOutcome["status"], points: number, extra: Partial<TestOutcome> = {}): TestOutcome => ({
  name: `${exercise} works`,
  status,
  task_id: 1,
  exercise,
  points,
  max_points: 1,
  ...extra,
});
const pass = (exercise: string, extra: Partial<TestOutcome> = {}): TestOutcome => outcome(exercise, "pass", 1, extra);
const fail = (exercise: string, extra: Partial<TestOutcome> = {}): TestOutcome =>
  outcome(exercise, "fail", 0, { message: "expected 3, got 2", ...extra });
const error = (exercise: string, message?: string): TestOutcome => outcome(exercise, "error", 0, message === undefined ? {} : { message });
const bytes = (r: LearnerResults): number => Buffer.byteLength(JSON.stringify(r, null, 2));

test("the shape: Exercism's version 3 plus points and rollcall's own fields, nothing else, no message when all is well", () => {
  const r = learnerResultsOf("ada", "01-arrays", [pass("sum"), fail("mean")], 2, ["a note"]);
  assert.deepEqual(r, {
    version: 3,
    status: "fail",
    tests: [pass("sum"), fail("mean")],
    score: 1,
    max_score: 2,
    learner: "ada",
    lesson: "01-arrays",
    notes: ["a note"],
  });
  assert.ok(!("message" in r));
  assert.ok(!("message" in (r.tests[0] ?? {})), "a passing test has no message key");
  assert.ok(!("output" in (r.tests[0] ?? {})), "no output key unless there was output");
});

test("status: pass when every test passes, fail when one fails, error when one errs or there is a message", () => {
  assert.equal(learnerResultsOf("a", "l", [pass("x"), pass("y")], 2, []).status, "pass");
  assert.equal(learnerResultsOf("a", "l", [pass("x"), fail("y")], 2, []).status, "fail");
  assert.equal(learnerResultsOf("a", "l", [fail("x"), error("y", "it timed out")], 2, []).status, "error");
  assert.equal(learnerResultsOf("a", "l", [pass("x"), pass("y")], 2, [], "the notebook could not be read").status, "error");
});

test("score: each test's points rounded to cents, then summed; max_score as given", () => {
  const r = learnerResultsOf("a", "l", [outcome("x", "pass", 0.1), outcome("y", "pass", 0.2), outcome("z", "fail", 0)], 11, []);
  assert.equal(r.score, 0.3);
  assert.equal(r.max_score, 11);
  assert.equal(roundPoints(2 / 3), 0.67);
  // Each test's points rounded first, then summed, as the gradebook and the feedback add them: the three agree.
  assert.equal(learnerResultsOf("a", "l", [outcome("x", "pass", 0.004), outcome("y", "pass", 0.004)], 1, []).score, 0);
});

test("the message: the one given, or a summary of the tests that could not finish (three at most), or none", () => {
  assert.equal(learnerResultsOf("a", "l", [error("x", "boom")], 1, [], "the file is not UTF-8").message, "the file is not UTF-8");
  assert.equal(
    learnerResultsOf("a", "l", [error("x", "it ran past 10 s"), error("y"), fail("z")], 3, []).message,
    "some tests could not finish: x: it ran past 10 s; y: error",
  );
  assert.equal(
    learnerResultsOf("a", "l", [error("a", "1"), error("b", "2"), error("c", "3"), error("d", "4")], 4, []).message,
    "some tests could not finish: a: 1; b: 2; c: 3; …",
  );
  assert.equal(learnerResultsOf("a", "l", [fail("x")], 1, []).message, undefined);
});

test("every text a learner's code can fill is capped, ending in '…' exactly at the cap; text at the cap is left alone", () => {
  const r = learnerResultsOf(
    "a",
    "l",
    [
      outcome("x", "fail", 0, { name: "n".repeat(1000), message: "m".repeat(5000), output: "o".repeat(5000) }),
      outcome("y", "fail", 0, { name: "n".repeat(300), message: "m".repeat(1000), output: "o".repeat(OUTPUT_CAP) }),
    ],
    2,
    ["x".repeat(1000)],
    "e".repeat(5000),
  );
  const [long, exact] = r.tests as [TestOutcome, TestOutcome];
  assert.equal(long.name, `${"n".repeat(299)}…`);
  assert.equal(long.message, `${"m".repeat(999)}…`);
  assert.equal(OUTPUT_CAP, 500);
  assert.equal(long.output, `${"o".repeat(OUTPUT_CAP - 1)}…`);
  assert.deepEqual([exact.name, exact.message, exact.output], ["n".repeat(300), "m".repeat(1000), "o".repeat(OUTPUT_CAP)]);
  assert.equal(r.message, `${"e".repeat(999)}…`);
  assert.deepEqual(r.notes, [`${"x".repeat(299)}…`]);
});

test("the summary of unfinished tests is capped like any message", () => {
  const r = learnerResultsOf("a", "l", [error("x", "m".repeat(1000)), error("y", "m".repeat(1000))], 2, []);
  assert.equal(r.message?.length, 1000);
  assert.ok(r.message?.startsWith("some tests could not finish: x: mmm"));
  assert.ok(r.message?.endsWith("…"));
});

test("at most 20 notes are kept, the first ones", () => {
  const notes = Array.from({ length: 50 }, (_, i) => `note ${i}`);
  assert.deepEqual(learnerResultsOf("a", "l", [pass("x")], 1, notes).notes, notes.slice(0, 20));
});

test("a cut never splits a character in two", () => {
  const r = learnerResultsOf("a", "l", [fail("x", { message: "😀".repeat(1000) })], 1, []);
  assert.doesNotMatch(
    r.tests[0]?.message ?? "",
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
    "a lone surrogate in the message",
  );
});

// capResults: what the batch writes is capped at a byte size, in steps.
const noisy = (tests = 5, note = "n".repeat(300)): LearnerResults =>
  learnerResultsOf(
    "ada",
    "01-arrays",
    Array.from({ length: tests }, (_, i) => fail(`e${i}`, { message: `${i} ${"m".repeat(990)}`, output: "o".repeat(OUTPUT_CAP) })),
    tests,
    Array.from({ length: 20 }, () => note),
  );

test("capResults: a result that fits is returned as it is", () => {
  const r = noisy();
  assert.equal(capResults(r, bytes(r)), r);
});

test("capResults: printed output goes first, messages and notes stay whole when that is enough", () => {
  const r = noisy();
  const capped = capResults(r, bytes(r) - 1);
  assert.ok(bytes(capped) <= bytes(r) - 1);
  assert.ok(capped.tests.every((t) => !("output" in t)));
  assert.deepEqual(
    capped.tests.map((t) => t.message),
    r.tests.map((t) => t.message),
  );
  assert.deepEqual(capped.notes, r.notes);
  assert.deepEqual({ ...capped, tests: [] }, { ...r, tests: [] });
});

test("capResults: then messages are cut to 80 characters and only the first 3 notes kept; scores, status and names untouched", () => {
  const r = { ...noisy(), source: "/class/ada.ipynb", submission_sha256: "ab".repeat(32) };
  const capped = capResults(r, 3000);
  assert.ok(bytes(capped) <= 3000, `${bytes(capped)} bytes`);
  assert.ok(capped.tests.every((t) => !("output" in t) && t.message?.length === 80 && t.message.endsWith("…")));
  assert.equal(capped.tests[1]?.message, `1 ${"m".repeat(77)}…`);
  assert.deepEqual(capped.notes, r.notes.slice(0, 3));
  const keep = (x: LearnerResults): unknown => ({ ...x, tests: x.tests.map(({ message: _m, output: _o, ...t }) => t), notes: [] });
  assert.deepEqual(keep(capped), keep(r));
});

test("capResults: a message of 80 characters or less is not cut, and a test without one gets none", () => {
  const r = learnerResultsOf(
    "ada",
    "l",
    [fail("x", { message: "m".repeat(80), output: "o".repeat(OUTPUT_CAP) }), pass("y", { output: "o".repeat(OUTPUT_CAP) })],
    2,
    Array.from({ length: 20 }, () => "n".repeat(300)),
  );
  const capped = capResults(r, 1000);
  assert.equal(capped.tests[0]?.message, "m".repeat(80));
  assert.ok(!("message" in (capped.tests[1] ?? {})));
});
