/**
 * Issue figures for the runner, measured side by side in one run:
 * - executing the 01-arrays instructor notebook headless (kernel start to stop),
 *   against `jupyter nbconvert --execute` on the same notebook; also as a whole
 *   `npm run execute` process;
 * - kernel start until it answers, and a warm trivial cell's round trip (p50, p95).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildLesson } from "../src/engine/build.js";
import { runNotebookFile } from "../src/engine/run-file.js";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { installKernelSpec } from "../src/engine/jupyter-setup.js";
import { tslabCommand } from "../src/engine/kernel-seam.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { instructorDir, projectRoot } from "../src/engine/paths.js";
import { loadLesson } from "../src/engine/lesson-files.js";
import { formatProblem } from "../src/engine/problem.js";

const run = promisify(execFile);
const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const median = (values: readonly number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

async function instructorCopy(lessonId: string): Promise<string> {
  const lesson = await loadLesson(lessonId);
  if (!lesson.ok) throw new Error(lesson.problems.map(formatProblem).join("\n"));
  await mkdir(instructorDir, { recursive: true });
  const out = path.join(instructorDir, `${lessonId}.ipynb`);
  await writeFile(out, serializeNotebook(buildLesson(lesson.value).instructor));
  return out;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function benchExecute(rounds = 5): Promise<Record<string, number>> {
  const notebook = await instructorCopy("01-arrays");
  const jupyterPath = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-"));
  await installKernelSpec(jupyterPath, projectRoot);
  const tslab = tslabCommand(projectRoot);
  const runClean = async (): Promise<void> => {
    const result = await runNotebookFile(notebook, { timeoutMs: 60_000 });
    if (!result.ok || result.value.cells.some((c) => c.status !== "ok")) throw new Error("the notebook did not run cleanly");
  };
  const ours: number[] = [];
  const cli: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // interleaved, so that noise hits all alike
    ours.push(await timed(() => runClean()));
    cli.push(await timed(() => run(process.execPath, [path.join(projectRoot, "dist", "scripts", "execute.mjs"), notebook])));
    theirs.push(
      await timed(() =>
        run("/usr/bin/python3", ["-m", "nbconvert", "--to", "notebook", "--execute", "--stdout", notebook], {
          cwd: instructorDir,
          env: { ...process.env, JUPYTER_PATH: jupyterPath },
          maxBuffer: 64 << 20,
        }),
      ),
    );
  }

  const starts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const cold = await JupyterKernel.start(tslab, { cwd: instructorDir });
    starts.push(performance.now() - started);
    await cold.stop();
  }
  const kernel = await JupyterKernel.start(tslab, { cwd: instructorDir });
  const trips: number[] = [];
  try {
    for (let i = 0; i < 20; i++) await kernel.execute("1"); // warm up
    for (let i = 0; i < 200; i++) trips.push(await timed(() => kernel.execute("1")));
  } finally {
    await kernel.stop();
  }
  trips.sort((a, b) => a - b);
  return {
    "01-arrays headless, rollcall (ms, median)": median(ours),
    "01-arrays, jupyter nbconvert --execute (ms, median)": median(theirs),
    "speed-up vs nbconvert (×)": median(theirs) / median(ours),
    "01-arrays, npm run execute as a whole process (ms, median)": median(cli),
    "kernel start until it answers, tslab (ms, median)": median(starts),
    "warm trivial cell p50 (ms)": quantile(trips, 0.5),
    "warm trivial cell p95 (ms)": quantile(trips, 0.95),
  };
}
