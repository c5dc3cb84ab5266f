import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "csv-parse/sync";
import { renderGradebook } from "../src/engine/gradebook.js";
import { roundPoints } from "../src/engine/results.js";
import { EXERCISES, outcome, results } from "./support/results.js";

// Tests deliberately out of lesson order, with thirds that round.
const full = results("Ada Lovelace", [
  outcome("last-student", "returns the last", 1, 1),
  outcome("add-student", "adds one", 1.5, 1.5),
  outcome("add-student", "keeps order", 1.5, 1.5),
  outcome("last-student", "empty roster", 1, 1),
  outcome("count-rows", "counts", 1, 1),
]);
const partial = results("bob", [
  outcome("add-student", "adds one", 1.5, 1.5),
  outcome("add-student", "keeps order", 0, 1.5),
  outcome("last-student", "returns the last", 0.666667, 1),
  outcome("last-student", "empty roster", 0, 1),
  outcome("count-rows", "counts", 0, 1),
]);
const broken = results("Émile Zola", [], { status: "error", message: "The notebook is not valid JSON: re-download it.", score: 0 });

type Row = Record<string, string>;
const parseCsv = (csv: string): Row[] => parse(csv, { columns: true }) as Row[];

test("the header names the exercises in lesson order", () => {
  const csv = renderGradebook([full], EXERCISES);
  assert.equal(csv.split("\n")[0], "learner,status,add-student,last-student,count-rows,score,max_score");
});

test("each exercise column is the sum of its tests' points, and matches the JSON", () => {
  const all = [full, partial, broken];
  const rows = parseCsv(renderGradebook(all, EXERCISES));
  assert.equal(rows.length, all.length);
  for (const r of all) {
    const row = rows.find((x) => x.learner === r.learner);
    assert.ok(row, `a row for ${r.learner}`);
    assert.equal(row.status, r.status);
    for (const e of EXERCISES) {
      const expected = roundPoints(r.tests.filter((t) => t.exercise === e.id).reduce((s, t) => s + roundPoints(t.points), 0));
      assert.equal(Number(row[e.id]), expected, `${r.learner} / ${e.id}`);
    }
    assert.equal(Number(row.score), r.score);
    assert.equal(Number(row.max_score), r.max_score);
    // Every test belongs to a listed exercise, so the columns add up to the score.
    assert.equal(roundPoints(EXERCISES.reduce((s, e) => s + Number(row[e.id]), 0)), r.score);
  }
  const bob = rows.find((x) => x.learner === "bob");
  assert.deepEqual(bob, {
    learner: "bob",
    status: "fail",
    "add-student": "1.5",
    "last-student": "0.67",
    "count-rows": "0",
    score: "2.17",
    max_score: "6",
  });
});

test("numbers are written with two decimals at most and no trailing zeros", () => {
  const csv = renderGradebook([full, partial], EXERCISES);
  assert.match(csv, /^Ada Lovelace,pass,3,2,1,6,6$/m);
  assert.match(csv, /^bob,fail,1\.5,0\.67,0,2\.17,6$/m);
  assert.doesNotMatch(csv, /\d\.\d*0(,|$)/m);
});

test("rows are sorted by learner name, the way a person reads them", () => {
  const names = ["zoë", "Bob", "Émile", "ana", "Ådne"];
  const rows = parseCsv(
    renderGradebook(
      names.map((n) => results(n, [])),
      EXERCISES,
    ),
  );
  assert.deepEqual(
    rows.map((r) => r.learner),
    ["Ådne", "ana", "Bob", "Émile", "zoë"],
  );
});

test("names with commas, quotes and newlines round-trip", () => {
  const names = ['O\'Brien, "Pat"', "Line\nbreak, Sam", 'Just "quoted"', "Tab\tin the middle", "Carriage\r\nreturn"];
  const rows = parseCsv(
    renderGradebook(
      names.map((n) => results(n, [outcome("count-rows", "counts", 1, 1)])),
      EXERCISES,
    ),
  );
  assert.deepEqual(rows.map((r) => r.learner).sort(), [...names].sort());
  for (const row of rows) assert.equal(row["count-rows"], "1");
});

test("cells that a spreadsheet would run as a formula get a leading quote", () => {
  const hostile = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"];
  const csv = renderGradebook(
    hostile.map((n) => results(n, [])),
    EXERCISES,
  );
  const learners = parseCsv(csv).map((r) => r.learner);
  assert.deepEqual(learners.sort(), hostile.map((n) => `'${n}`).sort());
  for (const line of csv.split("\n")) assert.doesNotMatch(line, /^"?[=+\-@]/);
  // A harmless name is left alone.
  assert.equal(parseCsv(renderGradebook([results("Ada = 1", [])], EXERCISES))[0]?.learner, "Ada = 1");
});

test("lines end with \\n, with a trailing newline", () => {
  const csv = renderGradebook([full, partial, broken], EXERCISES);
  assert.ok(csv.endsWith("\n"));
  assert.ok(!csv.endsWith("\n\n"));
  assert.ok(!csv.includes("\r"));
  assert.equal(csv.split("\n").length, 1 + 3 + 1);
});

test("an empty class is just the header", () => {
  assert.equal(renderGradebook([], EXERCISES), "learner,status,add-student,last-student,count-rows,score,max_score\n");
});
