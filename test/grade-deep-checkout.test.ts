/**
 * The grader works wherever the kit is cloned, however deep: from a deep folder the
 * cells' compiler watches the project's own node_modules/, which a worker may not
 * read, and the worker used to stop (ERR_ACCESS_DENIED) before grading anyone.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { buildDir, projectRoot } from "../src/engine/paths.js";
import { allLessons, writeInstructorCopy } from "./support/notebooks.js";

const run = promisify(execFile);

test("a kit cloned five folders deep grades a submission in full", { timeout: 120_000 }, async () => {
  // Inside build/, on the project's own file system, so that node_modules/ can be hard-linked in a moment.
  const top = path.join(buildDir, "deep-checkout");
  const kit = path.join(top, "courses", "2026", "autumn", "rollcall");
  await rm(top, { recursive: true, force: true });
  try {
    await mkdir(kit, { recursive: true });
    await run("cp", ["-al", path.join(projectRoot, "node_modules"), path.join(projectRoot, "dist"), kit]);
    for (const part of ["package.json", "lessons"]) await cp(path.join(projectRoot, part), path.join(kit, part), { recursive: true });
    const lesson = (await allLessons()).find((l) => l.id === "01-arrays");
    assert.ok(lesson);
    const submission = path.join(top, "ada.ipynb");
    await cp((await writeInstructorCopy(lesson)).file, submission);

    const out = path.join(top, "out");
    const graded = await run(
      process.execPath,
      [path.join(kit, "dist", "scripts", "grade.mjs"), "--lesson", "01-arrays", "--out", out, submission],
      {
        encoding: "utf8",
      },
    ).catch((error: { stdout: string; stderr: string }) => ({ stdout: error.stdout, stderr: error.stderr }));
    assert.match(graded.stdout, /graded 1 submission/, graded.stderr);
    const results = JSON.parse(await readFile(path.join(out, "results", "ada.json"), "utf8")) as { status: string; score: number };
    assert.deepEqual([results.status, results.score], ["pass", 11]);
  } finally {
    await rm(top, { recursive: true, force: true });
  }
});
