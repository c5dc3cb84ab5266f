/**
 * The one results contract (Exercism's test-runner results, version 3, plus
 * points), defined once and written through one function.
 */

export type Status = "pass" | "fail" | "error";

export interface TestOutcome {
  readonly name: string;
  readonly status: Status;
  /** Why it did not pass: what was expected, never the test's code. */
  readonly message?: string;
  /** What the learner's code printed, capped. */
  readonly output?: string;
  /** 1-based number of the exercise in the lesson (Exercism's task id). */
  readonly task_id: number;
  /** The exercise's id in the lesson, e.g. "last-student". */
  readonly exercise: string;
  readonly points: number;
  readonly max_points: number;
}

export interface LearnerResults {
  readonly version: 3;
  readonly status: Status;
  /** For status error: what went wrong, in words the learner can act on. */
  readonly message?: string;
  readonly tests: readonly TestOutcome[];
  readonly score: number;
  readonly max_score: number;
  /** rollcall's own fields: whose work, which lesson, what the grader noticed about the notebook. */
  readonly learner: string;
  readonly lesson: string;
  readonly notes: readonly string[];
}

/** How much of what a learner's code printed a test's `output` keeps. */
export const OUTPUT_CAP = 500;

/** Points are shown to two decimals; sums are taken on the rounded values so that JSON and CSV agree. */
export const roundPoints = (n: number): number => Math.round(n * 100) / 100;

export function summarize(learner: string, lesson: string, tests: readonly TestOutcome[], maxScore: number, notes: readonly string[], message?: string): LearnerResults {
  const score = roundPoints(tests.reduce((sum, t) => sum + t.points, 0));
  const status: Status = message !== undefined || tests.some((t) => t.status === "error") ? "error" : tests.every((t) => t.status === "pass") ? "pass" : "fail";
  const errors = tests.filter((t) => t.status === "error").map((t) => `${t.exercise}: ${t.message ?? "error"}`);
  const why = message ?? (errors.length ? `some tests could not finish: ${errors.slice(0, 3).join("; ")}${errors.length > 3 ? "; …" : ""}` : undefined);
  return { version: 3, status, ...(why !== undefined ? { message: why } : {}), tests, score, max_score: maxScore, learner, lesson, notes };
}
