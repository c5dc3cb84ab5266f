/**
 * The class gradebook as Canvas imports it (Grades → Import): its identifying
 * columns `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`, then one
 * assignment column named after the lesson, with a `Points Possible` row first.
 * Pure: results in, text out.
 *
 * Canvas matches a row to a student by `ID` (its own user id), `SIS User ID` or
 * `SIS Login ID`; rollcall knows a learner only by the name of the submitted file,
 * so that name is the learner's login: it goes in `SIS Login ID` (and in
 * `Student`, for the eye) as it was submitted, before it was made safe for a file
 * name, and the columns rollcall cannot know stay empty.
 * Name submissions by each learner's Canvas login for the rows to match.
 */
import { stringify } from "csv-stringify/sync";
import { neutralizeFormula } from "./gradebook.js";
import { formatPoints, type LearnerResults } from "./results.js";

export const CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] as const;

/**
 * @example
 * renderCanvasGradebook([results], "01-arrays", 14);
 * // "Student,ID,SIS User ID,SIS Login ID,Section,01-arrays\nPoints Possible,,,,,14\nada,,,ada,,14\n"
 */
export function renderCanvasGradebook(all: readonly LearnerResults[], assignment: string, pointsPossible: number): string {
  const header = [...CANVAS_COLUMNS, neutralizeFormula(assignment)];
  const possible = ["Points Possible", "", "", "", "", formatPoints(pointsPossible)];
  const rows = [...all]
    .sort((a, b) => a.learner.localeCompare(b.learner, "en"))
    .map((r) => {
      // The name as submitted: "ada@school.edu.ipynb" is login ada@school.edu, though its results file is ada_school.edu-1a2b3c4d.
      const login = neutralizeFormula(r.submitted_as ?? r.learner);
      return [login, "", "", login, "", formatPoints(r.score)];
    });
  return stringify([header, possible, ...rows], { record_delimiter: "\n", eof: true });
}
