/** Which of a lesson's tests are hidden: known to the grader from the lesson, kept on each result's test (`hidden: true`). */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { scoreSubmission } from "../src/engine/grade.js";
import { planSubmission } from "../src/engine/grade-plan.js";
import { loadGradableLesson } from "../src/engine/lesson-files.js";
import { parseNotebook } from "../src/engine/notebook.js";
import { notebooksDir } from "../src/engine/paths.js";
import type { CellOutcome } from "../src/engine/run.js";

const LESSON = "01-arrays";

test("a test is hidden exactly when the learner's copy of its check does not declare it", async () => {
  const loaded = await loadGradableLesson(LESSON);
  assert.ok(loaded.ok);
  const text = await readFile(path.join(notebooksDir, `${LESSON}.ipynb`), "utf8");
  const notebook = parseNotebook(text, "learner copy");
  assert.ok(notebook.ok);
  let hidden = 0;
  for (const [exercise, tests] of loaded.value.declared) {
    const check: { source: string } | undefined = notebook.value.cells.find(
      (c) => c.metadata.rollcall?.role === "check" && c.metadata.rollcall.exercise === exercise,
    );
    assert.ok(check, exercise);
    for (const t of tests) {
      assert.equal(t.hidden, !check.source.includes(JSON.stringify(t.name)), `${exercise}: ${t.name}`);
      if (t.hidden) hidden++;
    }
  }
  assert.ok(hidden > 0, "the lesson has hidden tests");

  // Scored from a verdict where every test passed: the result's tests say which are hidden, and only those.
  const grading = loaded.value;
  const plan = planSubmission(notebook.value, grading.tests);
  const outcomes = plan.cells.map((cell): CellOutcome => {
    const declared = cell.kind === "check" ? (grading.declared.get(cell.exercise) ?? []) : [];
    const check =
      cell.kind === "check"
        ? {
            ok: true as const,
            value: {
              exercise: cell.exercise,
              status: "pass" as const,
              tests: declared.map((t) => ({ name: t.name, status: "pass" as const, message: "" })),
            },
          }
        : undefined;
    return { status: "ok", outputs: [], executionCount: 1, durationMs: 1, ...(check ? { check } : {}) };
  });
  const results = scoreSubmission("ada", grading, plan, outcomes);
  const flagged = results.tests.filter((t) => t.hidden).map((t) => `${t.exercise}: ${t.name}`);
  const expected = [...grading.declared].flatMap(([e, tests]) => tests.filter((t) => t.hidden).map((t) => `${e}: ${t.name}`));
  assert.deepEqual(flagged, expected);
  assert.ok(results.tests.every((t) => t.hidden === undefined || t.hidden === true));
});
