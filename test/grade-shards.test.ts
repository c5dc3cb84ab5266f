/**
 * Grading in shards (`--shard K/N`) and merging them (`--merge`): merged shards
 * are one run, byte for byte, on real submissions in the real kernel; each learner
 * is in one shard, whatever else is in the folder; a merge refuses what it cannot
 * merge and writes nothing; and the Kubernetes and GitHub Actions recipes in deploy/
 * run the real command line. Only the first test starts kernels; the others grade
 * notebooks that hold none of the lesson's exercises, which never reach one.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { buildLesson } from "../src/engine/build.js";
import type { GradableLesson } from "../src/engine/grade.js";
import { gradeBatch, type BatchOptions } from "../src/engine/grade-batch.js";
import { DEFAULT_LIMITS } from "../src/engine/grade-pool.js";
import { parseShard, type Shard } from "../src/engine/grade-shard.js";
import { loadGradableLesson } from "../src/engine/lesson-files.js";
import { serializeNotebook, withSources } from "../src/engine/notebook.js";
import { projectRoot } from "../src/engine/paths.js";

const run = promisify(execFile);
const GRADE = path.join(projectRoot, "dist", "scripts", "grade.mjs");
const LESSON = "01-arrays";
const LIMIT = { timeout: 240_000 };
/** A notebook that parses but holds none of the lesson's exercises: graded `error` without a kernel. */
const STRANGER = `${JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "markdown", id: "m", metadata: {}, source: "hi" }] })}\n`;

let grading: GradableLesson;
let tmp = "";
before(async () => {
  const loaded = await loadGradableLesson(LESSON);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  grading = loaded.value;
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-shards-"));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The grader's command line; a refusal is its exit code and what it said, never a throw. */
async function grade(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [GRADE, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Every file under a folder, by relative path, with its bytes. */
async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const files = await Promise.all(
    entries.map(
      async (e) => [path.relative(dir, path.join(e.parentPath, e.name)), await readFile(path.join(e.parentPath, e.name))] as const,
    ),
  );
  return new Map(files.sort(([a], [b]) => (a < b ? -1 : 1)));
}

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );
const learnersIn = async (out: string): Promise<string[]> =>
  (await readdir(path.join(out, "results")).catch(() => [] as string[])).map((f) => f.replace(/\.json$/, "")).sort();
const gradebookRows = async (out: string): Promise<number> =>
  (await readFile(path.join(out, "gradebook.csv"), "utf8")).trim().split("\n").length - 1;

const WRONG = {
  last: "function lastStudent(names: string[]): string {\n  return names[names.length];\n}",
  enroll: "function enroll(names: string[], name: string): string[] {\n  names.push(name);\n  return names;\n}",
};

test("4 shards, merged, are one run byte for byte: every result, page and the gradebook", LIMIT, async () => {
  const lesson = grading.lesson;
  const { instructor, learner } = buildLesson(lesson);
  const right = serializeNotebook(instructor);
  const subs = path.join(tmp, "class", "subs");
  const late = path.join(tmp, "class", "late");
  await mkdir(path.join(subs, "kim"), { recursive: true });
  await mkdir(late, { recursive: true });
  const files: Record<string, string> = {
    "ada.ipynb": right,
    "bo.ipynb": serializeNotebook(learner),
    "cy.ipynb": serializeNotebook(withSources(instructor, { "last-student": WRONG.last })),
    "dev.ipynb": serializeNotebook(withSources(instructor, { enroll: WRONG.enroll })),
    "eli.ipynb": serializeNotebook(withSources(instructor, { "last-student": WRONG.last, enroll: WRONG.enroll })),
    "fay.ipynb": right,
    "gus.ipynb": serializeNotebook(learner),
    "hal.ipynb": right.slice(0, 300), // not a notebook: an error result, the same in any shard
    "Zoë Ng.ipynb": right, // a name made safe, with a hash
    "kim/01-arrays.ipynb": right, // a learner's folder
  };
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(subs, name), text);
  await writeFile(path.join(late, "ada.ipynb"), serializeNotebook(learner)); // a second "ada": both get hashed names
  await writeFile(path.join(late, "ivy.ipynb"), right);

  const out = (name: string): string => path.join(tmp, "class", name);
  const whole = await grade("--lesson", LESSON, "--out", out("whole"), "--jobs", "2", subs, late);
  assert.equal(whole.code, 0, whole.stderr);
  for (let k = 1; k <= 4; k++) {
    const shard = await grade("--lesson", LESSON, "--out", out(`shard-${k}`), "--shard", `${k}/4`, "--jobs", "2", subs, late);
    assert.equal(shard.code, 0, shard.stderr);
    assert.match(shard.stdout, new RegExp(`shard ${k}/4: \\d+ of 12 submissions`));
  }
  const merged = await grade("--merge", out("merged"), ...[1, 2, 3, 4].map((k) => out(`shard-${k}`)));
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, /merged 4 folders of 01-arrays: 12 in/);

  const one = await filesUnder(out("whole"));
  const many = await filesUnder(out("merged"));
  for (const folder of ["results/", "feedback/"])
    assert.equal([...one.keys()].filter((f) => f.startsWith(folder)).length, 12, `${folder}: ${[...one.keys()].join(", ")}`);
  assert.ok(one.has("gradebook.csv"));
  assert.deepEqual([...many.keys()], [...one.keys()]);
  for (const [file, bytes] of one) assert.ok(bytes.equals(many.get(file) ?? Buffer.alloc(0)), `${file} differs`);

  // Each learner in exactly one shard, and each shard's gradebook holds its share alone.
  const shares = await Promise.all([1, 2, 3, 4].map((k) => learnersIn(out(`shard-${k}`))));
  assert.deepEqual(shares.flat().sort(), await learnersIn(out("whole")));
  assert.ok(shares.filter((s) => s.length).length >= 2, `the shards split nothing: ${JSON.stringify(shares)}`);
  for (const [i, share] of shares.entries()) assert.equal(await gradebookRows(out(`shard-${i + 1}`)), share.length, `shard ${i + 1}`);
});

