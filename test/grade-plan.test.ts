/**
 * planSubmission: which cells of a learner's notebook the grader runs, and what it
 * says about them. A hand-made lesson of two exercises and two locked cells, and
 * submissions edited the ways learners edit them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildLesson, checksum, type LessonTests } from "../src/engine/build.js";
import { planSubmission, type GradingPlan } from "../src/engine/grade-plan.js";
import type { Cell, Notebook } from "../src/engine/notebook.js";
import { allLessons } from "./support/notebooks.js";

const SETUP = 'import { roster } from "rollcall";';
const DATA = 'const names = ["Ada", "Bo"];';
const SUM = "function sum(xs: number[]): number {\n  return xs.reduce((a, b) => a + b, 0);\n}";
const MEAN = "function mean(xs: number[]): number {\n  return sum(xs) / xs.length;\n}";
const CHECK_SUM_LESSON = 'check("sum", (t) => { t.equal(sum([1, 2]), 3); /* hidden */ t.equal(sum([]), 0); });';

/** The lesson as the grader knows it: never read from a submission. */
const TESTS: LessonTests = {
  lesson: "demo",
  title: "Demo",
  cellIds: ["intro", "setup", "data", "code-1", "sum", "sum-check", "md-2", "mean", "mean-check", "outro"],
  exercises: [
    { id: "sum", points: 2, answerCell: "sum", checkCell: "sum-check", check: CHECK_SUM_LESSON, wrongAnswers: [] },
    {
      id: "mean",
      points: 3,
      answerCell: "mean",
      checkCell: "mean-check",
      check: 'check("mean", (t) => t.equal(mean([2, 4]), 3));',
      wrongAnswers: [],
    },
  ],
  lockedCells: [
    { id: "setup", checksum: checksum(SETUP), source: SETUP },
    { id: "data", checksum: checksum(DATA), source: DATA },
  ],
};

const md = (id: string, source = `## ${id}`): Cell => ({ cell_type: "markdown", id, metadata: {}, source });
const code = (id: string, source: string, metadata: Cell["metadata"] = {}): Cell => ({
  cell_type: "code",
  id,
  metadata,
  source,
  outputs: [],
  execution_count: null,
});
const answer = (exercise: string, source: string, id = exercise): Cell =>
  code(id, source, { rollcall: { role: "answer", exercise, points: 1 } });
const check = (exercise: string, source = `check("${exercise}", …) // as the learner's copy has it`, id = `${exercise}-check`): Cell =>
  code(id, source, { rollcall: { role: "check", exercise, checksum: "whatever the learner's copy says" }, editable: false });
const locked = (id: string, source: string): Cell =>
  code(id, source, { rollcall: { role: "locked", checksum: "from the learner's copy" } });

const notebook = (...cells: Cell[]): Notebook => ({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });

/** The learner's notebook as handed out, every answer written. */
const pristineCells = (): Cell[] => [
  md("intro"),
  locked("setup", SETUP),
  locked("data", DATA),
  code("code-1", "console.log(names.length);"),
  answer("sum", SUM),
  check("sum"),
  md("md-2"),
  answer("mean", MEAN),
  check("mean"),
  md("outro"),
];

/** The plan of an untouched notebook: locked cells from the lesson, then the learner's cells, each check after its answer. */
const AS_HANDED_OUT = ["lesson:setup", "lesson:data", "learner:code-1", "learner:sum", "check:sum", "learner:mean", "check:mean"];

type Ten = [Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell];
/** The lesson's ten cells, each by name: intro, setup, data, code1, sum, sumCheck, md2, mean, meanCheck, outro. */
const pristineTen = (): Ten => pristineCells() as Ten;

/** The plan in one line per cell: "lesson:setup", "learner:sum", "check:sum". */
const shape = (plan: GradingPlan): string[] => plan.cells.map((c) => `${c.kind}:${c.kind === "check" ? c.exercise : c.cellId}`);
const sourceOf = (plan: GradingPlan, cellId: string): string | undefined => {
  const cell = plan.cells.find((c) => c.cellId === cellId && c.kind !== "check");
  return cell && cell.kind !== "check" ? cell.source : undefined;
};

