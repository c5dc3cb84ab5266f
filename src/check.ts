// Self-checks: run a few small tests on your answer and see how it went.
//
// A check never stops your notebook. Whatever your code does (returns a wrong
// value, crashes, or is not written yet), the check reports it and the next
// cells still run.

import escapeHtml from "escape-html";
import { inspect, isDeepStrictEqual } from "node:util";
import { publish } from "./display";
import { isNotDoneYet } from "./not-done-yet";
import { previousCellError } from "./previous-cell";
import { sharePulse } from "./pulse";

/**
 * The tools you use inside `check(...)` to write tests. Each call is one test.
 * @example
 * check("enroll", (t: Tester) => {
 *   t.equal("adds a new name", () => enroll(["Ada"], "Mei"), ["Ada", "Mei"]);
 * });
 */
export interface Tester {
  /**
   * Passes when what `actual` returns deeply equals `expected` (same values, same shape).
   * `actual` is a function, so a crash inside it fails only this test.
   * @example
   * check("first-student", (t) => {
   *   t.equal("the first of three", () => firstStudent(["Ada", "Grace", "Mei"]), "Ada");
   * });
   */
  equal<T>(name: string, actual: () => T, expected: T, options?: { points?: number }): void;
  /**
   * Passes when `actual` returns `true`. Say in `expected` what should be true.
   * @example
   * check("pick-one", (t) => {
   *   t.ok("picks someone from the roster", () => roster.includes(pickOne(roster)), {
   *     expected: "a name from the roster",
   *   });
   * });
   */
  ok(name: string, actual: () => boolean, options?: { points?: number; expected?: string }): void;
  /**
   * Passes when `fn` throws an error.
   * @example
   * check("no-empty-pick", (t) => {
   *   t.throws("refuses an empty list", () => pickOne([]), { expected: "an error for an empty list" });
   * });
   */
  throws(name: string, fn: () => unknown, options?: { points?: number; expected?: string }): void;
  /**
   * Says that grading runs `count` more tests than this check shows you. You do not
   * write this: the course puts it where it took the hidden tests out of your copy.
   * @example
   * check("last-student", (t) => {
   *   t.equal("the last of three", () => lastStudent(["Ada", "Grace", "Alan"]), "Alan");
   *   t.hiddenTests(2); // grading runs 2 more tests, not shown here
   * });
   */
  hiddenTests(count: number): void;
}

/**
 * How one test went: "pass", "fail" (a wrong answer), "error" (your code crashed),
 * or "todo" (the exercise is not written yet). `message` says why when it did not pass.
 * @example
 * const r: TestResult = { name: "the first of three", status: "pass", message: "", points: 1, maxPoints: 1 };
 */
export interface TestResult {
  name: string;
  status: "pass" | "fail" | "error" | "todo";
  message: string;
  points: number;
  maxPoints: number;
}

/**
 * How a whole check went. `score` adds up the points of the tests that passed.
 * @example
 * const result = runCheck("first-student", (t) => { t.equal("first", () => firstStudent(roster), "Ada Lovelace"); });
 * result.status;   // "pass", "fail" or "todo"
 */
export interface CheckResult {
  exercise: string;
  status: "pass" | "fail" | "todo";
  tests: TestResult[];
  score: number;
  maxScore: number;
  /** The hints this report shows: none while "todo" or on a pass, the first few on a "fail". */
  hints: string[];
  /** How many hints the check has in all; more than `hints.length` means the next failing run shows another. */
  hintCount: number;
  /** How many more tests grading runs than this check has (its hidden tests); 0 when none. */
  hiddenTests: number;
  /** Set when the cell run just before the check failed: the first line of its error. The tests did not run then. */
  previousCellError?: string;
}

/**
 * What `check` takes after the tests: the hints for a learner whose answer is not right yet.
 * @example
 * const options: CheckOptions = { hints: ["The first item of a list is at index 0.", "Try names[0]."] };
 */
export interface CheckOptions {
  /** Shown one at a time: the first failing run shows the first hint, the next run two, and so on. */
  hints?: readonly string[];
}

/**
 * What `runCheck` also takes: what `check` knows about this run that the tests cannot.
 * @example
 * runCheck("first-student", define, { hints: ["Use names[0]."], hintsToShow: 2 });
 */
