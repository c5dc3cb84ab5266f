/**
 * The nbgrader-style markers instructors already know:
 *
 *   // BEGIN SOLUTION … // END SOLUTION          in an exercise's answer cell
 *   // BEGIN HIDDEN TESTS … // END HIDDEN TESTS  in an exercise's check cell
 */
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
    if (cell.kind === "answer" && !found.some((r) => r.kind === "SOLUTION")) {
      problems.push({ file, line: cell.line, message: `exercise '${cell.exercise}' has no // BEGIN SOLUTION … // END SOLUTION around the part the learner writes` });
    }
  }
  return problems;
}

/** Replaces each region of a kind by `replacement(indent)` lines (none, to delete it). */
function replaceRegions(source: string, kind: MarkerKind, replacement: (indent: string) => string[]): string {
  const lines = source.split("\n");
  const found = regions(source).regions.filter((r) => r.kind === kind).reverse();
  for (const region of found) lines.splice(region.begin, region.end - region.begin + 1, ...replacement(region.indent));
  return lines.join("\n");
}

/**
 * The learner's stub: it compiles, and when the answer is used it throws the
 * friendly "not done yet: <exercise>" that `check` reports as output, not a crash.
 */
export function stripSolutions(source: string, exercise: string): string {
  return replaceRegions(source, "SOLUTION", (indent) => [
    `${indent}// TODO: write your code here, then run the check below.`,
    `${indent}throw todo(${JSON.stringify(exercise)});`,
  ]);
}

export function stripHiddenTests(source: string): string {
  return replaceRegions(source, "HIDDEN TESTS", () => []);
}

/** The instructor's copy keeps solutions and hidden tests, without the marker lines. */
export function removeMarkerLines(source: string): string {
  return source.split("\n").filter((line) => !MARKER.test(line)).join("\n");
}