test("a notebook as handed out: locked cells from the lesson, the learner's code and answers, each check right where its cell is; no notes", () => {
  const plan = planSubmission(notebook(...pristineCells()), TESTS);
  assert.deepEqual(shape(plan), AS_HANDED_OUT);
  assert.deepEqual(plan.notes, []);
  assert.deepEqual(
    [...plan.answers],
    [
      ["sum", SUM],
      ["mean", MEAN],
    ],
  );
  assert.deepEqual(
    plan.cells.find((c) => c.kind === "check"),
    { kind: "check", cellId: "sum-check", exercise: "sum" },
  );
});

test("every real lesson's learner notebook, unedited, plans cleanly: each exercise's check once, right after its answer, and no notes", async () => {
  for (const lesson of await allLessons()) {
    const { learner, tests } = buildLesson(lesson);
    const plan = planSubmission(learner, tests);
    assert.deepEqual(plan.notes, [], lesson.id);
    const checks = plan.cells.flatMap((c, i) => (c.kind === "check" ? [{ exercise: c.exercise, after: plan.cells[i - 1]?.cellId }] : []));
    assert.deepEqual(
      checks,
      tests.exercises.map((e) => ({ exercise: e.id, after: e.answerCell })),
      lesson.id,
    );
    assert.equal(plan.cells.filter((c) => c.kind === "lesson").length, tests.lockedCells.length, lesson.id);
  }
});

test("a check is always the lesson's: the learner's edited check cell is never run, whatever its text", () => {
  const cells = pristineCells().map((c) => (c.id === "sum-check" ? check("sum", "/* rewritten by the learner */ t.ok(true);") : c));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), AS_HANDED_OUT);
  assert.ok(!JSON.stringify(plan.cells).includes("rewritten by the learner"), "the learner's check text is in the plan");
  assert.deepEqual(plan.notes, []);
});

test("cells the learner added run where they are, and are counted in one note (Markdown ones are not)", () => {
  const cells = pristineCells();
  cells.splice(5, 0, code("mine-1", "console.log(sum([1]));")); // between the answer and its check
  cells.push(md("my-notes"), code("mine-2", "mean([1, 2])"));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), [
    "lesson:setup",
    "lesson:data",
    "learner:code-1",
    "learner:sum",
    "learner:mine-1",
    "check:sum",
    "learner:mean",
    "check:mean",
    "learner:mine-2",
  ]);
  assert.deepEqual(plan.notes, ["2 cells were added by the learner and run in place"]);

  const one = planSubmission(notebook(...pristineCells(), code("mine", "1")), TESTS);
  assert.deepEqual(one.notes, ["1 cell was added by the learner and run in place"]);
});

test("a deleted answer cell: its exercise gets no check (its check cell, still there, is not run) and a note says so", () => {
  const plan = planSubmission(notebook(...pristineCells().filter((c) => c.id !== "mean")), TESTS);
  assert.deepEqual(shape(plan), ["lesson:setup", "lesson:data", "learner:code-1", "learner:sum", "check:sum"]);
  assert.deepEqual(plan.notes, ["no answer cell for 'mean' (deleted, or its metadata was lost)"]);
  assert.deepEqual([...plan.answers.keys()], ["sum"]);

  const both = planSubmission(notebook(...pristineCells().filter((c) => c.id !== "mean" && c.id !== "sum")), TESTS);
  assert.deepEqual(both.notes, ["no answer cell for 'sum', 'mean' (deleted, or its metadata was lost)"]);
  assert.equal(both.answers.size, 0);
});

test("an answer pasted into a fresh cell (its metadata lost) runs as the learner's code, but the exercise counts as missing", () => {
  const cells = pristineCells().map((c) => (c.id === "sum" ? code("a1b2c3", SUM) : c));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), ["lesson:setup", "lesson:data", "learner:code-1", "learner:a1b2c3", "learner:mean", "check:mean"]);
  assert.deepEqual(plan.notes, [
    "1 cell was added by the learner and run in place",
    "no answer cell for 'sum' (deleted, or its metadata was lost)",
  ]);
});

test("exercises done out of order are run in the learner's order, each check after its own answer", () => {
  const [intro, setup, data, code1, sum, sumCheck, md2, mean, meanCheck, outro] = pristineTen();
  const plan = planSubmission(notebook(intro, setup, data, code1, md2, mean, meanCheck, sum, sumCheck, outro), TESTS);
  assert.deepEqual(shape(plan), [
    "lesson:setup",
    "lesson:data",
    "learner:code-1",
    "learner:mean",
    "check:mean",
    "learner:sum",
    "check:sum",
  ]);
  assert.deepEqual(plan.notes, []);
});

