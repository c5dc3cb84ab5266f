/**
 * One submission, start to end: bytes → notebook → plan → run in a contained
 * worker → score → results and feedback. A learner's outcome is always a
 * result; only a bug in rollcall throws.
 */
import { SETUP_TEST } from "../check.js";
import { buildLesson, type LessonTests } from "./build.js";
import type { CheckVerdict, CompiledCheck } from "./check-realm.js";
import { compileCheck, declaredTests, topLevelNames, type DeclaredTest } from "./check-source.js";
import { renderFeedback } from "./feedback.js";
import { planSubmission, type GradingPlan } from "./grade-plan.js";
import type { Limits, WorkerPool } from "./grade-pool.js";
import { parseLesson, type Lesson } from "./lesson.js";
import { parseNotebook, type Notebook, type Output } from "./notebook.js";
import { removeMarkerLines, stripHiddenTests } from "./markers.js";
import { failed, formatProblem, ok, type Problem, type Result } from "./problem.js";
import { OUTPUT_CAP, learnerResultsOf, type LearnerResults, type TestOutcome } from "./results.js";
import { skippedCell, type CellOutcome } from "./run.js";

export interface GradableLesson {
  readonly lesson: Lesson;
  readonly tests: LessonTests;
  /** Each exercise's check, compiled for the workers' check realm. */
  readonly checks: readonly CompiledCheck[];
  /** Each exercise's tests as the lesson declares them: what a verdict must match, one to one, the weights, and which are hidden. */
  readonly declared: ReadonlyMap<string, readonly LessonTest[]>;
}

/** A declared test, and whether the learner's copy leaves it out (it sits between the HIDDEN TESTS markers). */
export interface LessonTest extends DeclaredTest {
  readonly hidden: boolean;
}

/** The check's tests, each marked hidden when the learner's copy of the check does not declare it. */
function lessonTests(declared: readonly DeclaredTest[], markedCheck: string): LessonTest[] {
  const visible = new Set(declaredTests(stripHiddenTests(markedCheck)).tests.map((t) => t.name));
  return declared.map((t) => ({ ...t, hidden: !visible.has(t.name) }));
}

/**
 * A lesson ready to grade: its checks compiled, each taking from the learner's
 * notebook only names that an answer cell declares. A name a check needs from a
 * locked lesson cell is the lesson's own: that cell's code runs in the check realm.
 */
export function gradableLesson(text: string, file: string, helperNames: readonly string[]): Result<GradableLesson> {
  const lesson = parseLesson(text, file);
  if (!lesson.ok) return lesson;
  // A module namespace may carry interop names ("default", "__esModule") that are no helpers.
  const helpers = helperNames.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default" && n !== "__esModule");
  const tests = buildLesson(lesson.value).tests;
  const answered = new Set(lesson.value.exercises.flatMap((e) => topLevelNames(removeMarkerLines(e.answer.source))));
  const checkLines = new Map(lesson.value.exercises.map((e) => [e.id, e.check.line]));
  const markedChecks = new Map(lesson.value.exercises.map((e) => [e.id, e.check.source]));
  const locked = tests.lockedCells.map((c) => ({ source: c.source.replace(/^\s*import\b.*$/gm, ""), names: topLevelNames(c.source) }));
  const problems: Problem[] = [];
  const checks: CompiledCheck[] = [];
  const declared = new Map<string, readonly LessonTest[]>();
  for (const exercise of tests.exercises) {
    const line = checkLines.get(exercise.id) ?? 1;
    const found = declaredTests(exercise.check);
    problems.push(...found.problems.map((p) => ({ file, line: line + (p.line ?? 1) - 1, message: `check=${exercise.id}: ${p.message}` })));
    if (!found.tests.length) problems.push({ file, line, message: `check=${exercise.id} declares no tests (t.equal, t.ok or t.throws)` });
    declared.set(exercise.id, lessonTests(found.tests, markedChecks.get(exercise.id) ?? ""));
    const compiled = compileCheck(exercise.id, exercise.check, helpers, locked);
    for (const name of compiled.uses.filter((n) => !answered.has(n))) {
      problems.push({
        file,
        line,
        message: `check=${exercise.id} uses '${name}', which no answer cell declares: the grader would take it from the learner's notebook. Define it in the check, in a locked cell (\`\`\`ts locked), or import it from "rollcall"`,
      });
    }
    checks.push(compiled);
  }
  return problems.length ? failed(problems) : ok({ lesson: lesson.value, tests, checks, declared });
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
  for (const i of exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0])
    .map(([, i]) => i)) {
    if (left-- <= 0) break;
    cents[i] = (cents[i] ?? 0) + 1;
  }
  return cents.map((c) => c / 100);
}

