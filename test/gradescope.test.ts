/**
 * Gradescope: results.json as its autograder specification lays it out, and the
 * autograder zip run the way Gradescope runs it. The zip is unpacked into a tree
 * shaped like Gradescope's (/autograder/source, /submission, /results, moved by
 * ROLLCALL_AUTOGRADER_ROOT), the kit installed here stands in for `npm ci` (hard
 * links to node_modules/, then the compile npm's prepare step does), and
 * run_autograder grades the instructor copy (full marks) and the learner copy (0).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { buildLesson } from "../src/engine/build.js";
import { gradescopeResults, type GradescopeResults } from "../src/engine/gradescope.js";
import { loadLesson } from "../src/engine/lesson-files.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { notebooksDir, projectRoot } from "../src/engine/paths.js";
import { outcome, results } from "./support/results.js";

const run = promisify(execFile);
const LESSON = "01-arrays";

test("results.json: score, time, output, and a test per lesson test; hidden tests wait for the due date", () => {
  const graded = results(
    "ada",
    [
      outcome("add-student", "adds one", 1.5, 1.5),
      outcome("add-student", "keeps order", 0, 1.5, "fail", { message: "expected [Ada, Bo]", output: "hi\n", hidden: true }),
      outcome("count-rows", "count-rows", 0, 1, "error", { message: "your answer cell did not run" }),
    ],
    { notes: ["a locked cell was changed and restored"] },
  );
  assert.deepEqual(gradescopeResults(graded, 12.345), {
    score: 1.5,
    execution_time: 12.3,
    // Only the visible tests' points: with the hidden ones in, a learner could work out how those went before the due date.
    output:
      "keeping-a-roster: 1.5 of 2.5 points in the visible tests; 1 more test counts after the due date\nnote: a locked cell was changed and restored",
    stdout_visibility: "hidden",
    tests: [
      { name: "add-student: adds one", score: 1.5, max_score: 1.5, status: "passed", output: "passed", visibility: "visible" },
      {
        name: "add-student: keeps order",
        score: 0,
        max_score: 1.5,
        status: "failed",
        output: "expected [Ada, Bo]\nyour code printed:\nhi\n",
        visibility: "after_due_date",
      },
      { name: "count-rows", score: 0, max_score: 1, status: "failed", output: "your answer cell did not run", visibility: "visible" },
    ],
  });
});

/** Each entry's Unix mode, from the zip's central directory (what unzip on Gradescope applies). */
function unixModes(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.byteLength - 22; // no archive comment
  assert.equal(view.getUint32(end, true), 0x06054b50, "end of central directory");
  const modes = new Map<string, number>();
  let at = view.getUint32(end + 16, true);
  for (let i = 0; i < view.getUint16(end + 10, true); i++) {
    assert.equal(view.getUint32(at, true), 0x02014b50, "central directory entry");
    const nameLength = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    modes.set(name, view.getUint32(at + 38, true) >>> 16);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return modes;
}

let tmp = "";
let root = "";
let source = "";
before(async () => {
  // The temporary folder is Gradescope's /autograder itself: tslab's compiler watches the project's
  // node_modules/ when it sits deeper than that, which a grading worker may not read.
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-gradescope-"));
  root = tmp;
  source = path.join(root, "source");
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Test names a check cell of the learner's copy declares: every other test of the lesson is hidden. */
async function visibleTestNames(): Promise<Set<string>> {
  const notebook = JSON.parse(await readFile(path.join(notebooksDir, `${LESSON}.ipynb`), "utf8")) as {
    cells: { source: string | string[]; metadata: { rollcall?: { role?: string; exercise?: string } } }[];
  };
  const names = new Set<string>();
  for (const cell of notebook.cells.filter((c) => c.metadata.rollcall?.role === "check")) {
    const text = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    for (const m of text.matchAll(/\bt\.(?:equal|ok|throws)\(\s*"([^"]+)"/g)) names.add(`${cell.metadata.rollcall?.exercise}: ${m[1]}`);
  }
  return names;
}

async function runAutograder(notebook: string): Promise<GradescopeResults> {
  await rm(path.join(root, "submission"), { recursive: true, force: true });
  await rm(path.join(root, "results"), { recursive: true, force: true });
  await mkdir(path.join(root, "submission"), { recursive: true });
  await writeFile(path.join(root, "submission", `${LESSON}.ipynb`), notebook);
  await run("bash", [path.join(source, "run_autograder")], { cwd: root, env: { ...process.env, ROLLCALL_AUTOGRADER_ROOT: root } });
  return JSON.parse(await readFile(path.join(root, "results", "results.json"), "utf8")) as GradescopeResults;
}

test("the autograder zip holds setup.sh and run_autograder at its root, the lesson and the kit's sources, nothing built", async () => {
  const zipFile = path.join(tmp, `${LESSON}.zip`);
  await run(process.execPath, [path.join(projectRoot, "dist", "scripts", "autograder.mjs"), LESSON, "--out", zipFile]);
  const zip = new Uint8Array(await readFile(zipFile));
  const files = unzipSync(zip);
  const names = Object.keys(files);
  for (const name of ["setup.sh", "run_autograder", "LESSON", "package.json", "package-lock.json", "tsconfig.json", `lessons/${LESSON}.md`])
    assert.ok(names.includes(name), `the zip holds ${name}`);
  assert.deepEqual(
    names.filter(
      (n) => /^(build|dist|node_modules|test|bench|notebooks)\//.test(n) || (n.startsWith("lessons/") && n !== `lessons/${LESSON}.md`),
    ),
    [],
  );
  assert.ok(names.includes("src/engine/grade.ts") && names.includes("scripts/gradescope-grade.mts"));
  const modes = unixModes(zip);
  assert.equal(modes.get("run_autograder"), 0o100755);
  assert.equal(modes.get("setup.sh"), 0o100755);
  assert.equal(modes.get("package.json"), 0o100644);
  // The hidden tests travel in the lesson's source: Gradescope keeps the zip from learners.
  assert.match(new TextDecoder().decode(files[`lessons/${LESSON}.md`]), /BEGIN HIDDEN TESTS/);

  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(source, name)), { recursive: true });
    await writeFile(path.join(source, name), bytes, { mode: modes.get(name) ?? 0o644 });
  }
  for (const script of ["setup.sh", "run_autograder"]) await run("bash", ["-n", path.join(source, script)]);
  assert.match(await readFile(path.join(source, "setup.sh"), "utf8"), /^npm ci\b/m);
});

test("run_autograder grades the instructor copy with full marks and the learner copy with none", async () => {
  // What setup.sh's `npm ci` would install: this project's packages, hard-linked (its `rollcall` link is relative), then compiled.
  const modules = path.join(projectRoot, "node_modules");
  await run("cp", ["-al", modules, path.join(source, "node_modules")]).catch(async () =>
    run("cp", ["-a", modules, path.join(source, "node_modules")]),
  );
  await run(process.execPath, [path.join(source, "node_modules", "typescript", "bin", "tsc"), "-b"], { cwd: source });

  const lesson = await loadLesson(LESSON);
  assert.ok(lesson.ok);
  const visible = await visibleTestNames();

  const full = await runAutograder(serializeNotebook(buildLesson(lesson.value).instructor));
  const max = lesson.value.exercises.reduce((sum, e) => sum + e.points, 0);
  assert.equal(full.score, max);
  assert.equal(typeof full.execution_time, "number");
  // What learners always see: the visible tests' points, never the total with the hidden tests in it.
  const hidden = full.tests.filter((t) => t.visibility === "after_due_date").length;
  const shown = Math.round(full.tests.filter((t) => t.visibility === "visible").reduce((sum, t) => sum + t.max_score, 0) * 100) / 100;
  assert.match(
    full.output,
    new RegExp(`^${LESSON}: ${shown} of ${shown} points in the visible tests; ${hidden} more tests count after the due date`),
  );
  assert.ok(full.tests.length > lesson.value.exercises.length);
  for (const t of full.tests) {
    assert.deepEqual(Object.keys(t).sort(), ["max_score", "name", "output", "score", "status", "visibility"]);
    assert.equal(t.status, "passed", t.name);
    assert.equal(t.score, t.max_score, t.name);
    assert.equal(t.visibility, visible.has(t.name) ? "visible" : "after_due_date", t.name);
  }
  assert.ok(full.tests.some((t) => t.visibility === "after_due_date") && full.tests.some((t) => t.visibility === "visible"));
  assert.equal(Math.round(full.tests.reduce((sum, t) => sum + t.max_score, 0) * 100) / 100, max);

  const none = await runAutograder(await readFile(path.join(notebooksDir, `${LESSON}.ipynb`), "utf8"));
  assert.equal(none.score, 0);
  assert.deepEqual(
    none.tests.map((t) => t.name),
    full.tests.map((t) => t.name),
  );
  for (const t of none.tests) {
    assert.equal(t.status, "failed", t.name);
    assert.equal(t.score, 0, t.name);
    assert.match(t.output, /not done yet/, t.name);
  }
});
