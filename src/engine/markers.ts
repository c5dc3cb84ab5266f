/**
 * The nbgrader-style markers instructors already know, as text operations on one
 * cell's source (which kind of cell may hold which marker is the lesson parser's
 * to say, in lesson.ts):
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
import type { Problem } from "./problem.js";

export type MarkerKind = "SOLUTION" | "HIDDEN TESTS";
const MARKER = /^(\s*)\/\/\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$/;

/** A marked region: the 0-based lines of its BEGIN and END markers, and the BEGIN marker's indent. */
export interface Region {
  readonly kind: MarkerKind;
  readonly begin: number;
  readonly end: number;
  readonly indent: string;
}

/** The marked regions of a source, or the first unbalanced marker (its `line` 1-based in the source). */
export function markedRegions(source: string): { regions: Region[]; problem?: Problem } {
  const found: Region[] = [];
  let open: { kind: MarkerKind; begin: number; indent: string } | undefined;
  const lines = source.split("\n");
  for (const [index, line] of lines.entries()) {
    const match = MARKER.exec(line);
    if (!match) continue;
    const [, indent = "", edge, kind] = match as unknown as [string, string, "BEGIN" | "END", MarkerKind];
    if (edge === "BEGIN") {
      if (open)
        return {
          regions: found,
          problem: {
            line: index + 1,
            message: `// BEGIN ${kind} inside an open // BEGIN ${open.kind}: close the first with // END ${open.kind}`,
          },
        };
      open = { kind, begin: index, indent };
    } else {
      if (!open || open.kind !== kind)
        return { regions: found, problem: { line: index + 1, message: `// END ${kind} without a matching // BEGIN ${kind} above it` } };
      found.push({ ...open, end: index });
      open = undefined;
    }
  }
  if (open)
    return { regions: found, problem: { line: open.begin + 1, message: `// BEGIN ${open.kind} is never closed: add // END ${open.kind}` } };
  return { regions: found };
}

/** Replaces each region of a kind by `replacement(region)` lines (none, to delete it). */
function replaceRegions(source: string, kind: MarkerKind, replacement: (region: Region) => string[]): string {
  const lines = source.split("\n");
  const found = markedRegions(source)
    .regions.filter((r) => r.kind === kind)
    .reverse();
  for (const region of found) lines.splice(region.begin, region.end - region.begin + 1, ...replacement(region));
  return lines.join("\n");
}

export const NO_TESTER =
  'these hidden tests are not inside a check\'s function with a plain name for its tester, like check("id", (t) => { … }): ' +
  "the learner's copy puts t.hiddenTests(N) there, to say how many more tests grading runs";

/** A check cell's hidden-test region: how many tests it holds, and the tester's name where it is. */
export interface HiddenTestPlan {
  readonly region: Region;
  readonly tests: number;
  readonly tester: string | undefined;
}

export function hiddenTestPlans(source: string): HiddenTestPlan[] {
  const found = markedRegions(source).regions.filter((r) => r.kind === "HIDDEN TESTS");
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
      if (
        define &&
        (ts.isArrowFunction(define) || ts.isFunctionExpression(define)) &&
        offset > define.body.getStart(file) &&
        offset < define.body.getEnd()
      ) {
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
 * function is a problem the lesson parser reports (lesson.ts); here it is a bug.
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
  return source
    .split("\n")
    .filter((line) => !MARKER.test(line))
    .join("\n");
}
