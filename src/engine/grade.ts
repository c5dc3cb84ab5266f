/**
 * One submission, start to end: bytes → notebook → plan → run in a contained
 * worker → score → results and feedback. A learner's outcome is always a
 * result; only a bug in rollcall throws.
 */
import { TAMPER_TEST, type CheckResult } from "../check.js";
import { buildLesson, type LessonTests } from "./build.js";
import { renderFeedback } from "./feedback.js";
import { planSubmission, type GradingPlan } from "./grade-plan.js";
import type { CellOutcome, Limits, WorkerPool } from "./grade-pool.js";
import { parseLesson, type Lesson } from "./lesson.js";
import { parseNotebook, type Notebook, type Output } from "./notebook.js";
import { failed, formatProblem, ok, type Result } from "./problem.js";
import { OUTPUT_CAP, summarize, type LearnerResults, type TestOutcome } from "./results.js";

export interface GradableLesson {
  readonly lesson: Lesson;
  readonly tests: LessonTests;
  /** What "rollcall" exports, handed to every lesson check from the trusted module. */
  readonly helperNames: readonly string[];
}

export function gradableLesson(text: string, file: string, helperNames: readonly string[]): Result<GradableLesson> {
  const lesson = parseLesson(text, file);
  if (!lesson.ok) return lesson;
  // A module namespace may carry interop names ("default", "__esModule") that are no helpers.
  const names = helperNames.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default" && n !== "__esModule");
  return ok({ lesson: lesson.value, tests: buildLesson(lesson.value).tests, helperNames: names });
}

export interface Graded {
  readonly results: LearnerResults;
  readonly feedback: string;
}

const MAX_RUNS = 4;

/** Splits an exercise's points over its tests by weight, in cents, so that they add up exactly. */
export function splitPoints(points: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (points * 100 * w) / total);
  const cents = exact.map(Math.floor);
  let left = Math.round(points * 100) - cents.reduce((a, b) => a + b, 0);
  for (const i of exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)) {
    if (left-- <= 0) break;
    cents[i] = (cents[i] ?? 0) + 1;
  }
  return cents.map((c) => c / 100);
}

const maxScoreOf = (tests: LessonTests): number => tests.exercises.reduce((sum, e) => sum + e.points, 0);

/** A result for a submission that could not be run at all: every exercise 0, and why. */
export function unreadable(learner: string, grading: GradableLesson, message: string): LearnerResults {
  const tests = grading.tests.exercises.map((e, i): TestOutcome => ({ name: e.id, status: "error", message, task_id: i + 1, exercise: e.id, points: 0, max_points: e.points }));
  return summarize(learner, grading.lesson.id, tests, maxScoreOf(grading.tests), [], message);
}

function readSubmission(bytes: Uint8Array, file: string, grading: GradableLesson): Result<Notebook> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return failed([{ file, message: "this file is not UTF-8 text, so it cannot be a notebook; download the notebook again from Jupyter (File → Download) and resubmit" }]);
  }
  const notebook = parseNotebook(text, file);
  if (!notebook.ok) return notebook;
  const meta = notebook.value.metadata.rollcall as { lesson?: unknown } | undefined;
  const id = grading.lesson.id;
  if (typeof meta?.lesson === "string" && meta.lesson !== id) {
    return failed([{ file, message: `this is the notebook of lesson '${meta.lesson}', not '${id}'; submit notebooks/${id}.ipynb` }]);
  }
  const exercises = new Set(grading.tests.exercises.map((e) => e.id));
  if (!notebook.value.cells.some((c) => c.metadata.rollcall?.role === "answer" && exercises.has(c.metadata.rollcall.exercise))) {
    return failed([{ file, message: `this notebook has none of lesson '${id}''s exercises; is it the right file?` }]);
  }
  return notebook;
}

/** Runs the plan's cells; when a worker dies on a cell, a fresh one runs the rest without it. */
async function runPlan(plan: GradingPlan, pool: WorkerPool, limits: Limits): Promise<CellOutcome[]> {
  const sources = plan.cells.map((c) => c.source);
  const final: (CellOutcome | undefined)[] = [];
  const skip = new Set<number>();
  for (let attempt = 0; attempt < MAX_RUNS; attempt++) {
    const worker = await pool.acquire();
    const run = await worker.run(sources.map((s, i) => (skip.has(i) ? "" : s)), limits);
    pool.release(worker, run.reusable);
    if (run.lost) continue;
    run.outcomes.forEach((o, i) => { if (o && !skip.has(i)) final[i] ??= o; });
    if (!run.stoppedAt) break;
    const { index, status, message, wholeRun } = run.stoppedAt;
    final[index] = { status, outputs: run.outcomes[index]?.outputs ?? [], reports: [], message };
    if (wholeRun) {
      for (let i = index + 1; i < sources.length; i++) final[i] ??= { status: "skipped", outputs: [], reports: [], message };
      break;
    }
    skip.add(index);
    if (sources.every((_, i) => final[i] !== undefined)) break; // it stopped at the last cell: nothing left to run
  }
  return sources.map((_, i) => final[i] ?? { status: "skipped", outputs: [], reports: [], message: "not run: the grader gave up after the code stopped it several times" });
}

