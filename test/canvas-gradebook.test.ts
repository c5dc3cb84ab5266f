/** The Canvas grade-import CSV: its exact text, and that the class reports write it beside gradebook.csv. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { renderCanvasGradebook } from "../src/engine/canvas-gradebook.js";
import { writeClassReports } from "../src/engine/class-reports.js";
import { EXERCISES, outcome, results } from "./support/results.js";

const ada = results("ada_lovelace", [outcome("add-student", "adds one", 3, 3), outcome("last-student", "last", 0.666667, 2, "fail")]);
const hostile = results("=HYPERLINK(1)", [outcome("add-student", "adds one", 0, 3)]);
const comma = results("bo,chen", [outcome("count-rows", "counts", 1, 1)]);

test("Canvas's columns, a Points Possible row, then a row per learner by name; the login is the learner's name", () => {
  assert.equal(
    renderCanvasGradebook([comma, ada, hostile], "01-arrays", 6),
    [
      "Student,ID,SIS User ID,SIS Login ID,Section,01-arrays",
      "Points Possible,,,,,6",
      "'=HYPERLINK(1),,,'=HYPERLINK(1),,0",
      "ada_lovelace,,,ada_lovelace,,3.67",
      '"bo,chen",,,"bo,chen",,1',
      "",
    ].join("\n"),
  );
  assert.equal(renderCanvasGradebook([], "01-arrays", 6), "Student,ID,SIS User ID,SIS Login ID,Section,01-arrays\nPoints Possible,,,,,6\n");
});

test("writeClassReports writes gradebook-canvas.csv from the results folder, beside gradebook.csv", async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-canvas-"));
  try {
    await mkdir(path.join(out, "results"));
    for (const r of [ada, comma]) await writeFile(path.join(out, "results", `${r.learner}.json`), JSON.stringify(r));
    assert.equal(await writeClassReports(out, "keeping-a-roster", EXERCISES), 2);
    assert.equal(
      await readFile(path.join(out, "gradebook-canvas.csv"), "utf8"),
      'Student,ID,SIS User ID,SIS Login ID,Section,keeping-a-roster\nPoints Possible,,,,,6\nada_lovelace,,,ada_lovelace,,3.67\n"bo,chen",,,"bo,chen",,1\n',
    );
    assert.ok((await readFile(path.join(out, "gradebook.csv"), "utf8")).startsWith("learner,status,"));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("a login the grader had to make safe for a file name still matches Canvas: the row carries the name as submitted", () => {
  const email = { ...results("ada_school.edu-1a2b3c4d", [outcome("add-student", "adds one", 3, 3)]), submitted_as: "ada@school.edu" };
  assert.equal(renderCanvasGradebook([email], "01-arrays", 3).split("\n")[2], "ada@school.edu,,,ada@school.edu,,3");
});
