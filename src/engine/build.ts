/**
 * Lesson → notebooks. One master notebook is made from the lesson, then each
 * copy is a list of small stages, each `(notebook) → notebook`:
 *
 *   instructor: removeMarkers, sealLockedCells
 *   learner:    dropInstructorNotes, stripSolutionCode, stripHiddenTestCode, sealLockedCells
 *
 * Every cell carries Jupyter's `slideshow.slide_type`, from the master, so that
 * both copies (and the presenter's deck, slides.ts) break slides in the same places.
 *
 * and what the grader needs (`LessonTests`) is read off the instructor copy, in
 * memory: it is never written to disk, so the grader always takes it from the lesson.
 */
import { createHash } from "node:crypto";
import type { Lesson, LessonCell, SlideHint } from "./lesson.js";
import { removeMarkerLines, stripHiddenTests, stripSolutions } from "./markers.js";
import { slideTypes } from "./slide-breaks.js";
import { TSLAB_KERNELSPEC, TSLAB_LANGUAGE_INFO, type Cell, type CellRole, type Notebook } from "./notebook.js";

export type Stage = (notebook: Notebook) => Notebook;

/** A short, stable fingerprint of a cell's source (line endings and trailing space ignored). */
export function checksum(source: string): string {
  const normal = source
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
  return createHash("sha256").update(normal).digest("hex").slice(0, 16);
}

const bullets = (items: readonly string[]): string => items.map((i) => `- ${i}`).join("\n");

function markdown(id: string, source: string, role?: CellRole): Cell {
  return { cell_type: "markdown", id, metadata: role ? { rollcall: role } : {}, source };
}

function code(id: string, source: string, role?: CellRole): Cell {
  return { cell_type: "code", id, metadata: role ? { rollcall: role } : {}, source, outputs: [], execution_count: null };
}

type NotebookCellOf = Exclude<LessonCell, { kind: "wrong" }>;

/** Each lesson cell that becomes a notebook cell, with its notebook cell id (md-1, code-3, last-student-check, …). */
export function cellIdsOf(lesson: Lesson): { readonly cell: NotebookCellOf; readonly id: string }[] {
  const counters = { md: 0, code: 0, note: 0 };
  const next = (kind: keyof typeof counters): string => `${kind}-${++counters[kind]}`;
  return lesson.cells.flatMap((cell): { cell: NotebookCellOf; id: string }[] => {
    switch (cell.kind) {
      case "wrong":
        return []; // wrong answers are for tests only
      case "markdown":
        return [{ cell, id: next("md") }];
      case "instructor":
        return [{ cell, id: next("note") }];
      case "code":
        return [{ cell, id: next("code") }];
      case "answer":
        return [{ cell, id: cell.exercise }];
      case "check":
        return [{ cell, id: `${cell.exercise}-check` }];
    }
  });
}

/** Every cell of the lesson, solutions, hidden tests and instructor notes included. */
export function lessonToNotebook(lesson: Lesson): Notebook {
  const toCell = ({ cell, id }: { cell: NotebookCellOf; id: string }): Cell => {
    switch (cell.kind) {
      case "markdown":
        return markdown(id, cell.source);
      case "instructor":
        return markdown(
          id,
          `> **Instructor note**\n>\n${cell.source
            .split("\n")
            .map((l) => `> ${l}`.trimEnd())
            .join("\n")}`,
          { role: "note" },
        );
      case "code":
        return code(id, cell.source, cell.locked ? { role: "locked", checksum: "" } : undefined);
      case "answer":
        return code(id, cell.source, { role: "answer", exercise: cell.exercise, points: cell.points });
      case "check":
        return code(id, cell.source, { role: "check", exercise: cell.exercise, checksum: "" });
    }
  };
  const { exercises } = lesson;
  const { teach, exercises: practice } = lesson.minutes;
  const intro = [
    `# ${lesson.title}`,
    `**Time:** ${teach} minutes taught, then ${practice} minutes of exercises · ${exercises.length} exercise${exercises.length === 1 ? "" : "s"}`,
    `## Objectives\n\n${bullets(lesson.objectives)}`,
  ].join("\n\n");
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: TSLAB_KERNELSPEC,
      language_info: TSLAB_LANGUAGE_INFO,
      rollcall: { lesson: lesson.id, minutes: lesson.minutes },
    },
    cells: withSlideTypes(
      [
        markdown("objectives", intro),
        ...cellIdsOf(lesson).map(toCell),
        markdown("keypoints", `## Key points\n\n${bullets(lesson.keypoints)}`),
      ],
      [undefined, ...cellIdsOf(lesson).map(({ cell }) => cell.slide), undefined],
    ),
  };
}

