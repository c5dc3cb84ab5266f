#!/usr/bin/env node
/**
 * npm run execute -- NOTEBOOK.ipynb [--out RESULT.ipynb] [--timeout SECONDS] [--keep-going]
 *
 * Runs every code cell headless in the tslab kernel, as Jupyter's "Run All" does,
 * and says how each cell ended. Exits 1 when a cell failed, like nbconvert.
 */
import { chalk, fs } from "zx";
import { runNotebookFile } from "../src/engine/run-file.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { formatProblem } from "../src/engine/problem.js";
import type { CellRun } from "../src/engine/run.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run execute -- NOTEBOOK.ipynb [--out RESULT.ipynb] [--timeout SECONDS] [--keep-going]";
const mark: Record<CellRun["status"], string> = {
  ok: chalk.green("✓"),
  error: chalk.red("✗"),
  timeout: chalk.red("◷"),
  aborted: chalk.yellow("-"),
  died: chalk.red("†"),
  skipped: chalk.dim("·"),
};

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    allowPositionals: true,
    options: { out: { type: "string" }, timeout: { type: "string", default: "30" }, "keep-going": { type: "boolean", default: false } },
  });
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const seconds = Number(values.timeout);
  if (positionals.length !== 1 || !(seconds > 0)) {
    console.error(USAGE);
    return 2;
  }
  const file = positionals[0] ?? "";
  const result = await runNotebookFile(file, {
    timeoutMs: seconds * 1000,
    stopOnError: !values["keep-going"],
    onCell: (run) =>
      console.log(
        `${mark[run.status]} cell ${run.index} (${run.id}) ${Math.round(run.durationMs)} ms${run.message ? `: ${run.message}` : ""}`,
      ),
  });
  if (!result.ok) {
    result.problems.forEach((p) => console.error(chalk.red(formatProblem(p))));
    return 1;
  }
  const failedCells = result.value.cells.filter((c) => c.status !== "ok" && c.status !== "skipped");
  console.log(`${file}: ${result.value.cells.length} cells in ${Math.round(result.value.durationMs)} ms, ${failedCells.length} failed`);
  if (values.out) await fs.outputFile(values.out, serializeNotebook(result.value.notebook));
  return failedCells.length ? 1 : 0;
}

runMain("execute", main);
