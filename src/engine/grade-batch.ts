/**
 * A folder of submissions, graded: intake (regular files only, of bounded size),
 * a name for each learner that is the same on every run, resume (a result counts
 * only if it is of this lesson, this file and these bytes), atomic writes, the
 * worker queue and the gradebook; given a shard, only that shard's learners
 * (`grade-shard.ts`). One learner's bad file is that learner's `error` result;
 * the batch and the gradebook go on.
 */
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { gradeSubmission, unreadable, type GradableLesson, type Graded } from "./grade.js";
import { WorkerPool, type Limits } from "./grade-pool.js";
import { writeClassReports } from "./class-reports.js";
import type { Problem } from "./problem.js";
import { capResults, type LearnerResults } from "./results.js";
import { writeAtomically } from "./atomic-write.js";
import { readUntrusted } from "./untrusted-file.js";
import { renderFeedback } from "./feedback.js";
import { inShard, markerText, outFolderProblem, parseMarker, SHARD_MARKER, type Shard, type ShardMarker } from "./grade-shard.js";

/** One file to grade, as found; `problem` when it cannot be read as a submission at all. */
export interface Submission {
  /** The learner's name, from the file or folder name. */
  readonly learner: string;
  /** The file as the user named it (for messages) and resolved (to record). */
  readonly file: string;
  readonly source: string;
  readonly problem?: string;
}

export interface BatchOptions {
  readonly lessonId: string;
  readonly out: string;
  readonly jobs: number;
  readonly force: boolean;
  readonly limits: Limits;
  /** Larger files are not read: an `error` result says so. */
  readonly maxBytes: number;
  /** Grade only this shard's learners (the out folder then holds that shard alone); every learner when absent. */
  readonly shard?: Shard;
  /** Called once the batch knows how many submissions it will grade, then after each learner is written. */
  readonly onStart?: (todo: number) => void;
  readonly onGraded?: (name: string, results: LearnerResults) => void;
}

export interface BatchOutcome {
  readonly graded: number;
  readonly skipped: number;
  readonly inGradebook: number;
  /** In a shard run: the submissions left to the other shards (found, never read). */
  readonly inOtherShards?: number;
  /** Inputs that named nothing to grade, and results the disk refused (said, and passed over). */
  readonly problems: readonly Problem[];
  /** Earlier results whose file is gone from a folder graded now (collect removed it: nothing handed in this time), removed with their pages. */
  readonly removed: readonly { readonly name: string; readonly source: string }[];
}

export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
/** A learner's name in a file name: at most this many bytes of UTF-8, before its suffix. */
const NAME_BYTES = 100;
const RESULT_MAX_BYTES = 256 * 1024;
const FEEDBACK_MAX_BYTES = 1024 * 1024;

/** Only regular files are read: a link, a FIFO or a device is a problem, and so is a file past the size cap. */
async function intake(learner: string, file: string, maxBytes: number): Promise<Submission> {
  const source = path.resolve(file);
  const info = await lstat(file).catch(() => undefined);
  const problem = !info
    ? "the file is gone"
    : !info.isFile()
      ? `${file} is not a regular file (${info.isSymbolicLink() ? "a symbolic link" : info.isFIFO() ? "a FIFO" : "not a file"}); submit the notebook itself`
      : info.size > maxBytes
        ? `${file} is larger than ${Math.round(maxBytes / 1024 / 1024)} MB (${info.size} bytes); a lesson's notebook is far smaller: submit notebooks/LESSON.ipynb`
        : undefined;
  return { learner, file, source, ...(problem ? { problem } : {}) };
}

