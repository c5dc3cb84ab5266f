/**
 * How the grader writes what it found (src/engine/grade-batch.ts): each file whole
 * or not at all, by rename; what a killed run left removed; a result trusted only
 * for this lesson, this file and these bytes. The submissions here never reach a
 * kernel (too large, or a notebook with none of the lesson's exercises), so each
 * batch takes a fraction of a second.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { GradableLesson } from "../src/engine/grade.js";
import { gradeBatch, type BatchOptions } from "../src/engine/grade-batch.js";
import { DEFAULT_LIMITS } from "../src/engine/grade-pool.js";
import { loadGradableLesson } from "../src/engine/lesson-files.js";
import type { LearnerResults } from "../src/engine/results.js";

const LESSON = "01-arrays";
/** A notebook that parses but holds none of the lesson's exercises: graded `error` without running anything. */
const STRANGER = `${JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "markdown", id: "m", metadata: {}, source: "hello" }] })}\n`;

let grading: GradableLesson;
let tmp = "";
before(async () => {
  const loaded = await loadGradableLesson(LESSON);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  grading = loaded.value;
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-batch-writes-"));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A fresh class folder and out folder, with these files in the class folder. */
async function classOf(name: string, files: Record<string, string>): Promise<{ subs: string; out: string; file: (n: string) => string }> {
  const subs = path.join(tmp, name, "subs");
  const out = path.join(tmp, name, "out");
  await mkdir(subs, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(subs, file), text);
  return { subs, out, file: (n) => path.join(subs, n) };
}
const options = (out: string, extra: Partial<BatchOptions> = {}): BatchOptions => ({
  lessonId: LESSON,
  out,
  jobs: 1,
  force: false,
  limits: DEFAULT_LIMITS,
  maxBytes: 1024 * 1024,
  ...extra,
});
const readResult = async (out: string, name: string): Promise<LearnerResults> =>
  JSON.parse(await readFile(path.join(out, "results", `${name}.json`), "utf8")) as LearnerResults;
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
/** Every file under a folder, relative, sorted. */
const filesUnder = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();

test("a result is written whole: indented JSON with a trailing newline, naming the submission and the SHA-256 of its bytes; no temporary left", async () => {
  const { subs, out, file } = await classOf("shape", { "ada.ipynb": STRANGER });
  const outcome = await gradeBatch([subs], grading, options(out));
  assert.deepEqual({ ...outcome, problems: [...outcome.problems] }, { graded: 1, skipped: 0, inGradebook: 1, problems: [], removed: [] });
  const text = await readFile(path.join(out, "results", "ada.json"), "utf8");
  const written = JSON.parse(text) as LearnerResults;
  assert.equal(text, `${JSON.stringify(written, null, 2)}\n`);
  assert.equal(written.version, 3);
  assert.equal(written.status, "error");
  assert.equal(written.learner, "ada");
  assert.equal(written.lesson, LESSON);
  assert.equal(written.source, path.resolve(file("ada.ipynb")));
  assert.equal(written.submission_sha256, sha256(STRANGER));
  assert.deepEqual(
    written.tests.map((t) => [t.exercise, t.status, t.points]),
    grading.tests.exercises.map((e) => [e.id, "error", 0]),
  );
  assert.deepEqual(await filesUnder(out), ["feedback/ada.html", "gradebook-canvas.csv", "gradebook.csv", "results/ada.json"]);
  assert.equal((await stat(out)).mode & 0o777, 0o700, "a new out folder is its owner's alone (learners on a class hub must not read it)");
});

test("a file too large is never read: its error result names the file but has no digest", async () => {
  const { subs, out, file } = await classOf("too-large", { "bo.ipynb": "x".repeat(2048) });
  await gradeBatch([subs], grading, options(out, { maxBytes: 1024 }));
  const written = await readResult(out, "bo");
  assert.equal(written.status, "error");
  assert.match(written.message ?? "", /larger than/);
  assert.equal(written.source, path.resolve(file("bo.ipynb")));
  assert.ok(!("submission_sha256" in written));
});

test("results, feedback and the gradebook are replaced by rename, never rewritten in place (a reader holding the old file sees it whole)", async () => {
  const { subs, out } = await classOf("rename", { "ada.ipynb": STRANGER });
  const old = {
    "results/ada.json": '{"lesson": "another-lesson"}\n',
    "feedback/ada.html": "<p>old page</p>\n",
    "gradebook.csv": "old,gradebook\n",
  };
  await mkdir(path.join(out, "results"), { recursive: true });
  await mkdir(path.join(out, "feedback"), { recursive: true });
  for (const [file, text] of Object.entries(old)) {
    await writeFile(path.join(out, file), text);
    await link(path.join(out, file), path.join(tmp, "rename", `held-${path.basename(file)}`)); // the old file, held open by another name
  }
  await gradeBatch([subs], grading, options(out));
  for (const [file, text] of Object.entries(old)) {
    assert.equal(
      await readFile(path.join(tmp, "rename", `held-${path.basename(file)}`), "utf8"),
      text,
      `${file} was written into in place`,
    );
    assert.notEqual(await readFile(path.join(out, file), "utf8"), text, `${file} was not replaced`);
  }
});

test("temporary files a killed run left in results/, feedback/ and the out folder are removed; nothing else is", async () => {
  const { out } = await classOf("litter", {});
  const litter = ["results/.ada.json.4242.tmp", "results/ada.json.4242.tmp", "feedback/.ada.html.4242.tmp", ".gradebook.csv.4242.tmp"];
  const kept = ["results/notes.txt", "feedback/ada.html", "readme.md", "elsewhere/x.tmp"];
  for (const file of [...litter, ...kept]) {
    await mkdir(path.dirname(path.join(out, file)), { recursive: true });
    await writeFile(path.join(out, file), '{"version": 3, "status": "pa');
  }
  const outcome = await gradeBatch([], grading, options(out));
  assert.deepEqual([outcome.graded, outcome.inGradebook], [0, 0]);
  assert.deepEqual(await filesUnder(out), [...kept, "gradebook-canvas.csv", "gradebook.csv"].sort());
});

test("a half-written result is never trusted: that learner is graded again; a result of another lesson stays out of the gradebook", async () => {
  const { subs, out } = await classOf("half-written", { "ada.ipynb": STRANGER });
  await mkdir(path.join(out, "results"), { recursive: true });
  await writeFile(path.join(out, "results", "ada.json"), '{"version": 3, "status": "pa');
  const other: Partial<LearnerResults> = {
    version: 3,
    status: "pass",
    tests: [],
    score: 0,
    max_score: 0,
    learner: "zed",
    lesson: "02-something-else",
    notes: [],
  };
  await writeFile(path.join(out, "results", "zed.json"), JSON.stringify(other));
  const outcome = await gradeBatch([subs], grading, options(out));
  assert.deepEqual([outcome.graded, outcome.skipped, outcome.inGradebook], [1, 0, 1]);
  assert.equal((await readResult(out, "ada")).lesson, LESSON);
  const rows = (await readFile(path.join(out, "gradebook.csv"), "utf8")).trim().split("\n");
  assert.deepEqual(
    rows.slice(1).map((r) => r.split(",")[0]),
    ["ada"],
  );
});

test("a rerun trusts a result only for the same lesson, file and bytes: unchanged is skipped (not rewritten); changed bytes, another lesson's result, or --force are graded again", async () => {
  const { subs, out, file } = await classOf("resume", { "ada.ipynb": STRANGER, "bo.ipynb": STRANGER });
  await gradeBatch([subs], grading, options(out));
  const before = await stat(path.join(out, "results", "ada.json"));
  const again = await gradeBatch([subs], grading, options(out));
  assert.deepEqual([again.graded, again.skipped, again.inGradebook], [0, 2, 2]);
  const after = await stat(path.join(out, "results", "ada.json"));
  assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], "an unchanged submission's result was written again");

  const edited = STRANGER.replace("hello", "hello again");
  await writeFile(file("bo.ipynb"), edited);
  const third = await gradeBatch([subs], grading, options(out));
  assert.deepEqual([third.graded, third.skipped], [1, 1]);
  assert.equal((await readResult(out, "bo")).submission_sha256, sha256(edited));

  // Same file, same bytes, but the result is of another lesson (the same out folder used for two lessons).
  const ada = await readResult(out, "ada");
  await writeFile(path.join(out, "results", "ada.json"), JSON.stringify({ ...ada, lesson: "02-something-else" }));
  const otherLesson = await gradeBatch([subs], grading, options(out));
  assert.deepEqual([otherLesson.graded, otherLesson.skipped], [1, 1]);
  assert.equal((await readResult(out, "ada")).lesson, LESSON);

  const forced = await gradeBatch([subs], grading, options(out, { force: true }));
  assert.deepEqual([forced.graded, forced.skipped], [2, 0]);
});

test("a result the disk refuses is that learner's problem, said; the other learners and the gradebook are still written", async () => {
  const { subs, out } = await classOf("refused", { "ada.ipynb": STRANGER, "bo.ipynb": STRANGER });
  await mkdir(path.join(out, "results", "ada.json"), { recursive: true }); // a folder where ada's result would go
  const outcome = await gradeBatch([subs], grading, options(out));
  assert.equal(outcome.problems.length, 1);
  assert.match(JSON.stringify(outcome.problems[0]), /ada\.ipynb.*its results could not be written/);
  assert.equal((await readResult(out, "bo")).learner, "bo");
  const rows = (await readFile(path.join(out, "gradebook.csv"), "utf8")).trim().split("\n");
  assert.deepEqual(
    rows.slice(1).map((r) => r.split(",")[0]),
    ["bo"],
  );
});
