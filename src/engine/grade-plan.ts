/**
 * Which cells of a submission to run, and how: the learner's answers matched by
 * exercise id (not position), every check replaced by the lesson's own (with its
 * hidden tests), changed or deleted locked cells restored. What was found is
 * said in notes, for the learner's feedback.
 */
import type { LessonTests } from "./build.js";
import { checksum } from "./build.js";
import type { Notebook } from "./notebook.js";

export type PlannedCell =
  | { readonly kind: "learner"; readonly cellId: string; readonly source: string }
  | { readonly kind: "lesson"; readonly cellId: string; readonly source: string }
  /** The lesson's check for an exercise: run on the worker's trusted side, from the lesson, never the submission. */
  | { readonly kind: "check"; readonly cellId: string; readonly exercise: string };

export interface GradingPlan {
  readonly cells: readonly PlannedCell[];
  /** The learner's answer to each exercise, by id (missing when deleted). */
  readonly answers: ReadonlyMap<string, string>;
  readonly notes: readonly string[];
}

export function planSubmission(submission: Notebook, tests: LessonTests): GradingPlan {
  const notes: string[] = [];
  const exerciseIds = new Set(tests.exercises.map((e) => e.id));
  const lockedById = new Map(tests.lockedCells.map((c) => [c.id, c]));
  const lessonIds = new Set(tests.cellIds);

  // The last answer cell of each exercise counts (the one a learner most likely ran last).
  const answerIndex = new Map<string, number>();
  submission.cells.forEach((cell, index) => {
    const role = cell.metadata.rollcall;
    if (cell.cell_type !== "code" || role?.role !== "answer") return;
    if (!exerciseIds.has(role.exercise)) return;
    if (answerIndex.has(role.exercise)) notes.push(`exercise '${role.exercise}' has more than one answer cell; the last one was graded`);
    answerIndex.set(role.exercise, index);
  });

  // Each lesson check runs where the learner's own check cell was, or right after the answer.
  const checkAfter = new Map(answerIndex);
  submission.cells.forEach((cell, index) => {
    const role = cell.metadata.rollcall;
    if (role?.role === "check" && (answerIndex.get(role.exercise) ?? Infinity) < index) checkAfter.set(role.exercise, index);
  });
  const checksAfter = (index: number): PlannedCell[] =>
    tests.exercises.filter((e) => checkAfter.get(e.id) === index).map((e) => ({ kind: "check", cellId: e.checkCell, exercise: e.id }));

  const cells: PlannedCell[] = [];
  const seenLocked = new Set<string>();
  let added = 0;
  submission.cells.forEach((cell, index) => {
    planCell(cell, index);
    cells.push(...checksAfter(index));
  });
  function planCell(cell: Notebook["cells"][number], index: number): void {
    if (cell.cell_type !== "code") return;
    const role = cell.metadata.rollcall;
    if (role?.role === "check") return; // replaced by the lesson's own
    const locked = lockedById.get(cell.id);
    if (locked) {
      if (seenLocked.has(cell.id)) return;
      seenLocked.add(cell.id);
      if (checksum(cell.source) !== locked.checksum)
        notes.push(`cell '${cell.id}' is locked but was changed; the lesson's version was run instead`);
      cells.push({ kind: "lesson", cellId: cell.id, source: locked.source });
      return;
    }
    if (role?.role === "answer" && exerciseIds.has(role.exercise)) {
      if (answerIndex.get(role.exercise) !== index) return; // an earlier duplicate
      cells.push({ kind: "learner", cellId: cell.id, source: cell.source });
      return;
    }
    if (!lessonIds.has(cell.id)) added++;
    cells.push({ kind: "learner", cellId: cell.id, source: cell.source });
  }

  const missingLocked = tests.lockedCells.filter((c) => !seenLocked.has(c.id));
  if (missingLocked.length) {
    notes.push(
      `${missingLocked.length === 1 ? "a locked cell was" : `${missingLocked.length} locked cells were`} deleted (${missingLocked.map((c) => c.id).join(", ")}); the lesson's version${missingLocked.length === 1 ? " was" : "s were"} put back at the top`,
    );
    cells.unshift(...missingLocked.map((c) => ({ kind: "lesson" as const, cellId: c.id, source: c.source })));
  }
  if (added) notes.push(`${added} cell${added === 1 ? " was" : "s were"} added by the learner and run in place`);
  const missing = tests.exercises.filter((e) => !answerIndex.has(e.id)).map((e) => e.id);
  if (missing.length) notes.push(`no answer cell for ${missing.map((m) => `'${m}'`).join(", ")} (deleted, or its metadata was lost)`);
  const answers = new Map([...answerIndex].map(([exercise, index]) => [exercise, submission.cells[index]?.source ?? ""]));
  return { cells, answers, notes };
}