test("a check cell moved above its answer runs right after the answer; one moved further down runs where it now is", () => {
  const [intro, setup, data, code1, sum, sumCheck, md2, mean, meanCheck, outro] = pristineTen();
  const extra = code("mine", "console.log('after everything');");
  const plan = planSubmission(notebook(intro, setup, data, sumCheck, code1, sum, md2, mean, extra, outro, meanCheck), TESTS);
  assert.deepEqual(shape(plan), [
    "lesson:setup",
    "lesson:data",
    "learner:code-1",
    "learner:sum",
    "check:sum",
    "learner:mean",
    "learner:mine",
    "check:mean",
  ]);
});

test("a duplicated answer cell: only the last copy runs and is graded, its check after it, and a note says so", () => {
  const cells = pristineCells();
  const older = "function sum(xs: number[]): number { return 0; }";
  cells.splice(4, 1, answer("sum", older), code("between", "console.log('learner cell');"), answer("sum", SUM, "sum-copy"));
  // now: intro setup data code-1 sum(older) between sum-copy(SUM) sum-check …
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), [
    "lesson:setup",
    "lesson:data",
    "learner:code-1",
    "learner:between",
    "learner:sum-copy",
    "check:sum",
    "learner:mean",
    "check:mean",
  ]);
  assert.equal(plan.answers.get("sum"), SUM);
  assert.ok(!JSON.stringify(plan.cells).includes(older), "the earlier copy must not run");
  // The copy's new id is a duplicate, not an added cell; "between" is added.
  assert.deepEqual(plan.notes, [
    "exercise 'sum' has more than one answer cell; the last one was graded",
    "1 cell was added by the learner and run in place",
  ]);

  // The check cell now above the last copy: the check follows the last copy.
  const reordered = pristineCells();
  reordered.splice(6, 0, answer("sum", SUM, "sum-again")); // after sum-check
  const again = planSubmission(notebook(...reordered), TESTS);
  assert.deepEqual(shape(again), [
    "lesson:setup",
    "lesson:data",
    "learner:code-1",
    "learner:sum-again",
    "check:sum",
    "learner:mean",
    "check:mean",
  ]);
});

test("a locked cell the learner changed: the lesson's version runs in its place, and a note names the cell", () => {
  const cells = pristineCells().map((c) => (c.id === "data" ? locked("data", 'const names = ["Ada", "Bo", "Mallory"];') : c));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), AS_HANDED_OUT);
  assert.equal(sourceOf(plan, "data"), DATA);
  assert.deepEqual(plan.notes, ["cell 'data' is locked but was changed; the lesson's version was run instead"]);
});

test("a locked cell changed only in line endings or trailing spaces is not called changed; the lesson's text still runs", () => {
  const cells = pristineCells().map((c) => (c.id === "setup" ? locked("setup", `${SETUP}   \r\n\r\n`) : c));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(plan.notes, []);
  assert.equal(sourceOf(plan, "setup"), SETUP);
});

test("a locked cell even without its metadata is recognised by its id", () => {
  const cells = pristineCells().map((c) => (c.id === "data" ? code("data", "const names: string[] = [];") : c));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.equal(sourceOf(plan, "data"), DATA);
  assert.deepEqual(plan.notes, ["cell 'data' is locked but was changed; the lesson's version was run instead"]);
});

test("deleted locked cells are put back at the very top, in lesson order, with a note (one, or several)", () => {
  const one = planSubmission(notebook(...pristineCells().filter((c) => c.id !== "data")), TESTS);
  assert.deepEqual(shape(one), ["lesson:data", "lesson:setup", "learner:code-1", "learner:sum", "check:sum", "learner:mean", "check:mean"]);
  assert.equal(sourceOf(one, "data"), DATA);
  assert.deepEqual(one.notes, ["a locked cell was deleted (data); the lesson's version was put back at the top"]);

  const both = planSubmission(notebook(...pristineCells().filter((c) => c.id !== "data" && c.id !== "setup")), TESTS);
  assert.deepEqual(shape(both).slice(0, 2), ["lesson:setup", "lesson:data"]);
  assert.deepEqual(both.notes, ["2 locked cells were deleted (setup, data); the lesson's versions were put back at the top"]);
});

