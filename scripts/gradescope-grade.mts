#!/usr/bin/env node
/**
 * node dist/scripts/gradescope-grade.mjs --lesson LESSON --submission DIR --results FILE
 *
 * What the autograder's run_autograder runs on Gradescope: grades the notebook in
 * DIR (/autograder/submission) with the kit's own grader and writes Gradescope's
 * results.json. Exit 0 whatever the score, as Gradescope expects.
 */
import { writeAtomically } from "../src/engine/atomic-write.js";
import { gradeLessonFolder } from "../src/engine/grade-folder.js";
import { gradescopeResults } from "../src/engine/gradescope.js";
import { formatProblem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: node dist/scripts/gradescope-grade.mjs --lesson LESSON --submission DIR --results FILE";

async function main(): Promise<number> {
  const started = performance.now();
  const parsed = readArgs(USAGE, { options: { lesson: { type: "string" }, submission: { type: "string" }, results: { type: "string" } } });
  if (!parsed) return 2;
  const { lesson: lessonId, submission, results: resultsFile } = parsed.values;
  if (!lessonId || !submission || !resultsFile) {
    console.error(USAGE);
    return 2;
  }
  const results = await gradeLessonFolder(lessonId, submission, "submission");
  if (!results.ok) {
    results.problems.forEach((p) => console.error(formatProblem(p)));
    return 2;
  }
  const seconds = (performance.now() - started) / 1000;
  await writeAtomically(resultsFile, `${JSON.stringify(gradescopeResults(results.value, seconds), null, 2)}\n`);
  console.log(`${lessonId}: ${results.value.score}/${results.value.max_score} (${results.value.status}); wrote ${resultsFile}`);
  return 0;
}

runMain("gradescope-grade", main);
