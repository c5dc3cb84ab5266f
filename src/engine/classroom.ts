/**
 * A learner's results as GitHub Classroom's autograding reporter reads them
 * (classroom-resources/autograding-grading-reporter): the JSON a runner step
 * passes on, base64-encoded, in the env var `<RUNNER ID>_RESULTS`. Pure.
 *
 * The reporter adds up each test's `score` for the points Classroom records, and
 * prints `line_no` and `test_code` beside each test, so those are always set
 * (`line_no` 0 and no `test_code`: a check's code is never shown).
 */
import { testLabel, type LearnerResults, type Status } from "./results.js";

export interface ClassroomTest {
  readonly name: string;
  readonly status: Status;
  readonly score: number;
  readonly message: string;
  readonly test_code: string;
  readonly filename: string;
  readonly line_no: 0;
  readonly duration: number;
}

export interface ClassroomResults {
  readonly version: 1;
  readonly status: Status;
  readonly max_score: number;
  readonly tests: readonly ClassroomTest[];
}

/**
 * @example
 * classroomResults(results).tests[0];
 * // { name: "last-student: the last of two names", status: "pass", score: 0.5, message: "", test_code: "", filename: "", line_no: 0, duration: 0 }
 */
export function classroomResults(results: LearnerResults): ClassroomResults {
  return {
    version: 1,
    status: results.status,
    max_score: results.max_score,
    // The reporter prints every name and message in the Actions log, which the learner can open: a hidden test says only that it is one.
    tests: results.tests.map((t, i) => ({
      name: t.hidden
        ? `${t.exercise}: hidden test ${results.tests.slice(0, i + 1).filter((u) => u.hidden && u.exercise === t.exercise).length}`
        : testLabel(t),
      status: t.status,
      score: t.points,
      message: t.status === "pass" ? "" : t.hidden ? "a hidden test did not pass: try more cases of your own" : (t.message ?? t.status),
      test_code: "",
      filename: "",
      line_no: 0,
      duration: 0,
    })),
  };
}