test("a locked cell turned into Markdown counts as deleted: the lesson's version goes back at the top", () => {
  const cells = pristineCells().map((c) => (c.id === "setup" ? md("setup", SETUP) : c));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan).slice(0, 2), ["lesson:setup", "lesson:data"]);
  assert.deepEqual(plan.notes, ["a locked cell was deleted (setup); the lesson's version was put back at the top"]);
});

test("a locked cell duplicated runs once, at its first copy; a locked cell moved runs where it now is", () => {
  const cells = pristineCells();
  cells.push(locked("setup", "// a changed second copy"));
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), AS_HANDED_OUT);
  assert.deepEqual(plan.notes, []);

  const [intro, setup, data, ...rest] = pristineCells() as [Cell, Cell, Cell, ...Cell[]];
  const moved = planSubmission(notebook(intro, setup, ...rest, data), TESTS);
  assert.deepEqual(shape(moved), [
    "lesson:setup",
    "learner:code-1",
    "learner:sum",
    "check:sum",
    "learner:mean",
    "check:mean",
    "lesson:data",
  ]);
});

test("cells of another lesson: its answers and locked cells run as the learner's code (and count as added); its checks never run", () => {
  const cells = [
    ...pristineCells(),
    answer("other-exercise", "const other = 1;"),
    check("other-exercise", "check('other-exercise', …)"),
    locked("other-locked", "const fromAnotherLesson = true;"),
  ];
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan).slice(-2), ["learner:other-exercise", "learner:other-locked"]);
  assert.ok(!plan.cells.some((c) => c.kind === "check" && c.exercise === "other-exercise"));
  assert.ok(!JSON.stringify(plan.cells).includes("check('other-exercise'"));
  assert.deepEqual(plan.notes, ["2 cells were added by the learner and run in place"]);
  assert.ok(!plan.answers.has("other-exercise"));
});

test("Markdown and raw cells never run, not even one carrying an answer's metadata", () => {
  const asMarkdown: Cell = {
    cell_type: "markdown",
    id: "sum",
    metadata: { rollcall: { role: "answer", exercise: "sum", points: 2 } },
    source: SUM,
  };
  const raw: Cell = { cell_type: "raw", id: "raw-1", metadata: {}, source: "console.log('raw')" };
  const cells = pristineCells().map((c) => (c.id === "sum" ? asMarkdown : c));
  cells.push(raw);
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(shape(plan), ["lesson:setup", "lesson:data", "learner:code-1", "learner:mean", "check:mean"]);
  assert.deepEqual(plan.notes, ["no answer cell for 'sum' (deleted, or its metadata was lost)"]);
});

test("an empty notebook: the locked cells put back, no check planned, every exercise missing", () => {
  const plan = planSubmission(notebook(), TESTS);
  assert.deepEqual(shape(plan), ["lesson:setup", "lesson:data"]);
  assert.deepEqual(plan.notes, [
    "2 locked cells were deleted (setup, data); the lesson's versions were put back at the top",
    "no answer cell for 'sum', 'mean' (deleted, or its metadata was lost)",
  ]);
  assert.equal(plan.answers.size, 0);
});

test("every kind of note at once, in a fixed order: duplicates, changed locked cells, deleted locked cells, added cells, missing answers", () => {
  const cells = [
    md("intro"),
    locked("setup", "// changed"),
    code("code-1", "1"),
    answer("sum", "// first"),
    answer("sum", SUM, "sum-2"),
    check("sum"),
    code("mine", "2"),
  ];
  const plan = planSubmission(notebook(...cells), TESTS);
  assert.deepEqual(plan.notes, [
    "exercise 'sum' has more than one answer cell; the last one was graded",
    "cell 'setup' is locked but was changed; the lesson's version was run instead",
    "a locked cell was deleted (data); the lesson's version was put back at the top",
    "1 cell was added by the learner and run in place",
    "no answer cell for 'mean' (deleted, or its metadata was lost)",
  ]);
  assert.deepEqual(shape(plan), ["lesson:data", "lesson:setup", "learner:code-1", "learner:sum-2", "check:sum", "learner:mine"]);
});
