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
import { serializeNotebook, withSources, type Notebook } from "../src/engine/notebook.js";
import { formatProblem, type Problem } from "../src/engine/problem.js";
import { exercisePoints, type LearnerResults } from "../src/engine/results.js";
import { runMain } from "./run-main.mjs";

async function validate(lessonId: string): Promise<readonly Problem[]> {
  const grading = await loadGradableLesson(lessonId);
  if (!grading.ok) return grading.problems;
  const g: GradableLesson = grading.value;
  const pool = new WorkerPool(os.availableParallelism(), DEFAULT_LIMITS, g.checks);
  try {
    return await validateWith(g, pool);
  } finally {
    await pool.close();
  }
}

async function validateWith(g: GradableLesson, pool: WorkerPool): Promise<Problem[]> {
  const lessonId = g.lesson.id;
  const { learner, instructor } = buildLesson(g.lesson);
  const grade = async (name: string, notebook: Notebook): Promise<LearnerResults> =>
    (
      await gradeSubmission(
        name,
        `${lessonId}/${name}.ipynb`,
        new TextEncoder().encode(serializeNotebook(notebook)),
        g,
        pool,
        DEFAULT_LIMITS,
      )
    ).results;

  const problems: Problem[] = [];
  const file = g.lesson.file;
  const exercises = new Map(g.lesson.exercises.map((e) => [e.id, e]));
  const [teacher, blank] = await Promise.all([grade("instructor", instructor), grade("learner", learner)]);
  for (const t of teacher.tests.filter((t) => t.status !== "pass")) {
    problems.push({
      file,
      line: exercises.get(t.exercise)?.check.line,
      message: `instructor copy: ${t.exercise} › ${t.name}: ${t.message ?? t.status}`,
    });
  }
  for (const exercise of g.tests.exercises) {
    const line = exercises.get(exercise.id)?.answer.line;
    if (exercisePoints(blank, exercise.id) !== 0)
      problems.push({ file, line, message: `learner copy: '${exercise.id}' scores points before the learner writes anything` });
    if (!blank.tests.some((t) => t.exercise === exercise.id && /not done yet/.test(t.message ?? "")))
      problems.push({ file, line, message: `learner copy: '${exercise.id}' does not say "not done yet"` });
  }
  // Every wrong answer in the lesson, each tried in the instructor copy in place of the solution.
  const tries = g.tests.exercises.flatMap((exercise) => exercise.wrongAnswers.map((wrong, i) => ({ exercise, wrong, i })));
  const wrongs = await Promise.all(
    tries.map(({ exercise, wrong, i }) =>
      grade(`wrong-${exercise.id}-${i + 1}`, withSources(instructor, { [exercise.answerCell]: wrong })),
    ),
  );
  tries.forEach(({ exercise, i }, k) => {
    const results = wrongs[k];
    const line = exercises.get(exercise.id)?.wrongAnswers[i]?.line;
    if (results && exercisePoints(results, exercise.id) >= exercise.points)
      problems.push({ file, line, message: `wrong answer ${i + 1} of '${exercise.id}' gets full marks: its check does not catch it` });
  });
  const verdict = problems.length ? chalk.red("✗") : chalk.green("✓");
  console.log(
    `${verdict} ${lessonId}: instructor ${teacher.score}/${teacher.max_score}, learner ${blank.score}/${blank.max_score}, ${tries.length} wrong answers tried`,
  );
  return problems;
}

async function main(): Promise<number> {
  const lessons = process.argv.slice(2);
  if (lessons.length === 0) {
    console.error("usage: npm run validate -- LESSON [LESSON...]   (e.g. 01-arrays)");
    return 2;
  }
  const problems: Problem[] = [];
  for (const lesson of lessons) problems.push(...(await validate(lesson)));
  problems.forEach((p) => console.error(`  ${formatProblem(p)}`));
  return problems.length ? 1 : 0;
}

runMain("validate", main);
