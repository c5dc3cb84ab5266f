#!/usr/bin/env node
/**
 * npm run classroom -- --lesson LESSON --out FILE.json FOLDER
 *
 * Grades the notebook in FOLDER (a learner's GitHub Classroom repository) with the
 * kit's own grader and writes the JSON GitHub Classroom's autograding reporter
 * reads (src/engine/classroom.ts); the workflow in deploy/github-classroom/ passes
 * it on base64-encoded. Exit 0 whatever the score: the reporter fails the run.
 */
import { writeAtomically } from "../src/engine/atomic-write.js";
import { classroomResults } from "../src/engine/classroom.js";
import { gradeLessonFolder } from "../src/engine/grade-folder.js";
import { formatProblem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run classroom -- --lesson LESSON --out FILE.json FOLDER";

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, { allowPositionals: true, options: { lesson: { type: "string" }, out: { type: "string" } } });
  if (!parsed) return 2;
  const { lesson: lessonId, out } = parsed.values;
  const [folder, ...extra] = parsed.positionals;
  if (!lessonId || !out || !folder || extra.length) {
    console.error(USAGE);
    return 2;
  }
  const results = await gradeLessonFolder(lessonId, folder, process.env.GITHUB_ACTOR ?? "learner");
  if (!results.ok) {
    results.problems.forEach((p) => console.error(formatProblem(p)));
    return 2;
  }
  await writeAtomically(out, `${JSON.stringify(classroomResults(results.value), null, 2)}\n`);
  console.log(`${lessonId}: ${results.value.score}/${results.value.max_score} (${results.value.status}); wrote ${out}`);
  return 0;
}

runMain("classroom", main);
