/**
 * A learner's results as Gradescope's autograder reads them (results.json in
 * /autograder/results/): a test per lesson test, the lesson's hidden tests shown
 * only after the due date. Pure: results in, object out.
 */
import { formatPoints, testLabel, totalPoints, type LearnerResults } from "./results.js";

/** Gradescope's visibility values that rollcall uses: the hidden tests wait for the due date. */
export type GradescopeVisibility = "visible" | "after_due_date" | "hidden";

export interface GradescopeTest {
  readonly name: string;
  readonly score: number;
  readonly max_score: number;
  readonly status: "passed" | "failed";
  readonly output: string;
  readonly visibility: GradescopeVisibility;
}

export interface GradescopeResults {
  readonly score: number;
  /** Seconds. */
  readonly execution_time: number;
  readonly output: string;
  /** The autograder's stdout is the grader's log, for the instructor only. */
  readonly stdout_visibility: "hidden";
  readonly tests: readonly GradescopeTest[];
}

/**
 * What the whole submission shows, always, to the learner: the visible tests' points
 * only (with the hidden tests' in it, a learner could subtract their way to how the
 * hidden tests went, before the due date), the grader's error if any, and its notes.
 */
function summary(results: LearnerResults): string {
  const visible = results.tests.filter((t) => !t.hidden);
  const hidden = results.tests.length - visible.length;
  const points = `${formatPoints(totalPoints(visible))} of ${formatPoints(visible.reduce((sum, t) => sum + t.max_points, 0))} points`;
  const lines = [
    `${results.lesson}: ${points}${hidden ? ` in the visible tests; ${hidden === 1 ? "1 more test counts" : `${hidden} more tests count`} after the due date` : ""}`,
  ];
  if (results.message !== undefined) lines.push(results.message);
  lines.push(...results.notes.map((n) => `note: ${n}`));
  return lines.join("\n");
}

/**
 * @example
 * gradescopeResults(results, 12.3).tests[0];
 * // { name: "last-student: the last of two names", score: 0.5, max_score: 0.5, status: "passed", output: "passed", visibility: "visible" }
 */
export function gradescopeResults(results: LearnerResults, executionSeconds: number): GradescopeResults {
  return {
    score: results.score,
    execution_time: Math.round(executionSeconds * 10) / 10,
    output: summary(results),
    stdout_visibility: "hidden",
    tests: results.tests.map((t) => ({
      name: testLabel(t),
      score: t.points,
      max_score: t.max_points,
      status: t.status === "pass" ? "passed" : "failed",
      output: [t.status === "pass" ? "passed" : (t.message ?? t.status), ...(t.output ? [`your code printed:\n${t.output}`] : [])].join(
        "\n",
      ),
      visibility: t.hidden ? "after_due_date" : "visible",
    })),
  };
}