export interface RunCheckOptions extends CheckOptions {
  /** How many hints to show if the check fails (the first ones); 1 unless said. */
  hintsToShow?: number;
  /** The first line of the error of the cell run just before the check. Then no test runs, and the report says to fix that cell. */
  previousCellError?: string;
}

/**
 * Check an exercise: run the tests written in `define` and show a report.
 * It never throws, so "Run All" keeps going. When something is not right yet, each
 * failing run shows one more hint. If the cell you ran just before this check has an
 * error, the check says so and tests nothing: your new code may not have taken effect,
 * and the old code (maybe the TODO stub) is not what you want tested.
 *
 * @example
 * import { check, roster } from "rollcall";
 * check(
 *   "first-student",
 *   (t) => {
 *     t.equal("the first name in the roster", () => firstStudent(roster), "Ada Lovelace");
 *     t.equal("works on another list", () => firstStudent(["Mei", "Yuki"]), "Mei");
 *   },
 *   { hints: ["The first item of a list is at index 0.", "Try names[0]."] },
 * );
 */
export function check(exercise: string, define: (t: Tester) => void, options: CheckOptions = {}): void {
  try {
    const cellError = previousCellError();
    const failedBefore = failedRuns.get(exercise) ?? 0;
    const result = runCheck(exercise, define, {
      hints: options?.hints ?? [], // `?.`: a notebook may pass null
      hintsToShow: failedBefore + 1,
      ...(cellError !== undefined ? { previousCellError: cellError } : {}),
    });
    // Only a real failing run earns the next hint: not "todo", not a pass, not a broken cell above.
    if (result.status === "fail" && result.previousCellError === undefined) failedRuns.set(exercise, failedBefore + 1);
    showCheck(result);
    shareWithPulse(result);
  } catch (error) {
    process.stderr.write(`rollcall could not run this check: ${String(error)}\n`);
  }
  // Returns nothing on purpose: a notebook shows a cell's last value, and the report is enough.
}

/** When the class pulse is on (pulse.ts), queues how the run went for the instructor's dashboard. */
function shareWithPulse(result: CheckResult): void {
  const status = result.previousCellError !== undefined ? "fail" : result.status;
  const passed = result.tests.filter((t) => t.status === "pass").length;
  sharePulse({ exercise: result.exercise, status, passed, total: result.tests.length });
}

/**
 * How many times each exercise's check has failed since the notebook's kernel started:
 * that many hints have been shown, so the next failing run shows one more.
 */
const failedRuns = new Map<string, number>();

/** The test a check reports when its own code crashed outside any test; the tests after it never ran. */
export const SETUP_TEST = "setting up the check";

/**
 * Run a check's tests and return how they went, without showing anything.
 * @example
 * const result = runCheck("first-student", (t) => { t.equal("first", () => firstStudent(roster), "Ada Lovelace"); });
 * result.status; // "pass", "fail" or "todo"
 */
export function runCheck(exercise: string, define: (t: Tester) => void, options: RunCheckOptions = {}): CheckResult {
  const hints = [...(options?.hints ?? [])]; // `?.`: a notebook may pass null
  if (typeof options?.previousCellError === "string") {
    // The cell above did not take effect: its old code is still there, and testing it would mislead.
    return { ...checkResultOf(exercise, [], hints, 0, 0), status: "fail", previousCellError: options.previousCellError };
  }
  const tests: TestResult[] = [];
  const hidden = { count: 0 };
  try {
    define(testerInto(tests, hidden));
  } catch (error) {
    // The check's own code crashed, outside any test (for example it called your code directly).
    tests.push(crashed(SETUP_TEST, 0, error));
  }
  const toShow = options?.hintsToShow ?? 1;
  return checkResultOf(exercise, tests, hints, Number.isFinite(toShow) ? Math.max(0, Math.floor(toShow)) : hints.length, hidden.count);
}

/** Show a check's report: text, HTML, and the result itself for the grader. */
export function showCheck(result: CheckResult): void {
  try {
    const { text, html } = report(result);
    publish({ "text/plain": text, "text/html": html, "application/vnd.rollcall.check+json": result });
  } catch (error) {
    process.stderr.write(`rollcall could not show this check's report: ${String(error)}\n`);
  }
}

// ---------------------------------------------------------------------------
// How it works

