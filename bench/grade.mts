/**
 * Issue figure for the grader: 200 synthetic submissions of 01-arrays (correct,
 * partial, wrong, broken and slow mixes) graded by `npm run grade`, against
 * `jupyter nbconvert --execute` (the engine nbgrader and otter use) run on each
 * in turn, on the same machine in the same run. nbconvert takes ~3 s a notebook,
 * so it runs on an evenly spread sample (every 10th) and its throughput is per
 * notebook; ours is the whole batch. Peak memory is the whole process tree's RSS.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildLesson } from "../src/engine/build.js";
import { CheckRealm } from "../src/engine/check-realm.js";
import { installKernelSpec } from "../src/engine/jupyter-setup.js";
import { serializeNotebook, withSources, type Notebook } from "../src/engine/notebook.js";
import { projectRoot } from "../src/engine/paths.js";
import { loadLesson } from "../src/engine/lesson-files.js";

const run = promisify(execFile);

const ANSWERS = {
  wrongLast: "function lastStudent(names: string[]): string {\n  return names[names.length];\n}",
  wrongEnroll: "function enroll(names: string[], name: string): string[] {\n  names.push(name);\n  return names;\n}",
  broken: "function lastStudent(names: string[]): string {\n  return names.last;\n}",
  slow: "function lastStudent(names: string[]): string {\n  const until = Date.now() + 300;\n  while (Date.now() < until) {}\n  return names[names.length - 1];\n}",
};

/** The mix: 40% correct, 20% partial, 20% wrong, 10% broken (a type error, or not a notebook at all), 10% slow. */
function variant(i: number, instructor: Notebook, learner: Notebook): string {
  const swap = (base: Notebook, answers: Record<string, string>): string => serializeNotebook(withSources(base, answers));
  const kind = i % 10;
  if (kind < 4) return swap(instructor, {});
  if (kind < 6) return swap(instructor, { "last-student": ANSWERS.wrongLast });
  if (kind === 6) return swap(learner, {});
  if (kind === 7) return swap(instructor, { "last-student": ANSWERS.wrongLast, enroll: ANSWERS.wrongEnroll });
  if (kind === 8) return i % 20 === 8 ? swap(instructor, { "last-student": ANSWERS.broken }) : swap(instructor, {}).slice(0, 400);
  return swap(instructor, { "last-student": ANSWERS.slow });
}

/** Runs a command and samples the RSS of it and all its descendants every 100 ms. */
async function measured(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ ms: number; peakMb: number }> {
  const started = performance.now();
  const child = spawn(command, args, { ...options, stdio: "ignore" });
  let peak = 0;
  const sample = async (): Promise<void> => {
    const { stdout } = await run("ps", ["-eo", "pid=,ppid=,rss="]).catch(() => ({ stdout: "" }));
    const rows = stdout
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
    const tree = new Set([child.pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, ppid] of rows)
        if (tree.has(ppid) && !tree.has(pid)) {
          tree.add(pid);
          grew = true;
        }
    }
    peak = Math.max(
      peak,
      rows.filter(([pid]) => tree.has(pid)).reduce((sum, [, , rss]) => sum + rss, 0),
    );
  };
  const timer = setInterval(() => void sample(), 100);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(timer);
  if (code !== 0 && command === process.execPath) throw new Error(`${args.join(" ")} exited with ${code}`);
  return { ms: performance.now() - started, peakMb: peak / 1024 };
}

export async function benchGrade(count = 200, sampleEvery = 10): Promise<Record<string, number>> {
  const lesson = await loadLesson("01-arrays");
  if (!lesson.ok) throw new Error("lessons/01-arrays.md does not parse");
  const { instructor, learner } = buildLesson(lesson.value);
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-class-"));
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(folder, `learner-${String(i).padStart(3, "0")}.ipynb`);
    await writeFile(file, variant(i, instructor, learner));
    files.push(file);
  }
  const grade = async (inputs: readonly string[], extra: readonly string[] = []) =>
    measured(process.execPath, [
      path.join(projectRoot, "dist", "scripts", "grade.mjs"),
      "--lesson",
      "01-arrays",
      "--out",
      await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-out-")),
      ...extra,
      ...inputs,
    ]);
  const ours = await grade([folder]);
  // What isolation costs: a fresh worker process for every learner, on a sample of the same mix.
  const freshSample = files.filter((_, i) => i % 5 === 0);
  const fresh = await grade(freshSample, ["--worker-reuse", "1"]);
  const reused = await grade(freshSample);
  // ... and the fresh check realm every learner gets anyway, made in this process.
  const realms = 50;
  const realmStart = performance.now();
  for (let i = 0; i < realms; i++) new CheckRealm();
  const realmMs = (performance.now() - realmStart) / realms;

  const jupyterPath = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-jupyter-"));
  await installKernelSpec(jupyterPath, projectRoot);
  // nbconvert must run where the notebook can import "rollcall": inside the project.
  const inProject = path.join(projectRoot, "build", "bench");
  await mkdir(inProject, { recursive: true });
  const sample = files.filter((_, i) => i % sampleEvery === 0);
  let theirMs = 0;
  let theirPeak = 0;
  for (const file of sample) {
    const copy = path.join(inProject, path.basename(file));
    await writeFile(copy, await readFile(file));
    const { ms, peakMb } = await measured(
      "/usr/bin/python3",
      ["-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.timeout=10", "--stdout", copy],
      { cwd: inProject, env: { ...process.env, JUPYTER_PATH: jupyterPath } },
    );
    theirMs += ms;
    theirPeak = Math.max(theirPeak, peakMb);
  }
  const oursPerSecond = count / (ours.ms / 1000);
  const theirsPerSecond = sample.length / (theirMs / 1000);
  return {
    "submissions graded by npm run grade": count,
    "rollcall: wall time for all (s)": ours.ms / 1000,
    "rollcall: submissions per second": oursPerSecond,
    "rollcall: peak memory, whole tree (MB)": ours.peakMb,
    "nbconvert --execute: notebooks run in turn (sample)": sample.length,
    "nbconvert: notebooks per second": theirsPerSecond,
    "nbconvert: peak memory (MB)": theirPeak,
    "throughput ratio rollcall / nbconvert (×)": oursPerSecond / theirsPerSecond,
    "peak memory ratio rollcall / nbconvert (×)": ours.peakMb / theirPeak,
    "isolation: a fresh check realm per learner (ms each)": realmMs,
    "isolation: sample graded with reused workers (s)": reused.ms / 1000,
    "isolation: same sample, a fresh worker process per learner (s)": fresh.ms / 1000,
    "isolation: cost of a process per learner (× the reused time)": fresh.ms / reused.ms,
  };
}
