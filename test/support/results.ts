/** Hand-made grader results for the report tests. */
import { totalPoints, type LearnerResults, type Status, type TestOutcome } from "../../src/engine/results.js";

export const EXERCISES = [
  { id: "add-student", points: 3 },
  { id: "last-student", points: 2 },
  { id: "count-rows", points: 1 },
] as const;

export const outcome = (
  exercise: string,
  name: string,
  points: number,
  max_points: number,
  status: Status = points === max_points ? "pass" : "fail",
  extra: Partial<TestOutcome> = {},
): TestOutcome => ({
  name,
  status,
  task_id: EXERCISES.findIndex((e) => e.id === exercise) + 1,
  exercise,
  points,
  max_points,
  ...extra,
});

export const results = (learner: string, tests: TestOutcome[], extra: Partial<LearnerResults> = {}): LearnerResults => ({
  version: 3,
  status: tests.some((t) => t.status === "error") ? "error" : tests.every((t) => t.status === "pass") ? "pass" : "fail",
  tests,
  score: totalPoints(tests),
  max_score: 6,
  learner,
  lesson: "keeping-a-roster",
  notes: [],
  ...extra,
});
