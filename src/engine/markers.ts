/**
 * The nbgrader-style markers instructors already know:
 *
 *   // BEGIN SOLUTION … // END SOLUTION          in an exercise's answer cell
 *   // BEGIN HIDDEN TESTS … // END HIDDEN TESTS  in an exercise's check cell
 *
 * In the learner's copy a hidden-test region becomes one line that says how many
 * tests it held, `t.hiddenTests(2);`, so that a passing check can say grading runs
 * more. The tests are counted as the grader counts them (check-source.ts
 * `declaredTests`), and `t` is the check function's own name for its tester.
 */
import ts from "typescript";
import { declaredTests } from "./check-source.js";
import type { LessonCell } from "./lesson.js";
import type { Problem } from "./problem.js";

export type MarkerKind = "SOLUTION" | "HIDDEN TESTS";
const MARKER = /^(\s*)\/\/\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$/;

interface Region { readonly kind: MarkerKind; readonly begin: number; readonly end: number; readonly indent: string }

/** The marked regions of a source (0-based line numbers of the marker lines), or what is unbalanced. */
function regions(source: string): { regions: Region[]; problem?: { offset: number; message: string } } {
  const found: Region[] = [];
  let open: { kind: MarkerKind; begin: number; indent: string } | undefined;
  const lines = source.split("\n");
  for (const [index, line] of lines.entries()) {
    const match = MARKER.exec(line);
    if (!match) continue;
    const [, indent = "", edge, kind] = match as unknown as [string, string, "BEGIN" | "END", MarkerKind];
    if (edge === "BEGIN") {
      if (open) return { regions: found, problem: { offset: index, message: `// BEGIN ${kind} inside an open // BEGIN ${open.kind}: close the first with // END ${open.kind}` } };
      open = { kind, begin: index, indent };
    } else {
      if (!open || open.kind !== kind) return { regions: found, problem: { offset: index, message: `// END ${kind} without a matching // BEGIN ${kind} above it` } };
      found.push({ ...open, end: index });
      open = undefined;
    }
  }
  if (open) return { regions: found, problem: { offset: open.begin, message: `// BEGIN ${open.kind} is never closed: add // END ${open.kind}` } };
  return { regions: found };
}

/** Where a cell's markers are missing, unbalanced or in the wrong kind of cell. */
export function findMarkerProblems(cells: readonly LessonCell[], file: string): Problem[] {
  const problems: Problem[] = [];
  for (const cell of cells) {
    if (cell.kind === "markdown" || cell.kind === "instructor") continue;
    const { regions: found, problem } = regions(cell.source);
    if (problem) { problems.push({ file, line: cell.line + problem.offset, message: problem.message }); continue; }
    const allowed: MarkerKind | undefined = cell.kind === "answer" ? "SOLUTION" : cell.kind === "check" ? "HIDDEN TESTS" : undefined;
    for (const region of found.filter((r) => r.kind !== allowed)) {
      const where = region.kind === "SOLUTION" ? "an exercise's answer cell (```ts exercise=ID points=N)" : "an exercise's check cell (```ts check=ID)";
      problems.push({ file, line: cell.line + region.begin, message: `// BEGIN ${region.kind} belongs only in ${where}` });
    }
    if (cell.kind === "check") {
      for (const plan of hiddenTestPlans(cell.source)) {
        if (plan.tests > 0 && plan.tester === undefined) problems.push({ file, line: cell.line + plan.region.begin, message: NO_TESTER });
      }
    }
    if (cell.kind === "answer" && !found.some((r) => r.kind === "SOLUTION")) {
      problems.push({ file, line: cell.line, message: `exercise '${cell.exercise}' has no // BEGIN SOLUTION … // END SOLUTION around the part the learner writes` });
    }
  }
  return problems;
}

