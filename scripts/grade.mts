#!/usr/bin/env node
/**
 * npm run grade -- --lesson LESSON --out DIR SUBMISSION.ipynb|FOLDER...
 *
 * Grades learners' notebooks against the lesson's own tests, in contained
 * workers, and writes DIR/results/<learner>.json, DIR/feedback/<learner>.html and
 * DIR/gradebook.csv. Already graded learners are skipped (--force regrades), so
 * a run that was killed picks up where it stopped. Exit 0 when every submission
 * was graded, whatever the scores.
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { chalk } from "zx";
import * as helpers from "../src/index.js";
import { gradableLesson, gradeSubmission, type GradableLesson } from "../src/engine/grade.js";
import { DEFAULT_LIMITS, networkIsolated, WorkerPool, type Limits } from "../src/engine/grade-pool.js";
import { renderGradebook } from "../src/engine/gradebook.js";
import { lessonsDir } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import type { LearnerResults } from "../src/engine/results.js";

const USAGE = "usage: npm run grade -- --lesson LESSON --out DIR [--jobs N] [--force] [--cell-timeout S] [--timeout S] SUBMISSION.ipynb|FOLDER...";

interface Submission { readonly learner: string; readonly file: string }

/** A learner's name as a file name: letters, digits, dot, dash and underscore. */
const safeName = (name: string): string => name.normalize("NFC").replace(/[^\p{L}\p{N}._-]+/gu, "_").replace(/^\.+/, "_").slice(0, 100) || "_";

/** `name.ipynb` is learner "name"; `folder/name/LESSON.ipynb` is learner "name". */
async function findSubmissions(inputs: readonly string[], lesson: string): Promise<{ submissions: Submission[]; problems: string[] }> {
  const submissions: Submission[] = [];
  const problems: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) { problems.push(`${input}: no such file or folder`); continue; }
    if (info.isFile()) { submissions.push({ learner: path.basename(input).replace(/\.ipynb$/i, ""), file: input }); continue; }
    const before = submissions.length;
    for (const entry of (await readdir(input, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(input, entry.name);
      if (entry.isFile() && entry.name.toLowerCase().endsWith(".ipynb")) submissions.push({ learner: entry.name.replace(/\.ipynb$/i, ""), file: full });
      else if (entry.isDirectory() && (await exists(path.join(full, `${lesson}.ipynb`)))) submissions.push({ learner: entry.name, file: path.join(full, `${lesson}.ipynb`) });
    }
    if (submissions.length === before) problems.push(`${input}: no submissions in this folder (expected NAME.ipynb or NAME/${lesson}.ipynb)`);
  }
  return { submissions, problems };
}

const exists = (file: string): Promise<boolean> => stat(file).then(() => true, () => false);

