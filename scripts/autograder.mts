#!/usr/bin/env node
/**
 * npm run autograder -- LESSON [--out FILE]
 *
 * Builds the lesson's Gradescope autograder, build/autograder/LESSON.zip: upload it
 * as a programming assignment's autograder (the work is src/engine/autograder-zip.ts).
 */
import path from "node:path";
import { writeAtomically } from "../src/engine/atomic-write.js";
import { autograderEntries, zipEntries } from "../src/engine/autograder-zip.js";
import { loadLesson } from "../src/engine/lesson-files.js";
import { buildDir } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run autograder -- LESSON [--out FILE.zip]";

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, { allowPositionals: true, options: { out: { type: "string" } } });
  if (!parsed) return 2;
  const [lessonId, ...extra] = parsed.positionals;
  if (!lessonId || extra.length) {
    console.error(USAGE);
    return 2;
  }
  const lesson = await loadLesson(lessonId);
  if (!lesson.ok) {
    lesson.problems.forEach((p) => console.error(formatProblem(p)));
    return 2;
  }
  const out = path.resolve(parsed.values.out ?? path.join(buildDir, "autograder", `${lessonId}.zip`));
  const entries = await autograderEntries(lessonId);
  await writeAtomically(out, zipEntries(entries));
  console.log(
    `wrote ${path.relative(process.cwd(), out) || out} (${entries.length} files): upload it as the assignment's autograder on Gradescope`,
  );
  return 0;
}

runMain("autograder", main);