/** What a test found when it ran to the end. */
interface Outcome {
  passed: boolean;
  message: string;
}

/** A `Tester` whose tests each run at once and write their result into `tests`; `hidden` counts the hidden tests it is told of. */
function testerInto(tests: TestResult[], hidden: { count: number }): Tester {
  function run(name: string, points: number = 1, test: () => Outcome): void {
    try {
      const { passed, message } = test();
      tests.push(
        passed
          ? { name, status: "pass", message: "", points, maxPoints: points }
          : { name, status: "fail", message, points: 0, maxPoints: points },
      );
    } catch (error) {
      tests.push(crashed(name, points, error));
    }
  }

  return {
    equal(name, actual, expected, options) {
      run(name, options?.points, () => {
        const value = actual();
        return { passed: isDeepStrictEqual(value, expected), message: `expected ${brief(expected)}, got ${brief(value)}` };
      });
    },
    ok(name, actual, options) {
      run(name, options?.points, () => {
        const value = actual();
        const message = options?.expected === undefined ? `expected true, got ${brief(value)}` : `expected ${options.expected}`;
        return { passed: value === true, message };
      });
    },
    throws(name, fn, options) {
      run(name, options?.points, () => {
        let value: unknown;
        try {
          value = fn();
        } catch (error) {
          if (isNotDoneYet(error)) throw error; // the stub is still there: that is "todo", not a pass
          return { passed: true, message: "" };
        }
        return { passed: false, message: `expected ${options?.expected ?? "an error"}, but it returned ${brief(value)}` };
      });
    },
    hiddenTests(count) {
      if (Number.isInteger(count) && count > 0) hidden.count += count;
    },
  };
}

/** A test whose code threw: "todo" if it was the exercise's stub, "error" otherwise. */
function crashed(name: string, points: number, error: unknown): TestResult {
  const status = isNotDoneYet(error) ? "todo" : "error";
  const message = status === "todo" ? (error as Error).message : `your code threw ${describe(error)} — ${adviceForError(error)}`;
  return { name, status, message, points: 0, maxPoints: points };
}

/** The result of a run; of the hints, only the first `hintsToShow`, and only on a "fail". */
function checkResultOf(exercise: string, tests: TestResult[], hints: string[], hintsToShow: number, hiddenTests: number): CheckResult {
  const sum = (numbers: number[]) => numbers.reduce((total, n) => total + n, 0);
  const status = overallStatus(tests);
  return {
    exercise,
    status,
    tests,
    score: sum(tests.map((t) => t.points)),
    maxScore: sum(tests.map((t) => t.maxPoints)),
    hints: status === "fail" ? hints.slice(0, hintsToShow) : [],
    hintCount: hints.length,
    hiddenTests,
  };
}

/** "todo" while any stub is left, "pass" when every test passes, "fail" otherwise. */
function overallStatus(tests: TestResult[]): CheckResult["status"] {
  if (tests.some((t) => t.status === "todo")) return "todo";
  if (tests.length > 0 && tests.every((t) => t.status === "pass")) return "pass";
  return "fail";
}

type Mark = "pass" | "fail" | "todo";

/**
 * Each mark as text and as a drawn icon. The text marks are in every common
 * monospace and sans font; emoji are not (a machine without an emoji font shows
 * an empty box), so the HTML draws its icons and needs no font at all.
 */
const MARKS: Readonly<Record<Mark, { text: string; icon: string; colour: string }>> = {
  pass: {
    text: "✓",
    icon: '<path d="M4.5 8.5l2.5 2.5 4.5-5"/>',
    colour: "var(--jp-success-color1, var(--vscode-testing-iconPassed, #2e7d32))",
  },
  fail: {
    text: "✗",
    icon: '<path d="M5.5 5.5l5 5m0-5l-5 5"/>',
    colour: "var(--jp-error-color1, var(--vscode-testing-iconFailed, #c62828))",
  },
  todo: {
    text: "○",
    icon: '<path d="M8 4.5V8l2.5 1.5"/>',
    colour: "var(--jp-warn-color1, var(--vscode-editorWarning-foreground, #b26a00))",
  },
};

const iconSvg = (mark: Mark): string =>
  '<svg width="1em" height="1em" viewBox="0 0 16 16" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" ' +
  `style="vertical-align:-0.15em;margin-right:0.3em" aria-hidden="true"><circle cx="8" cy="8" r="6.5"/>${MARKS[mark].icon}</svg>`;

