/**
 * In the real tslab kernel: a check right after a failed cell says to fix that cell
 * (and runs no test), hints come one per failing run, and the watcher behind it
 * stays out of the way of learners' own output and of a second copy of itself.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { kitKernelCommand } from "../src/engine/tslab-snapshot.js";
import { buildDir, projectRoot } from "../src/engine/paths.js";
import { runNotebook, type NotebookRun } from "../src/engine/run.js";
import { errorLine } from "../src/previous-cell.js";
import { checkReports, notebookOf, type CheckReport } from "./support/notebooks.js";

const LIMIT = { timeout: 120_000 };

let folder: string;
let kernel: JupyterKernel;
// Under build/, so that `import "rollcall"` finds this project (node_modules/rollcall); a folder of its own,
// because tslab compiles every .ts file in its working folder.
before(async () => {
  await mkdir(buildDir, { recursive: true });
  folder = await mkdtemp(path.join(buildDir, "previous-cell-"));
  kernel = await JupyterKernel.start(kitKernelCommand(projectRoot), { cwd: folder });
});
after(async () => {
  await kernel.stop();
  await rm(folder, { recursive: true, force: true });
});

/** Runs cells one by one, each whatever happened before it (as a learner does), and returns the run and its check reports by cell. */
async function runCells(
  k: JupyterKernel,
  ...sources: string[]
): Promise<{ run: NotebookRun; reportOf: (cell: number) => CheckReport | undefined }> {
  const run = await runNotebook(notebookOf(...sources), k, { stopOnError: false, timeoutMs: 60_000 });
  const reportOf = (cell: number): CheckReport | undefined => {
    const only = run.notebook.cells[cell - 1];
    return only ? checkReports({ ...run.notebook, cells: [only] })[0] : undefined;
  };
  return { run, reportOf };
}

const IMPORT = 'import { check, todo } from "rollcall";';
const STUB =
  'function firstStudent(names: string[]): string {\n  // TODO: write your code here, then run the check below.\n  throw todo("first-student");\n}';
const GOOD = 'function firstStudent(names: string[]): string {\n  return names[0] ?? "";\n}';
const CHECK =
  'check("first-student", (t) => {\n  t.equal("the first of two", () => firstStudent(["Ada", "Bo"]), "Ada");\n}, { hints: ["Lists start at index 0.", "names[0] is the first name."] });';
const FIX_FIRST = /^✗ first-student: the cell above has an error: fix it first \((.*)\)\n/;

test("(a) a type error in the answer cell, then the check: 'fix it first' with the error, not 'not done yet'", LIMIT, async () => {
  const typeError = "function firstStudent(names: string[]): string {\n  return 42;\n}";
  const { run, reportOf } = await runCells(kernel, IMPORT, STUB, CHECK, typeError, CHECK);
  assert.deepEqual(
    run.cells.map((c) => c.status),
    ["ok", "ok", "ok", "error", "ok"],
  );
  assert.equal(reportOf(3)?.status, "todo", "the stub's own check is 'not done yet'");
  const report = reportOf(5);
  assert.match(report?.text ?? "", FIX_FIRST);
  assert.equal(FIX_FIRST.exec(report?.text ?? "")?.[1], "2:3 - Type 'number' is not assignable to type 'string'.");
  assert.doesNotMatch(report?.text ?? "", /not done yet|TODO|Hint/);
  assert.deepEqual(report?.tests, [], "no test ran against the old stub");
});

test("(b) an answer cell that throws at top level, then the check: 'fix it first' with the error's first line", LIMIT, async () => {
  const throws = 'function firstStudent(names: string[]): string {\n  return names[0] ?? "";\n}\nconst names: string[] = JSON.parse("{");';
  const { run, reportOf } = await runCells(kernel, IMPORT, STUB, throws, CHECK);
  assert.deepEqual(
    run.cells.map((c) => c.status),
    ["ok", "ok", "error", "ok"],
  );
  const report = reportOf(4);
  assert.match(FIX_FIRST.exec(report?.text ?? "")?.[1] ?? "", /^SyntaxError: .*JSON/);
});

test("(c) a good answer, then the check: it passes, with no word of an error", LIMIT, async () => {
  const { run, reportOf } = await runCells(kernel, IMPORT, STUB, GOOD, CHECK);
  assert.deepEqual(
    run.cells.map((c) => c.status),
    ["ok", "ok", "ok", "ok"],
  );
  assert.equal(reportOf(4)?.status, "pass");
  assert.equal(reportOf(4)?.text, "✓ first-student: the check passes");
});

test("(d) only the cell just before counts: an earlier failure, then a good answer, then the check passes", LIMIT, async () => {
  const { run, reportOf } = await runCells(
    kernel,
    IMPORT,
    STUB,
    'const oops: number = "not a number";',
    'throw new Error("unrelated");',
    GOOD,
    CHECK,
  );
  assert.deepEqual(
    run.cells.map((c) => c.status),
    ["ok", "ok", "error", "error", "ok", "ok"],
  );
  assert.equal(reportOf(6)?.text, "✓ first-student: the check passes");
});

