/**
 * One learner's folder, graded: what Gradescope (/autograder/submission) and a
 * GitHub Classroom repository hand over. The notebook is found in the folder and
 * graded by the batch grader itself, in a scratch output folder, so that a
 * single learner is graded exactly as a class is. A folder without a notebook is
 * that learner's `error` result, never an exception.
 */
import { lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readResults } from "./class-reports.js";
import { unreadable, type GradableLesson } from "./grade.js";
import { DEFAULT_MAX_BYTES, gradeBatch } from "./grade-batch.js";
import { DEFAULT_LIMITS, type Limits } from "./grade-pool.js";
import { loadGradableLesson } from "./lesson-files.js";
import { ok, type Result } from "./problem.js";
import type { LearnerResults } from "./results.js";

/** Folders a submission's notebook is never in (a repository's machinery, installed packages). */
const SKIPPED = new Set([".git", ".github", "node_modules", ".ipynb_checkpoints"]);
const MAX_DEPTH = 4;

/** Every `.ipynb` regular file under `folder`, a few levels down, sorted; links are not followed. */
async function notebooksUnder(folder: string, depth = 0): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(folder, entry.name);
    if (entry.isFile() && entry.name.toLowerCase().endsWith(".ipynb")) found.push(full);
    else if (entry.isDirectory() && depth < MAX_DEPTH && !SKIPPED.has(entry.name)) found.push(...(await notebooksUnder(full, depth + 1)));
  }
  return found;
}

/** The notebook to grade: the one named after the lesson, or else the only one there is; otherwise what to submit instead. */
export async function findNotebook(folder: string, lessonId: string): Promise<{ file: string } | { problem: string }> {
  if (!(await lstat(folder).catch(() => undefined))?.isDirectory()) return { problem: `there is no submission folder at ${folder}` };
  const all = await notebooksUnder(folder);
  const named = all.filter((f) => path.basename(f) === `${lessonId}.ipynb`);
  const file = named.length === 1 ? named[0] : all.length === 1 ? all[0] : undefined;
  if (file !== undefined) return { file };
  return {
    problem: all.length
      ? `the submission has ${all.length} notebooks (${all.map((f) => path.relative(folder, f)).join(", ")}) and not one ${lessonId}.ipynb: submit only ${lessonId}.ipynb`
      : `the submission has no notebook: submit ${lessonId}.ipynb (in Jupyter, File → Download)`,
  };
}

/** Grades the notebook in `folder` as learner `learner`; the scratch output folder is removed afterwards. */
export async function gradeFolder(
  folder: string,
  grading: GradableLesson,
  learner: string,
  limits: Limits = DEFAULT_LIMITS,
): Promise<LearnerResults> {
  const lessonId = grading.lesson.id;
  const found = await findNotebook(folder, lessonId);
  if ("problem" in found) return unreadable(learner, grading, found.problem);
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-grade-"));
  try {
    await gradeBatch([found.file], grading, { lessonId, out, jobs: 1, force: true, limits, maxBytes: DEFAULT_MAX_BYTES });
    const [results] = await readResults(path.join(out, "results"), lessonId);
    // The batch names a learner after the file; here the caller knows who it is.
    return results
      ? { ...results, learner }
      : unreadable(learner, grading, "the grader wrote no result for this notebook; submit it again");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The lesson `lessonId`, loaded for grading, then the notebook in `folder` graded as `learner`: what a grading service's step runs. */
export async function gradeLessonFolder(lessonId: string, folder: string, learner: string): Promise<Result<LearnerResults>> {
  const grading = await loadGradableLesson(lessonId);
  return grading.ok ? ok(await gradeFolder(folder, grading.value, learner)) : grading;
}