/** The report as plain text and as HTML, built from the same lines. */
function report(result: CheckResult): { text: string; html: string } {
  const { exercise, status, tests } = result;
  const failed = tests.filter((t) => t.status === "fail" || t.status === "error");
  // No points here: a test's points are its weight within the exercise, and the
  // exercise's own points (shown when grading) are the lesson's to say.

  let headline: string;
  let mark: Mark = status;
  if (result.previousCellError !== undefined) {
    mark = "fail";
    headline = `${exercise}: the cell above has an error: fix it first (${result.previousCellError})`;
  } else if (status === "pass") {
    headline = `${exercise}: ${tests.length === 1 ? "the check passes" : `all ${tests.length} checks pass`}`;
    if (result.hiddenTests > 0) {
      const more = result.hiddenTests === 1 ? "1 more test" : `${result.hiddenTests} more tests`;
      headline += `. Grading runs ${more}: try other cases of your own too.`;
    }
  } else if (status === "todo") {
    headline = `not done yet: ${exercise} — write your answer in the cell above where it says TODO, run it, then run this check again.`;
  } else if (tests.length === 0) {
    headline = `${exercise}: this check has no tests`;
  } else {
    const which = tests.length === 1 ? "the check failed" : `${failed.length} of ${tests.length} checks failed`;
    headline = `${exercise}: ${which}`;
  }
  // While the stub is there, list only real failures; otherwise every test, ✓ or ✗.
  const listed = status === "pass" ? [] : status === "todo" ? failed : tests;
  const lines = listed.map((t) => (t.status === "pass" ? `${MARKS.pass.text} ${t.name}` : `${MARKS.fail.text} ${t.name}: ${t.message}`));
  if (result.previousCellError !== undefined) lines.push("This check tested nothing: fix that cell, run it, then run this check again.");
  // The hints this run shows (the newest last), and whether the next failing run brings another.
  const hints = result.hints.map((hint) => `Hint: ${hint}`);
  if (status === "fail" && result.previousCellError === undefined && result.hints.length < result.hintCount) {
    hints.push("Another hint comes with the next run of this check.");
  }

  const text = [`${MARKS[mark].text} ${headline}`, ...[...lines, ...hints].map((line) => `  ${line}`)].join("\n");
  // Colours are the notebook theme's own (JupyterLab, Notebook 7, VS Code), so that a dark theme reads as well as a light one.
  const { colour } = MARKS[mark];
  const html = [
    `<div class="rollcall-check" style="border-left:4px solid ${colour};padding:4px 10px;margin:4px 0;">`,
    `<div style="color:${colour};font-weight:bold;">${iconSvg(mark)}${escapeHtml(headline)}</div>`,
    ...lines.map((line) => `<div style="margin-left:1em;">${escapeHtml(line)}</div>`),
    ...hints.map((hint) => `<div style="margin-left:1em;color:var(--jp-content-font-color2, inherit);">${escapeHtml(hint)}</div>`),
    "</div>",
  ].join("\n");
  return { text, html };
}

/** A value as a short line of text: 'Ada', [ 1, 2 ], { name: 'Ada' }; at most 200 characters. */
function brief(value: unknown): string {
  let text: string;
  try {
    text = inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 });
  } catch {
    text = "(a value that cannot be shown)";
  }
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** "TypeError: Cannot read properties of undefined (reading 'name')" */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return brief(error);
  const firstLine = `${error.name}: ${error.message}`.split("\n")[0] ?? "";
  return firstLine.length > 200 ? `${firstLine.slice(0, 199)}…` : firstLine;
}

/** One friendly sentence about what usually causes this kind of error. */
function adviceForError(error: unknown): string {
  if (error instanceof ReferenceError) {
    return "a name is used that does not exist: check its spelling, and run the cell that defines it.";
  }
  if (error instanceof TypeError && /undefined|null/.test(error.message)) {
    return "something was undefined or null: maybe a misspelled property, or a function that does not return yet.";
  }
  if (error instanceof Error && error.name === "SqlError") {
    return "SQLite refused the SQL; the message says why.";
  }
  return "read the message, fix your code, run its cell, then run this check again.";
}
