/**
 * A lesson's claims, checked by running them: a demo cell written
 * ```ts output="[ 'Ada', 'Zoe' ]" must print exactly that (as nbval checks a
 * notebook's stored outputs). `…` in the expected text stands for any text
 * within one line, for what honestly varies (a timing, a port).
 */
import { cellIdsOf } from "./build.js";
import type { Lesson } from "./lesson.js";
import type { Notebook, Output } from "./notebook.js";
import type { Problem } from "./problem.js";

/** What a reader sees a cell print, as text: its streams and the plain text of what it displays, in order. */
export function printedText(outputs: readonly Output[]): string {
  const parts = outputs.map((output) => {
    switch (output.output_type) {
      case "stream":
        return output.text;
      case "display_data":
      case "execute_result":
        return `${String(output.data["text/plain"] ?? "")}\n`;
      case "error":
        return `${output.ename}: ${output.evalue}\n`;
    }
  });
  return tidy(parts.join(""));
}

const tidy = (text: string): string =>
  text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();

/** Whether `actual` is `expected`, where each `…` in expected matches any run of characters within a line. */
export function matchesExpected(expected: string, actual: string): boolean {
  const pattern = tidy(expected)
    .split("…")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^\\n]*?");
  return new RegExp(`^${pattern}$`).test(tidy(actual));
}

/** Every demo whose printed output differs from what the lesson says it prints, in a run of the lesson's notebook. */
export function demoOutputProblems(lesson: Lesson, executed: Notebook): Problem[] {
  const problems: Problem[] = [];
  for (const { cell, id } of cellIdsOf(lesson)) {
    if (cell.kind !== "code" || cell.output === undefined) continue;
    const ran = executed.cells.find((c) => c.id === id);
    const actual = ran?.cell_type === "code" ? printedText(ran.outputs) : "(the cell is not in the run)";
    if (!matchesExpected(cell.output, actual)) {
      problems.push({
        file: lesson.file,
        line: cell.line,
        message: `this demo should print\n${tidy(cell.output)}\nbut printed\n${actual}`,
      });
    }
  }
  return problems;
}
