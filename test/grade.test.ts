/** The grader end to end on known submissions: exact scores, the CSV agreeing with the JSON, and resuming after kill -9. */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { buildLesson } from "../src/engine/build.js";
import { serializeNotebook, withSources, type Notebook } from "../src/engine/notebook.js";
import { projectRoot } from "../src/engine/paths.js";
import { exercisePoints, type LearnerResults } from "../src/engine/results.js";
import { allLessons } from "./support/notebooks.js";

const run = promisify(execFile);
const GRADE = path.join(projectRoot, "dist", "scripts", "grade.mjs");
const LIMIT = { timeout: 240_000 };

/** The 01-arrays instructor copy with some answers swapped for the given code. */
async function submission(answers: Record<string, string> = {}, base: "instructor" | "learner" = "instructor"): Promise<string> {
  const lesson = (await allLessons()).find((l) => l.id === "01-arrays");
  assert.ok(lesson, "lessons/01-arrays.md is needed");
  const notebook: Notebook = buildLesson(lesson)[base];
  return serializeNotebook(withSources(notebook, answers));
}

const WRONG = {
  lastOffByOne: "function lastStudent(names: string[]): string {\n  return names[names.length];\n}",
  enrollTwice: "function enroll(names: string[], name: string): string[] {\n  names.push(name);\n  return names;\n}",
  caseSensitive:
    "function namesStartingWith(names: string[], letter: string): string[] {\n  return names.filter((n) => n.startsWith(letter));\n}",
  unsorted:
    "function emailsOf(people: readonly Student[], cohort: string): string[] {\n  return people.filter((s) => s.cohort === cohort).map((s) => s.email);\n}",
};

/** Learner → expected [score, status, points per exercise]; worked out by hand from each check's tests. */
const EXPECTED: Record<string, [number, string, Record<string, number>]> = {
  ada: [11, "pass", { "last-student": 2, enroll: 2, "starting-with": 2, "cohort-emails": 3, withdraw: 2 }],
  bo: [0, "fail", { "last-student": 0, enroll: 0, "starting-with": 0, "cohort-emails": 0, withdraw: 0 }],
  cy: [9, "fail", { "last-student": 0, enroll: 2, "starting-with": 2, "cohort-emails": 3, withdraw: 2 }],
  dev: [10.2, "fail", { "last-student": 2, enroll: 1.2, "starting-with": 2, "cohort-emails": 3, withdraw: 2 }],
  eli: [9.67, "fail", { "last-student": 2, enroll: 2, "starting-with": 0.67, "cohort-emails": 3, withdraw: 2 }],
  fay: [9.5, "fail", { "last-student": 2, enroll: 2, "starting-with": 2, "cohort-emails": 1.5, withdraw: 2 }],
  gus: [5.37, "fail", { "last-student": 0, enroll: 1.2, "starting-with": 0.67, "cohort-emails": 1.5, withdraw: 2 }],
};

async function writeClass(folder: string): Promise<void> {
  await writeFile(path.join(folder, "ada.ipynb"), await submission());
  await writeFile(path.join(folder, "bo.ipynb"), await submission({}, "learner"));
  await writeFile(path.join(folder, "cy.ipynb"), await submission({ "last-student": WRONG.lastOffByOne }));
  await writeFile(path.join(folder, "dev.ipynb"), await submission({ enroll: WRONG.enrollTwice }));
  await writeFile(path.join(folder, "eli.ipynb"), await submission({ "starting-with": WRONG.caseSensitive }));
  await writeFile(path.join(folder, "fay.ipynb"), await submission({ "cohort-emails": WRONG.unsorted }));
  await writeFile(
    path.join(folder, "gus.ipynb"),
    await submission({
      "last-student": WRONG.lastOffByOne,
      enroll: WRONG.enrollTwice,
      "starting-with": WRONG.caseSensitive,
      "cohort-emails": WRONG.unsorted,
    }),
  );
}

async function readResults(out: string): Promise<Map<string, LearnerResults>> {
  const files = (await readdir(path.join(out, "results"))).filter((f) => f.endsWith(".json"));
  return new Map(
    await Promise.all(
      files.map(
        async (f) =>
          [f.replace(/\.json$/, ""), JSON.parse(await readFile(path.join(out, "results", f), "utf8")) as LearnerResults] as const,
      ),
    ),
  );
}

const pointsBy = (r: LearnerResults): Record<string, number> =>
  Object.fromEntries([...new Set(r.tests.map((t) => t.exercise))].map((e) => [e, exercisePoints(r, e)]));