const options = (out: string, shard?: Shard): BatchOptions => ({
  lessonId: LESSON,
  out,
  jobs: 1,
  force: false,
  limits: DEFAULT_LIMITS,
  maxBytes: 1024 * 1024,
  ...(shard ? { shard } : {}),
});

/** A folder of kernel-free submissions of these learners. */
async function strangers(folder: string, names: readonly string[]): Promise<string> {
  await mkdir(folder, { recursive: true });
  for (const name of names) await writeFile(path.join(folder, `${name}.ipynb`), STRANGER);
  return folder;
}

/** Grades the inputs in `total` shards, each into `${prefix}-K`; returns each shard's learners. */
async function gradeShards(prefix: string, inputs: readonly string[], total: number): Promise<string[][]> {
  const shares: string[][] = [];
  for (let index = 1; index <= total; index++) {
    await gradeBatch(inputs, grading, options(`${prefix}-${index}`, { index, total }));
    shares.push(await learnersIn(`${prefix}-${index}`));
  }
  return shares;
}

test("each learner is in exactly one shard, and stays in it when other files are added", async () => {
  const names = Array.from({ length: 30 }, (_, i) => `learner-${i}`);
  const first = await strangers(path.join(tmp, "stable", "first"), names);
  const before = await gradeShards(path.join(tmp, "stable", "before"), [first], 4);
  assert.deepEqual(before.flat().sort(), [...names].sort());
  assert.ok(
    before.every((s) => s.length > 0),
    `a shard got nobody of 30: ${JSON.stringify(before)}`,
  );
  for (const [i, share] of before.entries())
    assert.equal(
      await gradebookRows(path.join(tmp, "stable", `before-${i + 1}`)),
      share.length,
      "a shard's gradebook holds its share alone",
    );

  // Other learners, in the same folder and in another one given first: nobody moves.
  await strangers(first, ["zed", "amy", "learner-100"]);
  const second = await strangers(
    path.join(tmp, "stable", "second"),
    Array.from({ length: 30 }, (_, i) => `other-${i}`),
  );
  const afterwards = await gradeShards(path.join(tmp, "stable", "after"), [second, first], 4);
  assert.equal(afterwards.flat().length, 63);
  for (const [i, share] of before.entries())
    assert.deepEqual(
      afterwards[i]?.filter((n) => names.includes(n)),
      share,
      `shard ${i + 1}`,
    );
});

/** Four finished kernel-free shards of 12 learners, in a fresh folder. */
async function fourShards(name: string): Promise<{ subs: string; shards: string[]; base: string }> {
  const base = path.join(tmp, name);
  const subs = await strangers(
    path.join(base, "subs"),
    Array.from({ length: 12 }, (_, i) => `l${i}`),
  );
  await gradeShards(path.join(base, "shard"), [subs], 4);
  return { subs, shards: [1, 2, 3, 4].map((k) => path.join(base, `shard-${k}`)), base };
}