/** `name.ipynb` is learner "name"; `folder/name/LESSON.ipynb` is learner "name". */
export async function findSubmissions(
  inputs: readonly string[],
  lessonId: string,
  maxBytes: number,
): Promise<{ submissions: Submission[]; problems: Problem[] }> {
  const submissions: Submission[] = [];
  const problems: Problem[] = [];
  for (const input of inputs) {
    const info = await lstat(input).catch(() => undefined);
    if (!info) {
      problems.push({ file: input, message: "no such file or folder" });
      continue;
    }
    if (!info.isDirectory()) {
      submissions.push(await intake(path.basename(input).replace(/\.ipynb$/i, ""), input, maxBytes));
      continue;
    }
    const before = submissions.length;
    for (const entry of (await readdir(input, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(input, entry.name);
      if (!entry.isDirectory() && entry.name.toLowerCase().endsWith(".ipynb"))
        submissions.push(await intake(entry.name.replace(/\.ipynb$/i, ""), full, maxBytes));
      else if (entry.isDirectory() && (await lstat(path.join(full, `${lessonId}.ipynb`)).catch(() => undefined)))
        submissions.push(await intake(entry.name, path.join(full, `${lessonId}.ipynb`), maxBytes));
    }
    if (submissions.length === before)
      problems.push({ file: input, message: `no submissions in this folder (expected NAME.ipynb or NAME/${lessonId}.ipynb)` });
  }
  return { submissions, problems };
}

/** Letters, digits, dot, dash and underscore, at most `NAME_BYTES` bytes of UTF-8, cut between characters. */
function safeName(name: string): string {
  let safe =
    name
      .normalize("NFC")
      .replace(/[^\p{L}\p{N}._-]+/gu, "_")
      .replace(/^\.+/, "_") || "_";
  while (Buffer.byteLength(safe) > NAME_BYTES) safe = [...safe].slice(0, -1).join("");
  return safe;
}

const digest = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * Each submission's file name for its results: the learner's safe name, with a
 * short hash of its source path whenever the name had to change or is shared,
 * so that it depends on nothing but the submission itself (not on what else
 * is in the folder, nor in which order).
 */
export function nameSubmissions(submissions: readonly Submission[]): (Submission & { readonly name: string })[] {
  const counts = new Map<string, number>();
  for (const s of submissions) counts.set(safeName(s.learner), (counts.get(safeName(s.learner)) ?? 0) + 1);
  return submissions.map((s) => {
    const base = safeName(s.learner);
    const plain = base === s.learner && counts.get(base) === 1;
    return { ...s, name: plain ? base : `${base}-${digest(s.source).slice(0, 8)}` };
  });
}

/** Temporary files of earlier runs (killed mid-write): never trusted, removed. */
async function removeTemporaries(out: string): Promise<void> {
  for (const dir of [path.join(out, "results"), path.join(out, "feedback"), out]) {
    for (const entry of await readdir(dir).catch(() => [] as string[]))
      if (entry.endsWith(".tmp")) await rm(path.join(dir, entry), { force: true });
  }
}

/** The results and page of one learner, whatever happens reading the file: a learner's outcome is never an exception. */
async function gradeOne(
  s: Submission & { name: string },
  grading: GradableLesson,
  pool: WorkerPool,
  options: BatchOptions,
): Promise<Graded & { sha256?: string }> {
  const context = { title: grading.lesson.title, exercises: grading.tests.exercises, answers: new Map<string, string>() };
  const failedWith = (message: string): Graded => {
    const results = unreadable(s.name, grading, message);
    return { results, feedback: renderFeedback(results, context) };
  };
  if (s.problem) return failedWith(s.problem);
  let bytes: Uint8Array;
  try {
    bytes = (await readUntrusted(s.file, options.maxBytes)).bytes;
  } catch (error) {
    return failedWith(`${s.file} could not be read (${(error as Error).message}); submit the notebook file itself`);
  }
  const graded = await gradeSubmission(s.name, s.file, bytes, grading, pool, options.limits);
  return { ...graded, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/**
 * The key a learner's shard is drawn from: the safe name, before any hash is added.
 * Submissions that share it get their names together, so they stay in one shard
 * and are named there as they are in one run.
 */
export const shardKey = (s: Submission): string => safeName(s.learner);

/** Why this run may not write into `out`, as `outFolderProblem` decides from what is there; undefined when it may. */
export async function outFolderRefusal(out: string, lessonId: string, shard: Shard | undefined): Promise<string | undefined> {
  const text = await readFile(path.join(out, SHARD_MARKER), "utf8").catch(() => undefined);
  const marker: ShardMarker | "unreadable" | undefined = text === undefined ? undefined : (parseMarker(text) ?? "unreadable");
  const hasResults = (await readdir(path.join(out, "results")).catch(() => [] as string[])).some((f) => f.endsWith(".json"));
  return outFolderProblem(out, { marker, hasResults }, lessonId, shard);
}

/** Grades every submission not graded already (of this lesson, this file and these bytes), then writes the gradebook. */
export async function gradeBatch(inputs: readonly string[], grading: GradableLesson, options: BatchOptions): Promise<BatchOutcome> {
  const { out, lessonId, shard } = options;
  const refusal = await outFolderRefusal(out, lessonId, shard);
  // The command line asks outFolderRefusal first and says why: reaching this is a caller's bug.
  if (refusal) throw new Error(refusal);
  const { submissions, problems } = await findSubmissions(inputs, lessonId, options.maxBytes);
  const all = nameSubmissions(submissions);
  const named = shard ? all.filter((s) => inShard(shardKey(s), shard)) : all;
  // every learner's marks and feedback: on a shared machine (a class hub) not for the learners to read
  await mkdir(out, { recursive: true, mode: 0o700 });
  await removeTemporaries(out);
  const marker = (finished: boolean): Promise<void> =>
    shard ? writeAtomically(path.join(out, SHARD_MARKER), markerText({ lesson: lessonId, shard, finished })) : Promise.resolve();
  await marker(false);
  const resultFile = (name: string): string => path.join(out, "results", `${name}.json`);
  const gradedBefore = async (s: Submission & { name: string }): Promise<boolean> => {
    try {
      const earlier = JSON.parse(await readFile(resultFile(s.name), "utf8")) as LearnerResults;
      if (earlier.lesson !== lessonId || earlier.source !== s.source) return false;
      if (s.problem) return earlier.status === "error";
      return (
        earlier.submission_sha256 ===
        createHash("sha256")
          .update((await readUntrusted(s.file, options.maxBytes)).bytes)
          .digest("hex")
      );
    } catch {
      return false;
    }
  };
  const todo: (Submission & { name: string })[] = [];
  for (const s of named) if (options.force || !(await gradedBefore(s))) todo.push(s);

  options.onStart?.(todo.length);
  if (todo.length) {
    const pool = new WorkerPool(Math.min(options.jobs, todo.length), options.limits, grading.checks);
    try {
      const queue = [...todo];
      await Promise.all(
        Array.from({ length: Math.min(options.jobs, todo.length) }, async () => {
          for (let s = queue.shift(); s; s = queue.shift()) {
            const { results, feedback, sha256 } = await gradeOne(s, grading, pool, options);
            const recorded = capResults(
              { ...results, source: s.source, submitted_as: s.learner, ...(sha256 ? { submission_sha256: sha256 } : {}) },
              RESULT_MAX_BYTES,
            );
            try {
              await writeAtomically(path.join(out, "feedback", `${s.name}.html`), capText(feedback, FEEDBACK_MAX_BYTES));
              await writeAtomically(resultFile(s.name), `${JSON.stringify(recorded, null, 2)}\n`);
            } catch (error) {
              // The disk said no for this learner: say so, and go on with the rest (a rerun grades it again).
              problems.push({
                file: s.file,
                message: `its results could not be written (${(error as Error).message}); run the grader again once that is fixed`,
              });
              continue;
            }
            options.onGraded?.(s.name, recorded);
          }
        }),
      );
    } finally {
      await pool.close();
    }
  }
  const isFolder = await Promise.all(
    inputs.map((i) =>
      lstat(i).then(
        (info) => info.isDirectory(),
        () => false,
      ),
    ),
  );
  const folders = inputs.filter((_, i) => isFolder[i]).map((i) => path.resolve(i));
  const removed = await removeResultsOfGoneFiles(out, new Set(all.map((s) => s.source)), folders);
  const inGradebook = await writeClassReports(out, lessonId, grading.tests.exercises);
  await marker(true);
  return {
    graded: todo.length,
    skipped: named.length - todo.length,
    inGradebook,
    ...(shard ? { inOtherShards: all.length - named.length } : {}),
    problems,
    removed,
  };
}

/**
 * Removes each result in `out` (and its feedback page) whose submission was a file of a folder
 * graded in this run (`folders`, collect's OUT) and is gone from it: a collect that found nothing
 * from a learner this time removed their old copy, and their old marks must not go into the
 * gradebook or back to them as this time's. Any other result stays: one of a file graded from
 * elsewhere, merged from a shard, or only unreadable here.
 */
async function removeResultsOfGoneFiles(
  out: string,
  sources: ReadonlySet<string>,
  folders: readonly string[],
): Promise<BatchOutcome["removed"]> {
  const removed: { name: string; source: string }[] = [];
  const results = path.join(out, "results");
  const inFolderGraded = (source: unknown): source is string =>
    typeof source === "string" && !sources.has(source) && folders.some((f) => source.startsWith(f + path.sep));
  for (const file of (await readdir(results).catch(() => [] as string[])).filter((f) => f.endsWith(".json")).sort()) {
    let source: unknown;
    try {
      source = (JSON.parse(await readFile(path.join(results, file), "utf8")) as { source?: unknown }).source;
    } catch {
      continue; // a damaged result says nothing of its file; the gradebook says it is damaged
    }
    if (!inFolderGraded(source)) continue;
    const gone = await lstat(source).then(
      () => false,
      (e: NodeJS.ErrnoException) => e.code === "ENOENT",
    );
    if (!gone) continue;
    const name = file.slice(0, -".json".length);
    await rm(path.join(results, file), { force: true });
    await rm(path.join(out, "feedback", `${name}.html`), { force: true });
    removed.push({ name, source });
  }
  return removed;
}

/** A page cut to its cap, closed so that it still renders. */
function capText(page: string, maxBytes: number): string {
  if (Buffer.byteLength(page) <= maxBytes) return page;
  return `${Buffer.from(page)
    .subarray(0, maxBytes - 200)
    .toString("utf8")
    .replace(/\uFFFD+$/, "")}\n<p>… the rest of this page was cut: it was over ${maxBytes / 1024} KB.</p></body></html>\n`;
}