test(
  "a learner's own console.error and process.stderr.write are output, not a failed cell; swapping write is not a new cell",
  LIMIT,
  async () => {
    const { run, reportOf } = await runCells(
      kernel,
      IMPORT,
      GOOD,
      'console.error("just saying"); process.stderr.write("and this\\n");',
      CHECK,
      // A cell that replaces process.stderr.write (keeping the old one) and then fails: still that cell's failure.
      'const keep = process.stderr.write;\nprocess.stderr.write = function (this: unknown, ...args: unknown[]) { return (keep as Function).apply(this, args); } as typeof process.stderr.write;\nthrow new Error("after a swap");',
      // ... and a check cell that sets it again before checking: still the cell above's failure.
      `process.stderr.write = process.stderr.write;\n${CHECK}`,
      'console.error("still printing");',
      CHECK,
    );
    assert.deepEqual(
      run.cells.map((c) => c.status),
      ["ok", "ok", "ok", "ok", "error", "ok", "ok", "ok"],
    );
    const stderr = (cell: number): string => {
      const c = run.notebook.cells[cell - 1];
      return c?.cell_type === "code"
        ? c.outputs.map((o) => (o.output_type === "stream" && o.name === "stderr" ? o.text : "")).join("")
        : "";
    };
    assert.equal(stderr(3), "just saying\nand this\n", "the learner's output reaches the cell unchanged");
    assert.equal(reportOf(4)?.status, "pass");
    assert.equal(FIX_FIRST.exec(reportOf(6)?.text ?? "")?.[1], "Error: after a swap");
    assert.equal(stderr(7), "still printing\n", "the learner's write still works, without going round in circles");
    assert.equal(reportOf(8)?.status, "pass");
  },
);

test("hints in the kernel: none while 'not done yet', then one more per failing run; a broken cell above uses none", LIMIT, async () => {
  const wrong = 'function firstStudent(names: string[]): string {\n  return names[1] ?? "";\n}';
  const fresh = await JupyterKernel.start(kitKernelCommand(projectRoot), { cwd: folder }); // its own memory of hints
  try {
    const { reportOf } = await runCells(
      fresh,
      IMPORT,
      STUB,
      CHECK,
      wrong,
      CHECK,
      'const broken: number = "x";',
      CHECK,
      wrong,
      CHECK,
      CHECK,
      GOOD,
      CHECK,
    );
    const hints = (cell: number): readonly string[] | undefined => reportOf(cell)?.hints;
    assert.deepEqual(hints(3), []);
    assert.deepEqual(hints(5), ["Lists start at index 0."]);
    assert.match(reportOf(5)?.text ?? "", /Another hint comes with the next run of this check\.$/);
    assert.match(reportOf(7)?.text ?? "", FIX_FIRST);
    assert.deepEqual(hints(9), ["Lists start at index 0.", "names[0] is the first name."], "the broken cell's check did not use up a hint");
    assert.doesNotMatch(reportOf(9)?.text ?? "", /Another hint/);
    assert.deepEqual(hints(10), ["Lists start at index 0.", "names[0] is the first name."]);
    assert.deepEqual([reportOf(12)?.status, hints(12)], ["pass", []]);
  } finally {
    await fresh.stop();
  }
});

test("a second copy of the helper module shares the first one's watcher instead of adding its own", LIMIT, async () => {
  await copyFile(path.join(projectRoot, "dist", "src", "previous-cell.js"), path.join(folder, "second-copy.js"));
  const { run, reportOf } = await runCells(
    kernel,
    IMPORT,
    STUB,
    [
      'const first = require("rollcall/dist/src/previous-cell.js");',
      'const getter = Object.getOwnPropertyDescriptor(process.stderr, "write")?.get;',
      `const second = require(${JSON.stringify(path.join(folder, "second-copy.js"))});`,
      'const same = first !== second && Object.getOwnPropertyDescriptor(process.stderr, "write")?.get === getter;',
    ].join("\n"),
    'throw new Error("seen by both");',
    "[same, first.previousCellError(), second.previousCellError()]",
    'throw new Error("and again");',
    CHECK,
  );
  assert.deepEqual(
    run.cells.map((c) => c.status),
    ["ok", "ok", "ok", "error", "ok", "error", "ok"],
  );
  const shown = run.notebook.cells[4];
  assert.deepEqual(shown?.cell_type === "code" && shown.outputs, [
    { output_type: "stream", name: "stdout", text: "[ true, 'Error: seen by both', 'Error: seen by both' ]\n" },
  ]);
  assert.equal(FIX_FIRST.exec(reportOf(7)?.text ?? "")?.[1], "Error: and again");
});

test("the error's line: the message, not where it happened nor the stack", () => {
  assert.equal(
    errorLine("2:3 - Type 'number' is not assignable to type 'string'.\n"),
    "2:3 - Type 'number' is not assignable to type 'string'.",
  );
  assert.equal(
    errorLine(
      "evalmachine.<anonymous>:4\n    return name.toUpperCase();\n                ^\n\nTypeError: Cannot read properties of undefined (reading 'toUpperCase')\n    at shout (evalmachine.<anonymous>:4:17)\n",
    ),
    "TypeError: Cannot read properties of undefined (reading 'toUpperCase')",
  );
  assert.equal(errorLine("\u001b[31mError: red\u001b[39m\n    at x (y.js:1:1)\n"), "Error: red");
  assert.equal(errorLine(new TextEncoder().encode("oops\n")), "oops", "a thrown string, written as bytes");
  assert.equal(errorLine(`Error: ${"x".repeat(300)}`).length, 200);
});