const maxScoreOf = (tests: LessonTests): number => tests.exercises.reduce((sum, e) => sum + e.points, 0);

/** A result for a submission that could not be run at all: every exercise 0, and why. */
export function unreadable(learner: string, grading: GradableLesson, message: string): LearnerResults {
  const tests = grading.tests.exercises.map((e, i): TestOutcome => ({
    name: e.id,
    status: "error",
    message,
    task_id: i + 1,
    exercise: e.id,
    points: 0,
    max_points: e.points,
  }));
  return learnerResultsOf(learner, grading.lesson.id, tests, maxScoreOf(grading.tests), [], message);
}

function readSubmission(bytes: Uint8Array, file: string, grading: GradableLesson): Result<Notebook> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return failed([
      {
        file,
        message:
          "this file is not UTF-8 text, so it cannot be a notebook; download the notebook again from Jupyter (File → Download) and resubmit",
      },
    ]);
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

/**
 * Runs the plan's cells through the kernel seam, one by one. When a kernel dies
 * on a cell (or is stopped there), a fresh one runs the cells again without it,
 * the first outcome of each counting. The notebook's time limit is wall clock
 * over every retry, from its first cell.
 */
async function runPlan(plan: GradingPlan, pool: WorkerPool, limits: Limits): Promise<{ outcomes: CellOutcome[]; notes: string[] }> {
  const overdue = `stopped: the notebook ran past its ${limits.submissionTimeoutMs / 1000} s limit`;
  const final: (CellOutcome | undefined)[] = [];
  const notes: string[] = [];
  const skip = new Set<number>();
  let deadline: number | undefined;
  const done = (): boolean => plan.cells.every((_, i) => final[i] !== undefined);
  for (let attempt = 0; attempt < MAX_RUNS && !done(); attempt++) {
    const kernel = await pool.acquire();
    deadline ??= performance.now() + limits.submissionTimeoutMs;
    await kernel.beginLearner();
    for (const [i, cell] of plan.cells.entries()) {
      if (skip.has(i) || !kernel.alive) continue;
      const left = deadline - performance.now();
      if (left <= 0) break;
      const options = { timeoutMs: Math.min(limits.cellTimeoutMs, left), maxOutputChars: limits.maxOutputChars };
      const ran = cell.kind === "check" ? await kernel.check(cell.exercise, options) : await kernel.execute(cell.source, options);
      const outOfTime = ran.status === "timeout" && left < limits.cellTimeoutMs;
      final[i] ??= outOfTime ? { ...ran, message: overdue } : ran;
      if (!kernel.alive) skip.add(i); // the rest runs again in a fresh kernel, without this cell
    }
    if (kernel.alive) {
      const { recycle } = await kernel.endLearner();
      if (recycle) notes.push(`the grader started a fresh worker after this notebook: ${recycle}`);
      pool.release(kernel, !recycle && kernel.alive && kernel.learners < limits.submissionsPerWorker);
    } else pool.release(kernel, false);
    if (performance.now() >= deadline) {
      plan.cells.forEach((_, i) => {
        final[i] ??= skippedCell(overdue);
      });
    }
  }
  const outcomes = plan.cells.map(
    (_, i): CellOutcome => final[i] ?? skippedCell("not run: the grader gave up after the code stopped it several times"),
  );
  return { outcomes, notes };
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

/** A verdict scored by the lesson's own weights: its tests must be the lesson's, in order, one to one. */
function testsFromVerdict(
  verdict: CheckVerdict,
  declared: readonly LessonTest[],
  points: number,
  taskId: number,
  output: string,
): TestOutcome[] {
  const shares = splitPoints(
    points,
    declared.map((t) => t.weight),
  );
  // While the stub is still there the exercise is not attempted: no test earns points.
  const notDone = verdict.status === "todo";
  const { ran, setup } = splitSetup(verdict);
  return declared.map((test, i): TestOutcome => {
    const found = ran[i];
    const share = shares[i] ?? 0;
    const status = found?.status === "pass" && !notDone ? "pass" : "fail";
    const message = notDone
      ? "not done yet: the answer still has the TODO stub"
      : (found?.message ?? `not run: the check stopped before this test (${setup?.message ?? "no reason given"})`);
    return {
      name: test.name,
      status,
      ...(status === "pass" ? {} : { message }),
      ...(i === 0 && output ? { output } : {}),
      task_id: taskId,
      exercise: verdict.exercise,
      points: status === "pass" ? share : 0,
      max_points: share,
      ...(test.hidden ? { hidden: true as const } : {}),
    };
  });
}

/** The tests that ran, and the check's own crash that stopped the rest, if any. */
function splitSetup(verdict: CheckVerdict): { ran: CheckVerdict["tests"]; setup?: CheckVerdict["tests"][number] } {
  const at = verdict.tests.findIndex((t) => t.name === SETUP_TEST);
  return at < 0 ? { ran: verdict.tests } : { ran: verdict.tests.slice(0, at), setup: verdict.tests[at] };
}

/** The verdict's tests are the lesson's, in order; all of them, unless the check crashed after some. */
function sameTests(verdict: CheckVerdict, declared: readonly DeclaredTest[]): boolean {
  const { ran, setup } = splitSetup(verdict);
  if (verdict.tests.length !== ran.length + (setup ? 1 : 0)) return false;
  if (!setup && ran.length !== declared.length) return false;
  return ran.length <= declared.length && ran.every((t, i) => t.name === declared[i]?.name);
}

export function scoreSubmission(
  learner: string,
  grading: GradableLesson,
  plan: GradingPlan,
  outcomes: readonly CellOutcome[],
  runNotes: readonly string[] = [],
): LearnerResults {
  const notes = [...plan.notes, ...runNotes];
  const tests = grading.tests.exercises.flatMap((exercise, i): TestOutcome[] => {
    const taskId = i + 1;
    const error = (message: string): TestOutcome[] => [
      { name: exercise.id, status: "error", message, task_id: taskId, exercise: exercise.id, points: 0, max_points: exercise.points },
    ];
    const checkAt = plan.cells.findIndex((c) => c.kind === "check" && c.exercise === exercise.id);
    if (checkAt < 0) return error("no answer cell for this exercise was found (deleted?); the lesson's notebook has it");
    const outcome = outcomes[checkAt];
    const verdict = outcome?.status === "skipped" ? undefined : outcome?.check;
    const declared = grading.declared.get(exercise.id) ?? [];
    const printed = textOf(outcome?.outputs ?? [], "stdout");
    const answerAt = plan.cells.findIndex((c, index) => index < checkAt && c.kind === "learner" && c.cellId === exercise.answerCell);
    const answer = outcomes[answerAt];
    const answerFailed =
      answer && answer.status !== "ok"
        ? error(answer.message ?? `your answer cell did not run: ${errorSummary(textOf(answer.outputs, "stderr"))}`)
        : undefined;
    // An answer cell that failed explains a check that passed nothing better than the check does.
    if (answerFailed && !(verdict?.ok && verdict.value.tests.some((t) => t.status === "pass"))) return answerFailed;
    if (verdict?.ok) {
      if (verdict.value.exercise === exercise.id && sameTests(verdict.value, declared))
        return testsFromVerdict(verdict.value, declared, exercise.points, taskId, printed.slice(0, OUTPUT_CAP));
      notes.push(
        `the results for '${exercise.id}' did not match the lesson's tests, so they were not believed (tampering?); the exercise scored 0`,
      );
      return error("the grader could not believe this check's results (they did not match the lesson's tests)");
    }
    if (outcome && outcome.status !== "ok")
      return error(outcome.message ?? `the checks could not run with your answer: ${errorSummary(textOf(outcome.outputs, "stderr"))}`);
    return error(verdict ? verdict.problems.map(formatProblem).join("; ") : "the check gave no result");
  });
  return learnerResultsOf(learner, grading.lesson.id, tests, maxScoreOf(grading.tests), notes);
}

export async function gradeSubmission(
  learner: string,
  file: string,
  bytes: Uint8Array,
  grading: GradableLesson,
  pool: WorkerPool,
  limits: Limits,
): Promise<Graded> {
  const context = { title: grading.lesson.title, exercises: grading.tests.exercises };
  const notebook = readSubmission(bytes, file, grading);
  if (!notebook.ok) {
    const results = unreadable(learner, grading, notebook.problems.map(formatProblem).join("; "));
    return { results, feedback: renderFeedback(results, { ...context, answers: new Map() }) };
  }
  const plan = planSubmission(notebook.value, grading.tests);
  const { outcomes, notes } = await runPlan(plan, pool, limits);
  const results = scoreSubmission(learner, grading, plan, outcomes, notes);
  return { results, feedback: renderFeedback(results, { ...context, answers: plan.answers }) };
}