test("a merge refuses two different results of one learner, and writes nothing", async () => {
  const { shards, base } = await fourShards("conflict");
  const [one, two] = shards as [string, string];
  const [learner] = await learnersIn(one);
  assert.ok(learner);
  const result = await readFile(path.join(one, "results", `${learner}.json`), "utf8");
  await writeFile(path.join(two, "results", `${learner}.json`), result.replace(/"score": 0/, '"score": 11'));
  await cp(path.join(one, "feedback", `${learner}.html`), path.join(two, "feedback", `${learner}.html`));

  const fresh = path.join(base, "merged");
  const refused = await grade("--merge", fresh, ...shards);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`${learner}\\.json: .*shard-1 and .*shard-2 hold different results of this learner`));
  assert.match(refused.stderr, /nothing was written/);
  assert.equal(await exists(fresh), false, "a refused merge made its out folder");

  // Into a folder that exists: it is left as it was.
  const kept = path.join(base, "kept");
  await mkdir(path.join(kept, "results"), { recursive: true });
  await writeFile(path.join(kept, "notes.txt"), "mine");
  assert.equal((await grade("--merge", kept, ...shards)).code, 2);
  assert.deepEqual([...(await filesUnder(kept)).keys()], ["notes.txt"]);

  // The same results twice are no conflict.
  await writeFile(path.join(two, "results", `${learner}.json`), result);
  const merged = await grade("--merge", fresh, ...shards);
  assert.equal(merged.code, 0, merged.stderr);
  assert.equal(await gradebookRows(fresh), 12);
});

