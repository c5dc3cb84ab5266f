/**
 * The class gradebook: one CSV row per learner, one column per exercise.
 * Pure: results in, text out; writing the file is the caller's job.
 */

import { stringify } from "csv-stringify/sync";
import { exercisePoints, formatPoints, type LearnerResults } from "./results.js";

/** A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Learner names are untrusted: a leading quote makes a spreadsheet show the text instead of running it. */
export const neutralizeFormula = (cell: string): string => (FORMULA_START.test(cell) ? `'${cell}` : cell);

/**
 * The gradebook CSV for a class: `learner,status,<exercise ids…>,score,max_score`,
 * one row per learner sorted by name, `\n` line endings and a trailing newline.
 *
 * @example
 * renderGradebook([results], [{ id: "last-student", points: 2 }]);
 * // "learner,status,last-student,score,max_score\nAda,pass,2,2,2\n"
 */
export function renderGradebook(all: readonly LearnerResults[], exercises: readonly { id: string; points: number }[]): string {
  const header = ["learner", "status", ...exercises.map((e) => e.id), "score", "max_score"].map(neutralizeFormula);
  // Text cells are guarded; number cells are written by us and stay numbers (a guarded "-1" would not be one).
  const rows = [...all]
    .sort((a, b) => a.learner.localeCompare(b.learner, "en"))
    .map((r) => [
      neutralizeFormula(r.learner),
      neutralizeFormula(r.status),
      ...exercises.map((e) => formatPoints(exercisePoints(r, e.id))),
      formatPoints(r.score),
      formatPoints(r.max_score),
    ]);
  return stringify([header, ...rows], { record_delimiter: "\n", eof: true });
}
