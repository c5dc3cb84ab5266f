/** The headless runner on the real tslab kernel: lessons, limits, a dying kernel, and nbconvert as the oracle. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { demoOutputProblems } from "../src/engine/demo-outputs.js";
import { formatProblem } from "../src/engine/problem.js";
import { runNotebookFile } from "../src/engine/run-file.js";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { installKernelSpec } from "../src/engine/jupyter-setup.js";
import { kitKernelCommand } from "../src/engine/tslab-snapshot.js";
import { parseNotebook, serializeNotebook, TSLAB_LANGUAGE_INFO } from "../src/engine/notebook.js";
import { instructorDir, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { runNotebook } from "../src/engine/run.js";
import { allLessons, checkReports, codeOutputs, leavingNoFiles, notebookOf, troubles, writeInstructorCopy } from "./support/notebooks.js";

const run = promisify(execFile);
/** A hang fails the test instead of stalling the suite. */
const LIMIT = { timeout: 120_000 };

test(
  "every instructor notebook runs to the end: every demo prints what the lesson says, every self-check and hidden test passes",
  LIMIT,
  () =>
    leavingNoFiles(instructorDir, async () => {
      for (const lesson of await allLessons()) {
        const { file } = await writeInstructorCopy(lesson);
        const result = await runNotebookFile(file, { timeoutMs: 60_000 });
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
        const failed = result.value.cells.filter((c) => c.status !== "ok");
        assert.deepEqual(failed, [], `${lesson.id}: cells that did not run cleanly`);
        assert.deepEqual(troubles(result.value.notebook), [], `${lesson.id}: error output`);
        assert.deepEqual(
          demoOutputProblems(lesson, result.value.notebook).map(formatProblem),
          [],
          `${lesson.id}: a demo does not show what the lesson claims`,
        );
        const reports = checkReports(result.value.notebook);
        assert.deepEqual(
          reports.map((r) => r.exercise),
          lesson.exercises.map((e) => e.id),
          `${lesson.id}: one report per exercise`,
        );
        for (const report of reports) {
          assert.equal(report.status, "pass", `${lesson.id} ${report.exercise}: ${report.text}`);
        }
      }
    }),
);

test("every learner notebook runs to the end; only the exercises report, each 'not done yet', never as an error", LIMIT, () =>
  leavingNoFiles(notebooksDir, async () => {
    for (const lesson of await allLessons()) {
      const result = await runNotebookFile(path.join(notebooksDir, `${lesson.id}.ipynb`), { timeoutMs: 60_000 });
      assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
      assert.deepEqual(
        result.value.cells.filter((c) => c.status !== "ok"),
        [],
        `${lesson.id}: Run All must reach the end`,
      );
      assert.deepEqual(troubles(result.value.notebook), [], `${lesson.id}: a learner would see an error`);
      const reports = checkReports(result.value.notebook);
      assert.equal(reports.length, lesson.exercises.length);
      for (const report of reports) {
        assert.equal(report.status, "todo", `${lesson.id} ${report.exercise}`);
        assert.match(report.text, new RegExp(`not done yet: ${report.exercise}`));
        assert.doesNotMatch(report.text, /at .*\(.*:\d+:\d+\)/, "no stack trace");
      }
    }
  }),
);

test("results match jupyter nbconvert --execute on the same notebook", LIMIT, async () => {
  const [lesson] = await allLessons();
  assert.ok(lesson);
  const { file } = await writeInstructorCopy(lesson);
  const ours = await runNotebookFile(file, { timeoutMs: 60_000 });
  assert.ok(ours.ok);
  const jupyterPath = await mkdtemp(path.join(os.tmpdir(), "rollcall-jupyter-"));
  await installKernelSpec(jupyterPath, projectRoot);
  const { stdout } = await run("/usr/bin/python3", ["-m", "nbconvert", "--to", "notebook", "--execute", "--stdout", file], {
    cwd: instructorDir,
    env: { ...process.env, JUPYTER_PATH: jupyterPath },
    maxBuffer: 64 << 20,
  }).catch((error: { stderr?: string }) => {
    throw new Error(`nbconvert failed (apt-get install jupyter-nbconvert):\n${error.stderr ?? String(error)}`);
  });
  const theirs = parseNotebook(stdout, "nbconvert output");
  assert.ok(theirs.ok);
  // Execution counts differ by design: nbclient takes them only from execute_input, which tslab never sends;
  // ours come from the reply, as Jupyter Notebook shows them (In [1]).
  assert.deepEqual(codeOutputs(ours.value.notebook), codeOutputs(theirs.value));
});