test("known submissions get exactly their expected scores, and the gradebook agrees with the results", LIMIT, async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-class-"));
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-out-"));
  await writeClass(folder);
  const { stdout } = await run(process.execPath, [GRADE, "--lesson", "01-arrays", "--out", out, "--jobs", "2", folder]);
  assert.match(stdout, /graded 7 submissions/);
  const results = await readResults(out);
  assert.deepEqual([...results.keys()].sort(), Object.keys(EXPECTED).sort());
  for (const [learner, [score, status, points]] of Object.entries(EXPECTED)) {
    const r = results.get(learner);
    assert.ok(r);
    assert.equal(r.version, 3);
    assert.equal(r.max_score, 11);
    assert.deepEqual([r.score, r.status, pointsBy(r)], [score, status, points], learner);
    // Plain notebooks leave nothing behind: their worker is kept for the next learner.
    assert.deepEqual(
      r.notes.filter((n) => /fresh worker/.test(n)),
      [],
      `${learner}: ${r.notes.join("; ")}`,
    );
    for (const t of r.tests) {
      assert.ok(t.points <= t.max_points && t.task_id >= 1 && typeof t.name === "string", `${learner}: ${t.name}`);
      if (t.status !== "pass") assert.ok((t.message ?? "").length > 5, `${learner}: ${t.name} has no message`);
    }
  }
  const feedback = await readFile(path.join(out, "feedback", "gus.html"), "utf8");
  assert.match(feedback, /5\.37/);
  assert.doesNotMatch(feedback, /roster\[roster\.length - 1\]|a roster of one"\), \(\) =>/, "hidden tests' code never shown");

  const rows = parse(await readFile(path.join(out, "gradebook.csv"), "utf8"), { columns: true }) as Record<string, string>[];
  assert.deepEqual(
    rows.map((r) => r.learner),
    Object.keys(EXPECTED).sort(),
  );
  for (const row of rows) {
    const r = results.get(row.learner ?? "");
    assert.ok(r);
    assert.equal(Number(row.score), r.score);
    assert.equal(row.status, r.status);
    for (const [exercise, value] of Object.entries(pointsBy(r))) assert.equal(Number(row[exercise]), value, `${row.learner} ${exercise}`);
  }
});

test("a grader killed with -9 mid-batch loses nothing: the next run grades only what is missing; --force regrades", LIMIT, async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-resume-"));
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-resume-out-"));
  await writeClass(folder);
  const grader = spawn(process.execPath, [GRADE, "--lesson", "01-arrays", "--out", out, "--jobs", "1", folder], { stdio: "ignore" });
  const resultsDir = path.join(out, "results");
  const count = async (): Promise<number> => (await readdir(resultsDir).catch(() => [])).filter((f) => f.endsWith(".json")).length;
  for (let waited = 0; (await count()) < 2; waited += 50) {
    assert.ok(waited < 120_000, "the grader wrote no results");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  grader.kill("SIGKILL");
  await new Promise((resolve) => grader.once("exit", resolve));
  const before = await count();
  assert.ok(before >= 2 && before < 7, `killed after ${before} of 7`);
  for (const f of await readdir(resultsDir)) {
    if (f.endsWith(".json")) JSON.parse(await readFile(path.join(resultsDir, f), "utf8")); // every result written is whole
  }
  const graded = new Map(
    await Promise.all(
      (await readdir(resultsDir))
        .filter((f) => f.endsWith(".json"))
        .map(async (f) => [f, (await stat(path.join(resultsDir, f))).mtimeMs] as const),
    ),
  );

  const again = await run(process.execPath, [GRADE, "--lesson", "01-arrays", "--out", out, folder]);
  assert.match(again.stdout, new RegExp(`${before} already graded`));
  assert.match(again.stdout, new RegExp(`graded ${7 - before} submissions?; 7 in`));
  for (const [f, mtime] of graded) assert.equal((await stat(path.join(resultsDir, f))).mtimeMs, mtime, `${f} was graded again`);
  const results = await readResults(out);
  for (const [learner, [score]] of Object.entries(EXPECTED)) assert.equal(results.get(learner)?.score, score, learner);

  const forced = await run(process.execPath, [GRADE, "--lesson", "01-arrays", "--out", out, "--force", path.join(folder, "ada.ipynb")]);
  assert.match(forced.stdout, /graded 1 submission; 7 in/);

  // collect found nothing from Ada this time and removed her old copy: her old marks go too, not into the gradebook nor back to her
  await rm(path.join(folder, "ada.ipynb"));
  const without = await run(process.execPath, [GRADE, "--lesson", "01-arrays", "--out", out, folder]);
  assert.match(without.stdout, /removed ada's earlier result: its submission .*ada\.ipynb is gone/);
  assert.match(without.stdout, /6 in/);
  assert.ok(!(await readResults(out)).has("ada"));
  assert.ok(!(await readdir(path.join(out, "feedback"))).includes("ada.html"));
  assert.doesNotMatch(await readFile(path.join(out, "gradebook.csv"), "utf8"), /^ada,/m);
});

test("grader misuse is a message and a non-zero exit, never a stack trace", async () => {
  const nope = await run(process.execPath, [GRADE, "--lesson", "99-nope", "--out", os.tmpdir(), "x.ipynb"]).then(
    () => assert.fail("accepted an unknown lesson"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(nope.code, 2);
  assert.match(nope.stderr, /no lesson '99-nope': choose one of .*01-arrays/);
  const usage = await run(process.execPath, [GRADE, "--lesson", "01-arrays"]).then(
    () => assert.fail("ran without --out"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.match(usage.stderr, /^usage: npm run grade/);
});