const textOf = (outputs: readonly Output[], name: "stdout" | "stderr"): string =>
  outputs.map((o) => (o.output_type === "stream" && o.name === name ? o.text : "")).join("");

/**
 * What went wrong, without the lesson's code: tslab prints a failing line of
 * the cell (which, in a check cell, would show hidden tests), so only
 * TypeScript's messages and the error's own first line are kept.
 */
export function errorSummary(stderr: string): string {
  const diagnostic = /^\d+:\d+ - (.+)$/m.exec(stderr);
  if (diagnostic?.[1]) return `TypeScript: ${diagnostic[1]}`;
  const thrown = /^([A-Z]\w*(?:Error|Exception)|Error): (.+)$/m.exec(stderr);
  if (thrown) return `${thrown[1]}: ${thrown[2]}`.slice(0, 300);
  return "it stopped with an error";
}

function testsFromReport(report: CheckResult, points: number, taskId: number, output: string): TestOutcome[] {
  const shares = splitPoints(points, report.tests.map((t) => t.maxPoints));
  // While the stub is still there the exercise is not attempted: no test earns points.
  const notDone = report.status === "todo";
  return report.tests.map((t, i): TestOutcome => {
    const share = shares[i] ?? 0;
    const status = t.status === "pass" && !notDone ? "pass" : t.name === TAMPER_TEST ? "error" : "fail";
    const message = notDone ? "not done yet: the answer still has the TODO stub" : t.message;
    return {
      name: t.name, status, ...(status === "pass" ? {} : { message }), ...(i === 0 && output ? { output } : {}),
      task_id: taskId, exercise: report.exercise, points: status === "pass" ? share : 0, max_points: share,
    };
  });
}

export function scoreSubmission(learner: string, grading: GradableLesson, plan: GradingPlan, outcomes: readonly CellOutcome[]): LearnerResults {
  const tests = grading.tests.exercises.flatMap((exercise, i): TestOutcome[] => {
    const taskId = i + 1;
    const error = (message: string): TestOutcome[] => [{ name: exercise.id, status: "error", message, task_id: taskId, exercise: exercise.id, points: 0, max_points: exercise.points }];
    const checkAt = plan.cells.findIndex((c) => c.kind === "check" && c.exercise === exercise.id);
    if (checkAt < 0) return error("no answer cell for this exercise was found (deleted?); the lesson's notebook has it");
    const outcome = outcomes[checkAt];
    const report = outcome?.reports.find((r) => r.exercise === exercise.id);
    const printed = textOf(outcome?.outputs ?? [], "stdout");
    if (report && report.tests.length) return testsFromReport(report, exercise.points, taskId, printed.slice(0, OUTPUT_CAP));
    const answerAt = plan.cells.findIndex((c, index) => index < checkAt && c.kind === "learner" && c.cellId === exercise.answerCell);
    const answer = outcomes[answerAt];
    if (answer && answer.status !== "ok") return error(answer.message ?? `your answer cell did not run: ${errorSummary(textOf(answer.outputs, "stderr"))}`);
    if (outcome && outcome.status !== "ok") return error(outcome.message ?? `the checks could not run with your answer: ${errorSummary(textOf(outcome.outputs, "stderr"))}`);
    return error("the check gave no result");
  });
  return summarize(learner, grading.lesson.id, tests, maxScoreOf(grading.tests), plan.notes);
}

export async function gradeSubmission(learner: string, file: string, bytes: Uint8Array, grading: GradableLesson, pool: WorkerPool, limits: Limits): Promise<Graded> {
  const context = { title: grading.lesson.title, exercises: grading.tests.exercises };
  const notebook = readSubmission(bytes, file, grading);
  if (!notebook.ok) {
    const results = unreadable(learner, grading, notebook.problems.map(formatProblem).join("; "));
    return { results, feedback: renderFeedback(results, { ...context, answers: new Map() }) };
  }
  const plan = planSubmission(notebook.value, grading.tests, grading.helperNames);
  const results = scoreSubmission(learner, grading, plan, await runPlan(plan, pool, limits));
  return { results, feedback: renderFeedback(results, { ...context, answers: plan.answers }) };
}