/** Written whole or not at all: a grader killed mid-write leaves no half file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

async function readResults(folder: string, lesson: string): Promise<LearnerResults[]> {
  const files = (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
  const all = await Promise.all(files.map(async (f) => {
    try { return JSON.parse(await readFile(path.join(folder, f), "utf8")) as LearnerResults; } catch { return undefined; }
  }));
  return all.filter((r): r is LearnerResults => r?.lesson === lesson);
}

function progress(total: number): { tick: (line: string) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { tick: (line) => console.log(line), stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: "grading {bar} {value}/{total} · {eta_formatted} left · {last}", stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { last: "" });
  return { tick: (line) => bar.increment({ last: line }), stop: () => bar.stop() };
}

/** Grades the submissions on `jobs` workers; returns the error that stopped the grader's own machinery, if any. */
async function gradeAll(todo: readonly (Submission & { name: string })[], lesson: GradableLesson, limits: Limits, jobs: number, resultFile: (name: string) => string, out: string): Promise<Error | undefined> {
  const pool = new WorkerPool(jobs, limits.memoryMb, lesson.checks);
  const bar = progress(todo.length);
  const grade = async (s: Submission & { name: string }): Promise<void> => {
    const { results, feedback } = await gradeSubmission(s.name, s.file, await readFile(s.file), lesson, pool, limits);
    await writeAtomically(path.join(out, "feedback", `${s.name}.html`), feedback);
    await writeAtomically(resultFile(s.name), `${JSON.stringify(results, null, 2)}\n`);
    bar.tick(`${s.name}: ${results.score}/${results.max_score} (${results.status})`);
  };
  try {
    const queue = [...todo];
    await Promise.all(Array.from({ length: jobs }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) await grade(s);
    }));
    return undefined;
  } catch (error) {
    // Only the grader's own machinery throws here (its workers could not start): learners' outcomes are results.
    return error as Error;
  } finally {
    bar.stop();
    await pool.close();
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        lesson: { type: "string" }, out: { type: "string" }, jobs: { type: "string" }, force: { type: "boolean", default: false },
        "cell-timeout": { type: "string" }, timeout: { type: "string" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const jobs = Number(values.jobs ?? os.availableParallelism());
  if (!values.lesson || !values.out || positionals.length === 0 || !(jobs >= 1)) {
    console.error(USAGE);
    return 2;
  }
  const lessonFile = path.join(lessonsDir, `${values.lesson}.md`);
  if (!(await exists(lessonFile))) {
    const known = (await readdir(lessonsDir)).filter((f) => f.endsWith(".md")).map((f) => f.replace(/\.md$/, ""));
    console.error(`no lesson '${values.lesson}': choose one of ${known.join(", ")}`);
    return 2;
  }
  const lesson = gradableLesson(await readFile(lessonFile, "utf8"), `lessons/${values.lesson}.md`, Object.keys(helpers));
  if (!lesson.ok) {
    lesson.problems.forEach((p) => console.error(formatProblem(p)));
    return 2;
  }
  const seconds = (flag: "cell-timeout" | "timeout", fallbackMs: number): number | undefined => {
    const value = values[flag];
    if (value === undefined) return fallbackMs;
    return Number(value) > 0 ? Number(value) * 1000 : undefined;
  };
  const cellTimeoutMs = seconds("cell-timeout", DEFAULT_LIMITS.cellTimeoutMs);
  const submissionTimeoutMs = seconds("timeout", DEFAULT_LIMITS.submissionTimeoutMs);
  if (cellTimeoutMs === undefined || submissionTimeoutMs === undefined) {
    console.error(`--cell-timeout and --timeout take a number of seconds above 0\n${USAGE}`);
    return 2;
  }
  const limits: Limits = { ...DEFAULT_LIMITS, cellTimeoutMs, submissionTimeoutMs };
  const out = path.resolve(values.out);
  const { submissions, problems } = await findSubmissions(positionals, values.lesson);
  problems.forEach((p) => console.error(chalk.yellow(p)));
  if (submissions.length === 0) {
    console.error(`nothing to grade: no submissions found\n${USAGE}`);
    return 2;
  }

  // Two files for one learner name: the second is renamed, never overwritten.
  const taken = new Set<string>();
  const named = submissions.map((s) => {
    let name = safeName(s.learner);
    for (let n = 2; taken.has(name); n++) name = `${safeName(s.learner)}-${n}`;
    taken.add(name);
    return { ...s, name };
  });
  const resultFile = (name: string): string => path.join(out, "results", `${name}.json`);
  // Graded already means: a result for this lesson (a result of another lesson there is regraded).
  const gradedBefore = async (name: string): Promise<boolean> => {
    try { return (JSON.parse(await readFile(resultFile(name), "utf8")) as LearnerResults).lesson === values.lesson; } catch { return false; }
  };
  const todo: (Submission & { name: string })[] = [];
  for (const s of named) if (values.force || !(await gradedBefore(s.name))) todo.push(s);
  if (todo.length < named.length) console.log(`${named.length - todo.length} already graded in ${values.out} (--force regrades them)`);
  if (!networkIsolated()) console.log(chalk.yellow("note: this machine cannot run the workers without a network (unshare); network modules are still refused inside them"));

  if (todo.length) {
    const failure = await gradeAll(todo, lesson.value, limits, Math.min(jobs, todo.length), resultFile, out);
    if (failure) {
      console.error(chalk.red(`the grader could not run: ${failure.message}. What was graded is kept; run again to go on.`));
      return 1;
    }
  }
  const all = await readResults(path.join(out, "results"), values.lesson);
  await writeAtomically(path.join(out, "gradebook.csv"), renderGradebook(all, lesson.value.tests.exercises));
  console.log(`graded ${todo.length} submission${todo.length === 1 ? "" : "s"}; ${all.length} in ${path.join(values.out, "gradebook.csv")}`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(chalk.red(`rollcall grade failed (a bug, please report it): ${(error as Error).stack ?? String(error)}`));
  process.exitCode = 1;
});