/** Replaces each region of a kind by `replacement(region)` lines (none, to delete it). */
function replaceRegions(source: string, kind: MarkerKind, replacement: (region: Region) => string[]): string {
  const lines = source.split("\n");
  const found = regions(source).regions.filter((r) => r.kind === kind).reverse();
  for (const region of found) lines.splice(region.begin, region.end - region.begin + 1, ...replacement(region));
  return lines.join("\n");
}

const NO_TESTER = "these hidden tests are not inside a check's function with a plain name for its tester, like check(\"id\", (t) => { … }): "
  + "the learner's copy puts t.hiddenTests(N) there, to say how many more tests grading runs";

/** A check cell's hidden-test region: how many tests it holds, and the tester's name where it is. */
interface HiddenTestPlan { readonly region: Region; readonly tests: number; readonly tester: string | undefined }

function hiddenTestPlans(source: string): HiddenTestPlan[] {
  const found = regions(source).regions.filter((r) => r.kind === "HIDDEN TESTS");
  if (!found.length) return [];
  const lines = source.split("\n");
  const all = declaredTests(source).tests.length;
  return found.map((region) => {
    // Counted as the grader counts: the tests the check declares, less those it declares without this region.
    const without = [...lines.slice(0, region.begin), ...lines.slice(region.end + 1)].join("\n");
    const tests = all - declaredTests(without).tests.length;
    const at = lines.slice(0, region.begin).reduce((offset, line) => offset + line.length + 1, 0) + region.indent.length; // the BEGIN marker
    return { region, tests, tester: testerAt(source, at) };
  });
}

/** The name of the tester parameter of the innermost `check(…, (t) => { … })` function around `offset`. */
function testerAt(source: string, offset: number): string | undefined {
  let tester: string | undefined;
  const visit = (node: ts.Node): void => {
    if (offset < node.getStart(file) || offset >= node.getEnd()) return;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "check") {
      const define = node.arguments[1];
      if (define && (ts.isArrowFunction(define) || ts.isFunctionExpression(define)) && offset > define.body.getStart(file) && offset < define.body.getEnd()) {
        const first = define.parameters[0];
        tester = first && ts.isIdentifier(first.name) ? first.name.text : undefined;
      }
    }
    ts.forEachChild(node, visit);
  };
  const file = ts.createSourceFile("cell.ts", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  visit(file);
  return tester;
}

/**
 * The learner's stub: it compiles, and when the answer is used it throws the
 * friendly "not done yet: <exercise>" that `check` reports as output, not a crash.
 */
export function stripSolutions(source: string, exercise: string): string {
  return replaceRegions(source, "SOLUTION", ({ indent }) => [
    `${indent}// TODO: write your code here, then run the check below.`,
    `${indent}throw todo(${JSON.stringify(exercise)});`,
  ]);
}

/**
 * The learner's check: each hidden-test region becomes one line saying how many
 * tests grading adds, `t.hiddenTests(2); // grading runs 2 more tests, not shown here`
 * (nothing, for a region without tests). A region of tests outside a check's
 * function is a problem `findMarkerProblems` reports; here it is a bug.
 */
export function stripHiddenTests(source: string): string {
  const plans = new Map(hiddenTestPlans(source).map((plan) => [plan.region.begin, plan]));
  return replaceRegions(source, "HIDDEN TESTS", (region) => {
    const plan = plans.get(region.begin);
    if (!plan || plan.tests === 0) return [];
    if (plan.tester === undefined) throw new Error(`stripHiddenTests: ${NO_TESTER}`);
    const more = plan.tests === 1 ? "1 more test" : `${plan.tests} more tests`;
    return [`${region.indent}${plan.tester}.hiddenTests(${plan.tests}); // grading runs ${more}, not shown here`];
  });
}

/** The instructor's copy keeps solutions and hidden tests, without the marker lines. */
export function removeMarkerLines(source: string): string {
  return source.split("\n").filter((line) => !MARKER.test(line)).join("\n");
}
