#!/usr/bin/env node
/**
 * npm run validate -- LESSON [LESSON...]
 *
 * Grades the lesson's own notebooks with the real grader: the instructor copy
 * must pass every test, the learner copy must fail every exercise (not done
 * yet), and each of the lesson's wrong answers must fail its exercise.
 */
import os from "node:os";
import { chalk } from "zx";
import { buildLesson } from "../src/engine/build.js";
import { gradeSubmission, type GradableLesson } from "../src/engine/grade.js";
import { loadGradableLesson } from "../src/engine/lesson-files.js";
import { DEFAULT_LIMITS, WorkerPool } from "../src/engine/grade-pool.js";
import { serializeNotebook, type Notebook } from "../src/engine/notebook.js";
import { formatProblem } from "../src/engine/problem.js";
import type { LearnerResults } from "../src/engine/results.js";

const pointsOf = (results: LearnerResults, exercise: string): number =>
  results.tests.filter((t) => t.exercise === exercise).reduce((sum, t) => sum + t.points, 0);

async function validate(lessonId: string): Promise<string[]> {
  const grading = await loadGradableLesson(lessonId);
  if (!grading.ok) return grading.problems.map(formatProblem);
  const g: GradableLesson = grading.value;
  const pool = new WorkerPool(os.availableParallelism(), DEFAULT_LIMITS, g.checks);
  try {
    return await validateWith(g, pool);
  } finally {
    await pool.close();
  }
}

async function validateWith(g: GradableLesson, pool: WorkerPool): Promise<string[]> {
  const lessonId = g.lesson.id;
  const { learner, instructor } = buildLesson(g.lesson);
  const grade = async (name: string, notebook: Notebook): Promise<LearnerResults> =>
    (await gradeSubmission(name, `${lessonId}/${name}.ipynb`, new TextEncoder().encode(serializeNotebook(notebook)), g, pool, DEFAULT_LIMITS)).results;

  const problems: string[] = [];
  const [teacher, blank] = await Promise.all([grade("instructor", instructor), grade("learner", learner)]);
  for (const t of teacher.tests.filter((t) => t.status !== "pass")) problems.push(`instructor copy: ${t.exercise} › ${t.name}: ${t.message ?? t.status}`);
  for (const exercise of g.tests.exercises) {
    if (pointsOf(blank, exercise.id) !== 0) problems.push(`learner copy: '${exercise.id}' scores points before the learner writes anything`);
    if (!blank.tests.some((t) => t.exercise === exercise.id && /not done yet/.test(t.message ?? ""))) problems.push(`learner copy: '${exercise.id}' does not say "not done yet"`);
  }
  // Every wrong answer in the lesson, each tried in the instructor copy in place of the solution.
  const tries = g.tests.exercises.flatMap((exercise) => exercise.wrongAnswers.map((wrong, i) => ({ exercise, wrong, i })));
  const wrongs = await Promise.all(tries.map(({ exercise, wrong, i }) => grade(`wrong-${exercise.id}-${i + 1}`, {
    ...instructor,
    cells: instructor.cells.map((c) => (c.id === exercise.answerCell && c.cell_type === "code" ? { ...c, source: wrong } : c)),
  })));
  tries.forEach(({ exercise, i }, k) => {
    const results = wrongs[k];
    if (results && pointsOf(results, exercise.id) >= exercise.points) problems.push(`wrong answer ${i + 1} of '${exercise.id}' gets full marks: its check does not catch it`);
  });
  const verdict = problems.length ? chalk.red("✗") : chalk.green("✓");
  console.log(`${verdict} ${lessonId}: instructor ${teacher.score}/${teacher.max_score}, learner ${blank.score}/${blank.max_score}, ${tries.length} wrong answers tried`);
  return problems;
}

async function main(): Promise<number> {
  const lessons = process.argv.slice(2);
  if (lessons.length === 0) {
    console.error("usage: npm run validate -- LESSON [LESSON...]   (e.g. 01-arrays)");
    return 2;
  }
  let problems: string[] = [];
  for (const lesson of lessons) problems = problems.concat(await validate(lesson));
  problems.forEach((p) => console.error(`  ${p}`));
  return problems.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(chalk.red(`rollcall validate failed: ${(error as Error).message}`));
  process.exitCode = 1;
});
