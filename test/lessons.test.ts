/** The curriculum's own promises: structure of every lesson, and that each exercise's check catches a plausible mistake. */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { buildLesson } from "../src/engine/build.js";
import { executeNotebookFile } from "../src/engine/execute-file.js";
import { exercisesOf } from "../src/engine/lesson.js";
import { serializeNotebook, type Notebook } from "../src/engine/notebook.js";
import { projectRoot } from "../src/engine/paths.js";
import { allLessons, checkReports } from "./support/notebooks.js";

const LIMIT = { timeout: 180_000 };

test("every lesson has objectives, key points, a time, at least three exercises with hints and wrong answers", async () => {
  const lessons = await allLessons();
  assert.ok(lessons.length >= 1);
  for (const lesson of lessons) {
    assert.ok(lesson.objectives.length >= 2, `${lesson.id}: objectives`);
    assert.ok(lesson.keypoints.length >= 2, `${lesson.id}: key points`);
    assert.ok(lesson.minutes >= 10 && lesson.minutes <= 120, `${lesson.id}: minutes`);
    const exercises = exercisesOf(lesson.cells);
    assert.ok(exercises.length >= 3, `${lesson.id} has ${exercises.length} exercises; each lesson needs at least three`);
    for (const exercise of exercises) {
      assert.match(exercise.check.source, /hints:\s*\[\s*["'`]/, `${lesson.id} ${exercise.id}: the check needs at least one hint`);
      assert.ok(exercise.wrongAnswers.length >= 1, `${lesson.id} ${exercise.id}: add a \`\`\`ts wrong=${exercise.id} cell with a plausible mistake`);
    }
    assert.ok(lesson.cells.some((c) => c.kind === "instructor"), `${lesson.id}: at least one instructor note`);
  }
});

/** Lines of the solution long enough to give it away. */
const solutionLines = (source: string): string[] =>
  (source.split(/\/\/ (?:BEGIN|END) SOLUTION/)[1] ?? "").split("\n").map((l) => l.trim()).filter((l) => l.length > 12);

test("each plausible wrong answer fails its check with a message that helps and does not give the solution away", LIMIT, async () => {
  for (const lesson of await allLessons()) {
    const exercises = exercisesOf(lesson.cells);
    const { instructor } = buildLesson(lesson);
    const rounds = Math.max(...exercises.map((e) => e.wrongAnswers.length));
    // Exercises are independent, so one run tries the k-th wrong answer of every exercise at once.
    for (let round = 0; round < rounds; round++) {
      const wrongs = new Map(exercises.flatMap((e) => (e.wrongAnswers[round] ? [[e.id, e.wrongAnswers[round]?.source ?? ""] as const] : [])));
      const notebook: Notebook = { ...instructor, cells: instructor.cells.map((c) => (wrongs.has(c.id) && c.cell_type === "code" ? { ...c, source: wrongs.get(c.id) ?? "" } : c)) };
      const folder = path.join(projectRoot, "build", "wrong");
      await mkdir(folder, { recursive: true });
      const file = path.join(folder, `${lesson.id}.${round}.ipynb`);
      await writeFile(file, serializeNotebook(notebook));
      const result = await executeNotebookFile(file, { timeoutMs: 60_000, stopOnError: false });
      assert.ok(result.ok);
      const reports = new Map(checkReports(result.value.notebook).map((r) => [r.exercise, r]));
      for (const exercise of exercises.filter((e) => wrongs.has(e.id))) {
        const report = reports.get(exercise.id);
        const where = `${lesson.id} ${exercise.id}, wrong answer ${round + 1}`;
        assert.equal(report?.status, "fail", `${where}: the check did not fail it:\n${report?.text}`);
        const failures = report?.tests.filter((t) => t.status !== "pass") ?? [];
        assert.ok(failures.length > 0 && failures.every((t) => t.message.length > 10), `${where}: say what was expected`);
        for (const line of solutionLines(exercise.answer.source)) {
          assert.ok(!report?.text.includes(line), `${where}: the report gives away the solution line '${line}'`);
        }
      }
    }
  }
});
