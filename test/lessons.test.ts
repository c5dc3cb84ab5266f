/** The curriculum's own promises: structure of every lesson, and that each exercise's check catches a plausible mistake. */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { buildLesson } from "../src/engine/build.js";
import { formatProblem } from "../src/engine/problem.js";
import { runNotebookFile } from "../src/engine/run-file.js";
import { serializeNotebook, withSources } from "../src/engine/notebook.js";
import { projectRoot } from "../src/engine/paths.js";
import { allLessons, checkReports } from "./support/notebooks.js";

const LIMIT = { timeout: 180_000 };

test("every lesson has objectives, key points, a time, at least three exercises with hints and wrong answers", async () => {
  const lessons = await allLessons();
  assert.ok(lessons.length >= 1);
  for (const lesson of lessons) {
    assert.ok(lesson.objectives.length >= 2, `${lesson.id}: objectives`);
    assert.ok(lesson.keypoints.length >= 2, `${lesson.id}: key points`);
    assert.ok(
      lesson.minutes.teach >= 10 && lesson.minutes.teach <= 60,
      `${lesson.id}: ${lesson.minutes.teach} minutes taught; a class teaches at most 60 minutes of one lesson live`,
    );
    assert.ok(lesson.minutes.exercises >= 5, `${lesson.id}: say the minutes the exercises take`);
    const { exercises } = lesson;
    assert.ok(exercises.length >= 3, `${lesson.id} has ${exercises.length} exercises; each lesson needs at least three`);
    for (const exercise of exercises) {
      assert.match(exercise.check.source, /hints:\s*\[\s*["'`]/, `${lesson.id} ${exercise.id}: the check needs at least one hint`);
      assert.ok(
        exercise.wrongAnswers.length >= 1,
        `${lesson.id} ${exercise.id}: add a \`\`\`ts wrong=${exercise.id} cell with a plausible mistake`,
      );
    }
    assert.ok(
      lesson.cells.some((c) => c.kind === "instructor"),
      `${lesson.id}: at least one instructor note`,
    );
  }
});

test("the README's course table lists every lesson with its exercises and its minutes, as the lessons say", async () => {
  const readme = await readFile(path.join(projectRoot, "README.md"), "utf8");
  const rows = new Map(
    readme
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) => {
        const cells = l
          .split("|")
          .slice(1, -1)
          .map((c) => c.trim());
        return [cells[0]?.replace(/`/g, "") ?? "", cells] as const;
      }),
  );
  for (const lesson of await allLessons()) {
    const row = rows.get(lesson.id);
    assert.ok(row, `README.md: the course table has no row for ${lesson.id}`);
    const listed = (row[2] ?? "").split(",").map((e) => e.replace(/`/g, "").trim());
    assert.deepEqual(
      listed,
      lesson.exercises.map((e) => e.id),
      `README.md: ${lesson.id}'s exercises`,
    );
    assert.equal(
      row[3],
      `${lesson.minutes.teach} + ${lesson.minutes.exercises} min`,
      `README.md: ${lesson.id}'s time (taught + exercises)`,
    );
  }
});

/** Lines of the solution long enough to give it away. */
const solutionLines = (source: string): string[] =>
  (source.split(/\/\/ (?:BEGIN|END) SOLUTION/)[1] ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 12);

/** The hints of a check, as written in its `hints: [...]`. */
const hintsOf = (check: string): string[] =>
  [...(check.split(/hints:\s*\[/)[1]?.split(/\]\s*,?\s*\}/)[0] ?? "").matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? "",
  );

test("no hint gives the answer away: none contains a line of the solution", async () => {
  const giveaways: string[] = [];
  for (const lesson of await allLessons()) {
    for (const exercise of lesson.exercises) {
      const hints = hintsOf(exercise.check.source);
      assert.ok(hints.length >= 1, `${lesson.id} ${exercise.id}: no hints found`);
      const code = solutionLines(exercise.answer.source)
        .map((l) => l.replace(/^return\s+/, "").replace(/[;,]$/, ""))
        .filter((l) => l.length > 12);
      for (const hint of hints)
        giveaways.push(
          ...code.filter((line) => hint.includes(line)).map((line) => `${lesson.id} ${exercise.id}: "${hint}" gives away \`${line}\``),
        );
    }
  }
  assert.deepEqual(giveaways, []);
});

test(
  "each plausible wrong answer fails the check the learner sees (hidden tests out) with a message that helps and does not give the solution away",
  LIMIT,
  async () => {
    const uncaught: string[] = [];
    for (const lesson of await allLessons()) {
      const { exercises } = lesson;
      const { instructor: withSolutions, learner } = buildLesson(lesson);
      // The learner's self-check must catch each mistake the lesson foresees; the grader's hidden tests are for the rest.
      const visibleCheck = new Map(learner.cells.filter((c) => c.metadata.rollcall?.role === "check").map((c) => [c.id, c.source]));
      const instructor = withSources(withSolutions, visibleCheck);
      const rounds = Math.max(...exercises.map((e) => e.wrongAnswers.length));
      // Exercises are independent, so one run tries the k-th wrong answer of every exercise at once.
      for (let round = 0; round < rounds; round++) {
        const wrongs = new Map(
          exercises.flatMap((e) => (e.wrongAnswers[round] ? [[e.id, e.wrongAnswers[round]?.source ?? ""] as const] : [])),
        );
        const notebook = withSources(instructor, wrongs);
        const folder = path.join(projectRoot, "build", "wrong");
        await mkdir(folder, { recursive: true });
        const file = path.join(folder, `${lesson.id}.${round}.ipynb`);
        await writeFile(file, serializeNotebook(notebook));
        const result = await runNotebookFile(file, { timeoutMs: 60_000, stopOnError: false });
        assert.ok(result.ok, result.ok ? "" : result.problems.map(formatProblem).join("\n"));
        const reports = new Map(checkReports(result.value.notebook).map((r) => [r.exercise, r]));
        for (const exercise of exercises.filter((e) => wrongs.has(e.id))) {
          const report = reports.get(exercise.id);
          const where = `${lesson.id} ${exercise.id}, wrong answer ${round + 1}`;
          if (report?.status !== "fail") {
            uncaught.push(`${where}: the check did not fail it:\n${report?.text}`);
            continue;
          }
          const failures = report?.tests.filter((t) => t.status !== "pass") ?? [];
          assert.ok(failures.length > 0 && failures.every((t) => t.message.length > 10), `${where}: say what was expected`);
          for (const line of solutionLines(exercise.answer.source)) {
            assert.ok(!report?.text.includes(line), `${where}: the report gives away the solution line '${line}'`);
          }
        }
      }
    }
    assert.deepEqual(uncaught, []);
  },
);