let kernel: JupyterKernel;
// A folder of its own: tslab compiles every .ts file in its working folder, and the machine's /tmp holds anything.
const emptyFolder = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), "rollcall-kernel-cwd-"));
before(async () => {
  kernel = await JupyterKernel.start(kitKernelCommand(projectRoot), { cwd: await emptyFolder() });
});
after(async () => {
  await kernel.stop();
});

test("the notebooks carry the language_info the real kernel reports, so Jupyter opens them unmodified", async () => {
  assert.deepEqual(kernel.languageInfo, TSLAB_LANGUAGE_INFO);
  for (const { id } of await allLessons()) {
    const file = path.join(notebooksDir, `${id}.ipynb`);
    const built = parseNotebook(await readFile(file, "utf8"), file);
    assert.ok(built.ok, file);
    assert.deepEqual(built.value.metadata.language_info, kernel.languageInfo, file);
  }
});

test("an endless loop is interrupted at the cell's time limit, and the kernel carries on", LIMIT, async () => {
  const { cells, notebook } = await runNotebook(notebookOf("let n = 1;", "while (true) { n++; }", "n > 1"), kernel, {
    timeoutMs: 1500,
    stopOnError: false,
  });
  assert.deepEqual(
    cells.map((c) => c.status),
    ["ok", "timeout", "ok"],
  );
  assert.match(cells[1]?.message ?? "", /still running after 1\.5 s/);
  const last = notebook.cells[2];
  assert.deepEqual(last?.cell_type === "code" && last.outputs, [{ output_type: "stream", name: "stdout", text: "true\n" }]);
});

test("after an error, Run All stops; with stopOnError off the next cell still runs (tslab's abort window waited out)", LIMIT, async () => {
  const stopping = await runNotebook(notebookOf("throw new Error('boom')", "1 + 1"), kernel);
  assert.deepEqual(
    stopping.cells.map((c) => c.status),
    ["error", "skipped"],
  );
  assert.match(stopping.cells[1]?.message ?? "", /not run: cell 1 stopped with an error/);
  const going = await runNotebook(notebookOf("throw new Error('boom')", "1 + 1"), kernel, { stopOnError: false });
  assert.deepEqual(
    going.cells.map((c) => c.status),
    ["error", "ok"],
  );
});

test("a flood of output is cut at the cap, with a note", LIMIT, async () => {
  const { notebook } = await runNotebook(notebookOf("for (let i = 0; i < 5000; i++) console.log('spam spam spam spam');"), kernel, {
    maxOutputChars: 1000,
  });
  const cell = notebook.cells[0];
  const text = cell?.cell_type === "code" && cell.outputs[0]?.output_type === "stream" ? cell.outputs[0].text : "";
  assert.ok(text.length < 1200, `kept ${text.length} characters`);
  assert.match(text, /output cut: this cell printed more than 1,000 characters/);
});

test("a kernel that dies mid-run is reported on that cell and the ones after it, not as a hang", LIMIT, async () => {
  const doomed = await JupyterKernel.start(kitKernelCommand(projectRoot), { cwd: await emptyFolder() });
  try {
    const { cells } = await runNotebook(notebookOf("1", "process.exit(3)", "2"), doomed, { stopOnError: false, timeoutMs: 20_000 });
    assert.deepEqual(
      cells.map((c) => c.status),
      ["ok", "died", "died"],
    );
    assert.match(cells[1]?.message ?? "", /the tslab kernel exited with code 3/);
    assert.equal(doomed.alive, false);
  } finally {
    await doomed.stop();
  }
});

test("a malformed notebook is a problem naming the file and what is wrong", LIMIT, async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-bad-"));
  const truncated = path.join(folder, "truncated.ipynb");
  await writeFile(truncated, serializeNotebook(notebookOf("1")).slice(0, 50));
  const result = await runNotebookFile(truncated);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? (result.problems[0]?.message ?? "") : "", /this is not a notebook: its JSON does not parse/);
  const badCell = path.join(folder, "bad-cell.ipynb");
  await writeFile(
    badCell,
    JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: "1" }, { cell_type: "picture" }] }),
  );
  const second = await runNotebookFile(badCell);
  assert.deepEqual(!second.ok && second.problems, [
    { file: badCell, cell: "2", message: "unknown cell_type 'picture' (expected code, markdown or raw)" },
  ]);
  const missing = await runNotebookFile(path.join(folder, "nope.ipynb"));
  assert.match(!missing.ok ? (missing.problems[0]?.message ?? "") : "", /cannot read this notebook \(ENOENT\)/);
});
