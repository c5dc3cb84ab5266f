/**
 * Figure for sharded grading: 2,000 synthetic submissions of 01-arrays graded by
 * `npm run grade` as one run, and as 4 shards run one after another on the same
 * machine, then merged. The goal is flat: sharding should cost nothing per
 * submission (ratio ~1), so that N machines grade N times as fast. The merged
 * gradebook is checked against the one run's, byte for byte. The one run goes
 * before and after the shards (A, B, A) and counts as their mean, so that a machine
 * busy with something else for a while weighs on both sides alike.
 * ROLLCALL_BENCH_SUBMISSIONS=100 runs it smaller.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildLesson } from "../src/engine/build.js";
import { loadLesson } from "../src/engine/lesson-files.js";
import { serializeNotebook, withSources, type Notebook } from "../src/engine/notebook.js";
import { projectRoot } from "../src/engine/paths.js";

const run = promisify(execFile);
const GRADE = path.join(projectRoot, "dist", "scripts", "grade.mjs");
const SHARDS = 4;

const WRONG = {
  last: "function lastStudent(names: string[]): string {\n  return names[names.length];\n}",
  enroll: "function enroll(names: string[], name: string): string[] {\n  names.push(name);\n  return names;\n}",
};

/** The mix: half correct, a fifth with one wrong answer, a fifth the untouched learner copy, a tenth with two wrong. */
function variant(i: number, instructor: Notebook, learner: Notebook): string {
  const kind = i % 10;
  if (kind < 5) return serializeNotebook(instructor);
  if (kind < 7) return serializeNotebook(withSources(instructor, { "last-student": WRONG.last }));
  if (kind < 9) return serializeNotebook(learner);
  return serializeNotebook(withSources(instructor, { "last-student": WRONG.last, enroll: WRONG.enroll }));
}

/** Seconds one `npm run grade` takes (built, so without tsc). */
async function seconds(args: readonly string[]): Promise<number> {
  const started = performance.now();
  await run(process.execPath, [GRADE, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return (performance.now() - started) / 1000;
}

export async function benchShards(count = Number(process.env.ROLLCALL_BENCH_SUBMISSIONS ?? 2000)): Promise<Record<string, number>> {
  if (!(Number.isInteger(count) && count > 0)) throw new Error(`ROLLCALL_BENCH_SUBMISSIONS must be a whole number above 0, not ${count}`);
  const lesson = await loadLesson("01-arrays");
  if (!lesson.ok) throw new Error("lessons/01-arrays.md does not parse");
  const { instructor, learner } = buildLesson(lesson.value);
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-shards-class-"));
  for (let i = 0; i < count; i++)
    await writeFile(path.join(folder, `learner-${String(i).padStart(4, "0")}.ipynb`), variant(i, instructor, learner));
  const outs = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-shards-out-"));
  const grade = (out: string, extra: readonly string[] = []): Promise<number> =>
    seconds(["--lesson", "01-arrays", "--out", path.join(outs, out), ...extra, folder]);

  const before = await grade("whole");
  const shards: number[] = [];
  for (let k = 1; k <= SHARDS; k++) shards.push(await grade(`shard-${k}`, ["--shard", `${k}/${SHARDS}`]));
  const merge = await seconds(["--merge", path.join(outs, "merged"), ...shards.map((_, i) => path.join(outs, `shard-${i + 1}`))]);
  const after = await grade("whole-again");
  const whole = (before + after) / 2;
  const sharded = shards.reduce((a, b) => a + b, 0) + merge;
  const gradebook = (out: string): Promise<string> => readFile(path.join(outs, out, "gradebook.csv"), "utf8");
  const same = (await gradebook("whole")) === (await gradebook("merged"));
  return {
    "submissions graded, each way": count,
    "one run: wall time, before the shards (s)": before,
    "one run: wall time, after the shards (s)": after,
    "one run: seconds per submission (mean of the two)": whole / count,
    [`${SHARDS} shards in turn, plus the merge: wall time (s)`]: sharded,
    [`${SHARDS} shards plus merge: seconds per submission`]: sharded / count,
    "merge alone (s)": merge,
    "slowest shard (s)": Math.max(...shards),
    "ratio sharded / one run, per submission (×, goal ~1)": sharded / whole,
    [`on ${SHARDS} machines, slowest shard + merge vs one run (×)`]: (Math.max(...shards) + merge) / whole,
    "merged gradebook equals one run's, byte for byte (1 = yes)": same ? 1 : 0,
  };
}
