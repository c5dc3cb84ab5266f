/**
 * Runs a notebook's code cells, top to bottom, in a kernel: the headless
 * equivalent of Jupyter's "Run All" and of `jupyter nbconvert --execute`.
 */
import type { CellStatus, ExecuteOptions, Kernel } from "./kernel.js";
import type { Cell, CodeCell, Notebook } from "./notebook.js";

/** `skipped`: never sent, because an earlier cell failed (with stopOnError) or the run ran out of time. */
export type CellRunStatus = CellStatus | "skipped";

export interface CellRun {
  readonly id: string;
  /** 1-based position among all the notebook's cells, as a learner counts them. */
  readonly index: number;
  readonly status: CellRunStatus;
  readonly durationMs: number;
  readonly message?: string;
}

export interface RunOptions extends ExecuteOptions {
  /** Stop at the first failing cell, as Jupyter's Run All and nbconvert do (default true). */
  readonly stopOnError?: boolean;
  /** A limit on the whole run; cells after it are skipped. */
  readonly runTimeoutMs?: number;
  /** Called after each code cell, e.g. for progress. */
  readonly onCell?: (run: CellRun) => void;
}

export interface NotebookRun {
  /** The notebook with each cell's outputs and execution count, as nbconvert writes it. */
  readonly notebook: Notebook;
  readonly cells: readonly CellRun[];
  readonly durationMs: number;
}

const isEmpty = (cell: CodeCell): boolean => cell.source.trim() === "";

export async function runNotebook(notebook: Notebook, kernel: Kernel, options: RunOptions = {}): Promise<NotebookRun> {
  const started = performance.now();
  const deadline = options.runTimeoutMs === undefined ? Infinity : started + options.runTimeoutMs;
  const stopOnError = options.stopOnError ?? true;
  const runs: CellRun[] = [];
  const cells: Cell[] = [];
  let stopped: string | undefined;

  for (const [position, cell] of notebook.cells.entries()) {
    if (cell.cell_type !== "code" || isEmpty(cell)) { cells.push(cell); continue; }
    const index = position + 1;
    if (stopped === undefined && performance.now() > deadline) stopped = `not run: the notebook ran past its ${(options.runTimeoutMs ?? 0) / 1000} s limit`;
    if (stopped !== undefined) {
      const run: CellRun = { id: cell.id, index, status: "skipped", durationMs: 0, message: stopped };
      runs.push(run);
      options.onCell?.(run);
      cells.push({ ...cell, outputs: [], execution_count: null });
      continue;
    }
    const remaining = deadline - performance.now();
    const timeoutMs = Math.min(options.timeoutMs ?? Infinity, remaining);
    const execution = await kernel.execute(cell.source, { ...options, timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : undefined });
    const run: CellRun = { id: cell.id, index, status: execution.status, durationMs: execution.durationMs, ...(execution.message ? { message: execution.message } : {}) };
    runs.push(run);
    options.onCell?.(run);
    cells.push({ ...cell, outputs: execution.outputs, execution_count: execution.executionCount });
    if (execution.status !== "ok" && stopOnError) {
      stopped = `not run: cell ${index} stopped with ${execution.status === "error" ? "an error" : `status '${execution.status}'`}`;
    }
  }
  return { notebook: { ...notebook, cells }, cells: runs, durationMs: performance.now() - started };
}
