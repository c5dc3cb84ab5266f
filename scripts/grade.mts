#!/usr/bin/env node
/**
 * npm run grade -- --lesson LESSON --out DIR [--shard K/N] SUBMISSION.ipynb|FOLDER...
 * npm run grade -- --merge OUT SHARD_OUT...
 *
 * Grades learners' notebooks against the lesson's own tests, in contained
 * workers, and writes DIR/results/<learner>.json, DIR/feedback/<learner>.html and
 * DIR/gradebook.csv (the work is src/engine/grade-batch.ts). Already graded
 * learners are skipped (--force regrades), so a run that was killed picks up
 * where it stopped. Exit 0 when every submission was graded, whatever the scores.
 *
 * `--shard K/N` grades only shard K of N (counted from 1, as Playwright's
 * `--shard=1/4`): a learner's shard follows from the learner's name alone.
 * `--merge` makes one out folder of the shards' (src/engine/merge-shards.ts).
 */
import os from "node:os";
import path from "node:path";
import cliProgress from "cli-progress";
import { chalk } from "zx";
import { fromUserFolder } from "../src/engine/class-file.js";
import { DEFAULT_MAX_BYTES, gradeBatch, outFolderRefusal } from "../src/engine/grade-batch.js";
import { formatShard, parseShard } from "../src/engine/grade-shard.js";
import { mergeShards } from "../src/engine/merge-shards.js";
import { DEFAULT_LIMITS, networkIsolated, workersRunAsRoot, type Limits } from "../src/engine/grade-pool.js";
import { loadGradableLesson } from "../src/engine/lesson-files.js";
import { projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = [
  "usage: npm run grade -- --lesson LESSON --out DIR [--shard K/N] [--jobs N] [--force] [--cell-timeout S] [--timeout S] [--max-size MB] [--worker-reuse N] SUBMISSION.ipynb|FOLDER...",
  "       npm run grade -- --merge OUT [--lesson LESSON] SHARD_OUT...",
  "  --shard K/N   grade only shard K of N, K from 1 to N (1/4 is the first of four); a learner's shard depends on the name alone",
  "  --merge OUT   merge the out folders of every shard into OUT: its results, feedback and one gradebook",
].join("\n");

function progress(): { tick: (line: string) => void; start: (total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { tick: (line) => console.log(line), start: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: "grading {bar} {value}/{total} · {eta_formatted} left · {last}", stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  return { tick: (line) => bar.increment({ last: line }), start: (total) => bar.start(total, 0, { last: "" }), stop: () => bar.stop() };
}

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    allowPositionals: true,
    options: {
      lesson: { type: "string" },
      out: { type: "string" },
      jobs: { type: "string" },
      force: { type: "boolean", default: false },
      "cell-timeout": { type: "string" },
      timeout: { type: "string" },
      "max-size": { type: "string" },
      "worker-reuse": { type: "string" },
      shard: { type: "string" },
      merge: { type: "string" },
    },
  });
  if (!parsed) return 2;
  const { values } = parsed;
  // a relative path counts from the folder the command was typed in, as collect's and return's do (npm run starts in the project)
  const positionals = parsed.positionals.map(fromUserFolder);
  if (values.merge !== undefined) return merge(fromUserFolder(values.merge), positionals, values);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  if (shard && "problem" in shard) {
    console.error(`${shard.problem}\n${USAGE}`);
    return 2;
  }
  const jobs = Number(values.jobs ?? os.availableParallelism());
  if (!values.lesson || !values.out || positionals.length === 0 || !(jobs >= 1)) {
    console.error(USAGE);
    return 2;
  }
  const positive = (
    flag: "cell-timeout" | "timeout" | "max-size" | "worker-reuse",
    scale: number,
    fallback: number,
  ): number | undefined => {
    const value = values[flag];
    if (value === undefined) return fallback;
    return Number(value) > 0 ? Number(value) * scale : undefined;
  };
  const cellTimeoutMs = positive("cell-timeout", 1000, DEFAULT_LIMITS.cellTimeoutMs);
  const submissionTimeoutMs = positive("timeout", 1000, DEFAULT_LIMITS.submissionTimeoutMs);
  const maxBytes = positive("max-size", 1024 * 1024, DEFAULT_MAX_BYTES);
  const reuse = positive("worker-reuse", 1, DEFAULT_LIMITS.submissionsPerWorker);
  if (
    cellTimeoutMs === undefined ||
    submissionTimeoutMs === undefined ||
    maxBytes === undefined ||
    reuse === undefined ||
    !Number.isInteger(reuse)
  ) {
    console.error(
      `--cell-timeout and --timeout take a number of seconds above 0, --max-size a number of megabytes above 0, --worker-reuse a whole number above 0\n${USAGE}`,
    );
    return 2;
  }
  const lesson = await loadGradableLesson(values.lesson);
  if (!lesson.ok) {
    lesson.problems.forEach((p) => console.error(formatProblem(p)));
    return 2;
  }
  const out = fromUserFolder(values.out);
  const refusal = await outFolderRefusal(out, values.lesson, shard);
  if (refusal) {
    console.error(refusal);
    return 2;
  }
  const limits: Limits = { ...DEFAULT_LIMITS, cellTimeoutMs, submissionTimeoutMs, submissionsPerWorker: reuse };
  if (!networkIsolated())
    console.log(
      chalk.yellow("note: this machine cannot run the workers without a network (unshare); network modules are still refused inside them"),
    );
  const bar = progress();
  try {
    const outcome = await gradeBatch(positionals, lesson.value, {
      lessonId: values.lesson,
      out,
      jobs,
      force: values.force,
      limits,
      maxBytes: Math.floor(maxBytes),
      ...(shard ? { shard } : {}),
      onStart: (todo) => bar.start(todo),
      onGraded: (name, results) => bar.tick(`${name}: ${results.score}/${results.max_score} (${results.status})`),
    });
    bar.stop();
    outcome.problems.forEach((p) => console.error(chalk.yellow(formatProblem(p))));
    for (const { name, source } of outcome.removed) console.log(`removed ${name}'s earlier result: its submission ${source} is gone`);
    const others = outcome.inOtherShards ?? 0;
    if (outcome.graded + outcome.skipped + others === 0) {
      console.error(`nothing to grade: no submissions found\n${USAGE}`);
      return 2;
    }
    const asRoot = workersRunAsRoot();
    if (asRoot !== undefined)
      console.log(
        chalk.yellow(
          `note: graded as root, the learners' code ran as root inside its walls: it could not run as a uid of its own (${asRoot}). Let other users read the kit (chmod -R o+rX ${projectRoot}), or install setpriv (apt-get install util-linux), or grade as another user`,
        ),
      );
    if (outcome.skipped) console.log(`${outcome.skipped} already graded in ${values.out} (--force regrades them)`);
    if (shard)
      console.log(
        `shard ${formatShard(shard)}: ${outcome.graded + outcome.skipped} of ${outcome.graded + outcome.skipped + others} submissions`,
      );
    console.log(
      `graded ${outcome.graded} submission${outcome.graded === 1 ? "" : "s"}; ${outcome.inGradebook} in ${path.join(values.out, "gradebook.csv")}`,
    );
    return 0;
  } catch (error) {
    bar.stop();
    // Only the grader's own machinery throws here (its workers could not start): learners' outcomes are results.
    console.error(chalk.red(`the grader could not run: ${(error as Error).message}. What was graded is kept; run again to go on.`));
    return 1;
  }
}

/** `--merge OUT SHARD_OUT...`: every refusal is said before anything is written. */
async function merge(out: string, folders: readonly string[], values: Record<string, unknown>): Promise<number> {
  const grading = ["out", "shard", "jobs", "force", "cell-timeout", "timeout", "max-size", "worker-reuse"].filter(
    (f) => values[f] !== undefined && values[f] !== false,
  );
  if (grading.length || folders.length === 0) {
    console.error(
      `${grading.length ? `--merge grades nothing: leave out --${grading.join(", --")}` : "--merge needs the shards' out folders"}\n${USAGE}`,
    );
    return 2;
  }
  const lesson = typeof values.lesson === "string" ? values.lesson : undefined;
  const merged = await mergeShards(out, folders, lesson);
  if (!merged.ok) {
    merged.problems.forEach((p) => console.error(formatProblem(p)));
    console.error(`nothing was written to ${out}`);
    return 2;
  }
  console.log(
    `merged ${folders.length} folder${folders.length === 1 ? "" : "s"} of ${merged.value.lesson}: ${merged.value.learners} in ${path.join(out, "gradebook.csv")}`,
  );
  return 0;
}

runMain("grade", main);
