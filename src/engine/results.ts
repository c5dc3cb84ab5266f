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
  /** A test the learner's copy leaves out (the lesson's hidden tests): reports that show tests to learners hold it back until they may. */
  readonly hidden?: true;
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
  /** The submission this result is of (its path, resolved) and a digest of its bytes: a rerun trusts a result only for the same file and bytes. */
  readonly source?: string;
  /** The learner's name as the submission gave it (file or folder name), before it was made safe for a file name: an LMS login such as "ada@school.edu". */
  readonly submitted_as?: string;
  readonly submission_sha256?: string;
}

/** How much of what a learner's code printed a test's `output` keeps. */
export const OUTPUT_CAP = 500;

/** Points are shown to two decimals; sums are taken on the rounded values so that JSON and CSV agree. */
export const roundPoints = (n: number): number => Math.round(n * 100) / 100;

/** 1.5, 2, 0.67: points as every report writes them, two decimals at most, no trailing zeros. */
export const formatPoints = (n: number): string => String(roundPoints(n));

/** The points these tests scored: the sum of their rounded points, rounded. */
export const totalPoints = (tests: readonly Pick<TestOutcome, "points">[]): number =>
  roundPoints(tests.reduce((sum, t) => sum + roundPoints(t.points), 0));

/** The points one learner scored on one exercise, as the results, the gradebook and the feedback all count them. */
export const exercisePoints = (results: Pick<LearnerResults, "tests">, exercise: string): number =>
  totalPoints(results.tests.filter((t) => t.exercise === exercise));

/** A test's name as a report lists it among all the lesson's: "last-student: the last of two names" (an exercise's error outcome is named by the exercise already). */
export const testLabel = (t: Pick<TestOutcome, "name" | "exercise">): string =>
  t.name === t.exercise ? t.name : `${t.exercise}: ${t.name}`;

/** What one field of a result may hold: learners' code writes into messages and output, so every text is capped. */
const TEXT_CAPS = { name: 300, message: 1000, note: 300, notes: 20 } as const;

/** `text` in at most `max` characters, ending in … when cut; never between the two halves of an emoji. */
const cut = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 2)) ? max - 2 : max - 1; // a high surrogate's pair would be cut off
  return `${text.slice(0, end)}…`;
};

function cappedTest(t: TestOutcome): TestOutcome {
  return {
    ...t,
    name: cut(t.name, TEXT_CAPS.name),
    ...(t.message !== undefined ? { message: cut(t.message, TEXT_CAPS.message) } : {}),
    ...(t.output !== undefined ? { output: cut(t.output, OUTPUT_CAP) } : {}),
  };
}

/** A result that fits in `maxBytes` of JSON: outputs go first, then messages are cut short. */
export function capResults(results: LearnerResults, maxBytes: number): LearnerResults {
  const size = (r: LearnerResults): number => Buffer.byteLength(JSON.stringify(r, null, 2));
  if (size(results) <= maxBytes) return results;
  const quiet: LearnerResults = { ...results, tests: results.tests.map(({ output: _, ...t }) => t) };
  if (size(quiet) <= maxBytes) return quiet;
  return {
    ...quiet,
    tests: quiet.tests.map((t) => ({ ...t, ...(t.message !== undefined ? { message: cut(t.message, 80) } : {}) })),
    notes: quiet.notes.slice(0, 3),
  };
}

export function learnerResultsOf(
  learner: string,
  lesson: string,
  rawTests: readonly TestOutcome[],
  maxScore: number,
  rawNotes: readonly string[],
  rawMessage?: string,
): LearnerResults {
  const tests = rawTests.map(cappedTest);
  const notes = rawNotes.slice(0, TEXT_CAPS.notes).map((n) => cut(n, TEXT_CAPS.note));
  const message = rawMessage === undefined ? undefined : cut(rawMessage, TEXT_CAPS.message);
  const score = totalPoints(tests);
  const status: Status =
    message !== undefined || tests.some((t) => t.status === "error") ? "error" : tests.every((t) => t.status === "pass") ? "pass" : "fail";
  const errors = tests.filter((t) => t.status === "error").map((t) => `${t.exercise}: ${t.message ?? "error"}`);
  const why =
    message ??
    (errors.length
      ? cut(`some tests could not finish: ${errors.slice(0, 3).join("; ")}${errors.length > 3 ? "; …" : ""}`, TEXT_CAPS.message)
      : undefined);
  return { version: 3, status, ...(why !== undefined ? { message: why } : {}), tests, score, max_score: maxScore, learner, lesson, notes };
}