test("a merge refuses other lessons, other splits, missing or unfinished shards and folders the grader did not write", async () => {
  const { subs, shards, base } = await fourShards("refusals");
  const out = path.join(base, "merged");
  const refusal = async (folders: readonly string[], pattern: RegExp, extra: readonly string[] = []): Promise<void> => {
    const r = await grade("--merge", out, ...extra, ...folders);
    assert.equal(r.code, 2, `accepted ${folders.join(" ")}`);
    assert.match(r.stderr, pattern);
    assert.equal(await exists(out), false);
  };
  await refusal([...shards, subs], /subs: it has no gradebook\.csv: it is not a grader's out folder/);
  // A plain run's folder beside the shards: its learners were graded by no shard, or twice.
  const plain = path.join(base, "plain");
  assert.equal((await grade("--lesson", LESSON, "--out", plain, subs)).code, 0);
  await refusal([...shards, plain], /plain is not a shard: merge the out folders of one split's shards only/);
  await refusal(shards.slice(0, 3), /shard 4\/4 is missing/);
  await refusal([...shards, shards[0] ?? ""], /shard-1 and .*shard-1 are all shard 1\/4/);
  await refusal(shards, /not all of lesson 02-random-picks/, ["--lesson", "02-random-picks"]);
  await refusal([...shards], /--merge grades nothing: leave out --shard/, ["--shard", "1/4"]);

  const marker = path.join(shards[2] ?? "", "shard.json");
  const original = await readFile(marker, "utf8");
  await writeFile(marker, original.replace('"finished": true', '"finished": false'));
  await refusal(shards, /shard-3: shard 3\/4 has not finished grading/);
  await writeFile(marker, original.replace(LESSON, "02-random-picks"));
  await refusal(shards, /different lessons \(.*holds 01-arrays, .*shard-3 holds 02-random-picks\)/);
  await writeFile(marker, original.replace("3/4", "3/5"));
  await refusal(shards, /different splits/);
  await writeFile(marker, original);
  await writeFile(path.join(shards[3] ?? "", "results", "notes.txt"), "x");
  await refusal(shards, /results\/notes\.txt is not a file the grader writes/);
});

test("--shard takes K/N with K from 1 to N; anything else is a message, and nothing is graded", async () => {
  const subs = await strangers(path.join(tmp, "bad", "subs"), ["ada"]);
  for (const [value, pattern] of [
    ["0/4", /--shard 0\/4: K counts from 1 to 4/],
    ["5/4", /--shard 5\/4: K counts from 1 to 4/],
    ["1/0", /--shard 1\/0: N, the number of shards, is at least 1/],
    ["a/b", /--shard takes K\/N, two whole numbers such as 1\/4/],
    ["1/4/2", /--shard takes K\/N/],
    ["-1/4", /--shard takes K\/N/],
  ] as const) {
    const out = path.join(tmp, "bad", `out-${value.replace(/\W/g, "_")}`);
    const r = await grade("--lesson", LESSON, "--out", out, `--shard=${value}`, subs);
    assert.equal(r.code, 2, value);
    assert.match(r.stderr, pattern);
    assert.match(r.stderr, /usage: npm run grade .*--shard K\/N/);
    assert.equal(await exists(out), false, `${value} wrote ${out}`);
  }
  // One out folder holds one shard: another shard, or the whole class, is told to use its own.
  const out = path.join(tmp, "bad", "shard-1");
  assert.equal((await grade("--lesson", LESSON, "--out", out, "--shard", "1/4", subs)).code, 0);
  const other = await grade("--lesson", LESSON, "--out", out, "--shard", "2/4", subs);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /holds shard 1\/4 of 01-arrays: give each shard its own --out folder/);
  const whole = await grade("--lesson", LESSON, "--out", out, subs);
  assert.equal(whole.code, 2);
  assert.match(whole.stderr, /is the out folder of shard 1\/4/);
});

/** What the flags of `npm run grade` are, as its own usage says. */
async function cliFlags(): Promise<Set<string>> {
  const usage = await grade();
  assert.match(usage.stderr, /^usage: npm run grade/);
  return new Set([...usage.stderr.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
}

/** Runs a recipe's shell command with `npm` standing in, and returns the arguments `npm` got. */
async function npmArgs(shell: "sh" | "bash", script: string, env: Record<string, string>, cwd = tmp): Promise<string[]> {
  const bin = path.join(tmp, "fake-bin");
  await mkdir(bin, { recursive: true });
  await writeFile(
    path.join(bin, "npm"),
    `#!${process.execPath}\nrequire("node:fs").writeFileSync(process.env.ARGV_OUT, JSON.stringify(process.argv.slice(2)));\n`,
  );
  await chmod(path.join(bin, "npm"), 0o755);
  const argvOut = path.join(tmp, "npm-argv.json");
  await rm(argvOut, { force: true });
  await run(shell, ["-c", script], { cwd, env: { PATH: `${bin}:${process.env.PATH ?? ""}`, ARGV_OUT: argvOut, ...env } });
  const args = JSON.parse(await readFile(argvOut, "utf8")) as string[];
  assert.deepEqual(args.slice(0, 3), ["run", "grade", "--"], script);
  return args.slice(3);
}

/** The value after a flag, which must be there once. */
function flag(args: readonly string[], name: string): string {
  const at = args.indexOf(name);
  assert.ok(at >= 0 && args.indexOf(name, at + 1) < 0, `${name} once in ${args.join(" ")}`);
  return args[at + 1] ?? "";
}

function assertRealFlags(args: readonly string[], flags: ReadonlySet<string>): void {
  for (const a of args.filter((a) => a.startsWith("--"))) assert.ok(flags.has(a.split("=")[0] ?? a), `${a} is not a flag of npm run grade`);
}

interface Container {
  command: string[];
  env?: { name: string; value: string }[];
}
const yamlOf = async (file: string): Promise<unknown> => parse(await readFile(path.join(projectRoot, "deploy", file), "utf8")) as unknown;

test("the Kubernetes Indexed Job runs the real CLI: index 0 to N-1 is --shard 1/N to N/N, and the merge takes every shard's folder", async () => {
  const flags = await cliFlags();
  const job = (await yamlOf("k8s/grade-shards.yaml")) as {
    kind: string;
    spec: { completionMode: string; completions: number; template: { spec: { containers: Container[] } } };
  };
  assert.equal(job.kind, "Job");
  assert.equal(job.spec.completionMode, "Indexed");
  const total = job.spec.completions;
  assert.ok(Number.isInteger(total) && total > 1);
  const [container] = job.spec.template.spec.containers;
  assert.ok(container);
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  const [shell, dashC, script] = container.command;
  assert.deepEqual([shell, dashC], ["sh", "-c"]);
  const shards: string[] = [];
  const outs: string[] = [];
  for (let index = 0; index < total; index++) {
    const args = await npmArgs("sh", script ?? "", { ...env, JOB_COMPLETION_INDEX: String(index) });
    assertRealFlags(args, flags);
    assert.ok(args.includes("--lesson") && !args[args.length - 1]?.startsWith("--"), "a lesson and the submissions");
    shards.push(flag(args, "--shard"));
    outs.push(flag(args, "--out"));
  }
  assert.deepEqual(
    shards,
    Array.from({ length: total }, (_, i) => `${i + 1}/${total}`),
  );
  assert.ok(shards.every((s) => "index" in parseShard(s)));
  assert.equal(new Set(outs).size, total, "each shard its own out folder");

  const merge = (await yamlOf("k8s/merge.yaml")) as { kind: string; spec: { template: { spec: { containers: Container[] } } } };
  assert.equal(merge.kind, "Job");
  const [merger] = merge.spec.template.spec.containers;
  assert.ok(merger);
  const args = await npmArgs("sh", merger.command[2] ?? "", Object.fromEntries((merger.env ?? []).map((e) => [e.name, e.value])));
  assertRealFlags(args, flags);
  assert.equal(args[0], "--merge");
  assert.deepEqual(args.slice(2).sort(), [...outs].sort(), "the merge takes exactly the shards' out folders");
});

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
}
interface Workflow {
  on: { workflow_dispatch: { inputs: Record<string, { default?: string }> } };
  jobs: Record<
    string,
    { needs?: string | string[]; env?: Record<string, string>; strategy?: { matrix: { shard: number[] } }; steps: Step[] }
  >;
}

test("the GitHub Actions matrix runs the real CLI: shards 1 to N, each uploaded, then one merge of all of them", async () => {
  const flags = await cliFlags();
  const workflow = (await yamlOf("github-actions/grade-shards.yml")) as Workflow;
  const { grade: gradeJob, merge: mergeJob } = workflow.jobs;
  assert.ok(gradeJob?.strategy && mergeJob);
  const matrix = gradeJob.strategy.matrix.shard;
  const inputs = { lesson: LESSON, submissions: "submissions" };
  /** GitHub's expressions, as a runner of shard `shard` sees them; any other is a mistake. */
  const expand = (text: string, shard?: number): string =>
    text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (whole, name: string) => {
      if (name === "matrix.shard" && shard !== undefined) return String(shard);
      if (name === "strategy.job-total" && shard !== undefined) return String(matrix.length);
      const input = /^inputs\.(\w+)$/.exec(name)?.[1];
      if (input && input in inputs && input in workflow.on.workflow_dispatch.inputs) return inputs[input as keyof typeof inputs];
      assert.fail(`unknown expression ${whole}`);
    });
  const env = Object.fromEntries(Object.entries(gradeJob.env ?? {}).map(([k, v]) => [k, expand(v)]));
  const gradeStep = gradeJob.steps.find((s) => s.run?.includes("npm run grade"));
  const upload = gradeJob.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.ok(gradeStep?.run && upload?.with);
  const artifacts: string[] = [];
  const shards: string[] = [];
  for (const shard of matrix) {
    const args = await npmArgs("bash", expand(gradeStep.run, shard), env);
    assertRealFlags(args, flags);
    assert.equal(flag(args, "--lesson"), LESSON);
    shards.push(flag(args, "--shard"));
    assert.equal(flag(args, "--out"), expand(String(upload.with.path), shard), "the shard uploads its out folder");
    artifacts.push(expand(String(upload.with.name), shard));
  }
  assert.deepEqual(
    shards,
    matrix.map((_, i) => `${i + 1}/${matrix.length}`),
  );

  assert.deepEqual([mergeJob.needs].flat(), ["grade"]);
  const download = mergeJob.steps.find((s) => s.uses?.startsWith("actions/download-artifact@"));
  const mergeStep = mergeJob.steps.find((s) => s.run?.includes("npm run grade"));
  assert.ok(download?.with && mergeStep?.run);
  const pattern = new RegExp(`^${String(download.with.pattern).replace(/\*/g, ".*")}$`);
  assert.ok(
    artifacts.every((a) => pattern.test(a)),
    "the merge downloads every shard",
  );
  // download-artifact puts each artifact in a folder of its name under `path`.
  const workspace = await mkdtemp(path.join(tmp, "workspace-"));
  const downloaded = artifacts.map((a) => path.join(String(download.with?.path), a));
  for (const folder of downloaded) await mkdir(path.join(workspace, folder), { recursive: true });
  const args = await npmArgs("bash", expand(mergeStep.run), {}, workspace);
  assertRealFlags(args, flags);
  assert.equal(args[0], "--merge");
  assert.deepEqual(args.slice(2).sort(), [...downloaded].sort());
});