/** Jupyter's `slideshow.slide_type` on every cell: the breaks the presenter's deck makes too (slide-breaks.ts). */
function withSlideTypes(cells: readonly Cell[], hints: readonly (SlideHint | undefined)[]): Cell[] {
  const types = slideTypes(
    cells.map((cell, i) => ({
      kind: cell.metadata.rollcall?.role === "note" ? "notes" : cell.cell_type === "code" ? "code" : "markdown",
      source: cell.source,
      ...(hints[i] === undefined ? {} : { slide: hints[i] }),
    })),
  );
  return cells.map((cell, i) => ({ ...cell, metadata: { ...cell.metadata, slideshow: { slide_type: types[i] ?? "-" } } }));
}

/** Applies `change` to the source of every code cell whose role passes `when`. */
const mapCode =
  (when: (role: CellRole | undefined) => boolean, change: (source: string, role: CellRole) => string): Stage =>
  (notebook) => ({
    ...notebook,
    cells: notebook.cells.map((cell) => {
      const role = cell.metadata.rollcall;
      return cell.cell_type === "code" && role && when(role) ? { ...cell, source: change(cell.source, role) } : cell;
    }),
  });

export const dropInstructorNotes: Stage = (notebook) => ({
  ...notebook,
  cells: notebook.cells.filter((c) => c.metadata.rollcall?.role !== "note"),
});

export const stripSolutionCode: Stage = mapCode(
  (r) => r?.role === "answer",
  (source, role) => stripSolutions(source, "exercise" in role ? role.exercise : ""),
);

export const stripHiddenTestCode: Stage = mapCode((r) => r?.role === "check", stripHiddenTests);

export const removeMarkers: Stage = mapCode((r) => r?.role === "answer" || r?.role === "check", removeMarkerLines);

/** Check cells and locked cells: read-only in Jupyter, with a checksum the grader verifies. */
export const sealLockedCells: Stage = (notebook) => ({
  ...notebook,
  cells: notebook.cells.map((cell) => {
    const role = cell.metadata.rollcall;
    if (cell.cell_type !== "code" || (role?.role !== "check" && role?.role !== "locked")) return cell;
    return {
      ...cell,
      metadata: { ...cell.metadata, rollcall: { ...role, checksum: checksum(cell.source) }, editable: false, deletable: false },
    };
  }),
});

export const INSTRUCTOR_STAGES: readonly Stage[] = [removeMarkers, sealLockedCells];
export const LEARNER_STAGES: readonly Stage[] = [dropInstructorNotes, stripSolutionCode, stripHiddenTestCode, sealLockedCells];

export const applyStages = (notebook: Notebook, stages: readonly Stage[]): Notebook => stages.reduce((nb, stage) => stage(nb), notebook);

/** What the grader needs from a lesson: never read from a submission. */
export interface LessonTests {
  readonly lesson: string;
  readonly title: string;
  /** Every cell id of the lesson's notebook, to tell the learner's added cells from the lesson's. */
  readonly cellIds: readonly string[];
  readonly exercises: readonly {
    readonly id: string;
    readonly points: number;
    readonly answerCell: string;
    readonly checkCell: string;
    /** The check with its hidden tests: the grader runs this, never the submission's copy. */
    readonly check: string;
    /** Plausible wrong answers, each of which the check must fail. */
    readonly wrongAnswers: readonly string[];
  }[];
  readonly lockedCells: readonly { readonly id: string; readonly checksum: string; readonly source: string }[];
}

export function testsOf(lesson: Lesson, instructor: Notebook): LessonTests {
  const sourceOf = (id: string): string => instructor.cells.find((c) => c.id === id)?.source ?? "";
  return {
    lesson: lesson.id,
    title: lesson.title,
    cellIds: instructor.cells.map((c) => c.id),
    exercises: lesson.exercises.map((e) => ({
      id: e.id,
      points: e.points,
      answerCell: e.id,
      checkCell: `${e.id}-check`,
      check: sourceOf(`${e.id}-check`),
      wrongAnswers: e.wrongAnswers.map((w) => w.source),
    })),
    lockedCells: instructor.cells
      .filter((c) => c.metadata.rollcall?.role === "locked")
      .map((c) => ({ id: c.id, checksum: checksum(c.source), source: c.source })),
  };
}

/** The course's glossary, lessons/glossary.md: built into a notebook of one Markdown cell, so every Jupyter shows it rendered. */
export const GLOSSARY = "glossary.md";

export function glossaryNotebook(text: string): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: TSLAB_KERNELSPEC, language_info: TSLAB_LANGUAGE_INFO },
    cells: [markdown("glossary", text.trim())],
  };
}

export interface BuiltLesson {
  readonly learner: Notebook;
  readonly instructor: Notebook;
  readonly tests: LessonTests;
}

export function buildLesson(lesson: Lesson): BuiltLesson {
  const master = lessonToNotebook(lesson);
  const instructor = applyStages(master, INSTRUCTOR_STAGES);
  return { learner: applyStages(master, LEARNER_STAGES), instructor, tests: testsOf(lesson, instructor) };
}
