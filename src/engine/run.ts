/**
 * Runs a notebook's code cells, top to bottom, in a kernel: the headless
 * equivalent of Jupyter's "Run All" and of `jupyter nbconvert --execute`.
 */
import type { CheckExecution, ExecuteOptions, Kernel } from "./kernel-seam.js";
import type { Cell, CodeCell, Notebook, Output } from "./notebook.js";

/** A cell never sent to the kernel: an earlier cell failed (with stopOnError), the run ran out of time, or the grader gave up. */
export interface SkippedCell {
  readonly status: "skipped";
  readonly outputs: readonly Output[];
  readonly executionCount: null;
  readonly durationMs: 0;
  /** Why it was not run, in words for the user. */
  readonly message: string;
}

export const skippedCell = (message: string): SkippedCell => ({
  status: "skipped",
  outputs: [],
  executionCount: null,
  durationMs: 0,
  message,
});

/**
 * How one cell of a run ended, for the runner and the grader alike: the kernel's
 * execution of it (with the lesson's verdict, for a grader's check cell), or skipped.
 */
export type CellOutcome = CheckExecution | SkippedCell;

/** A cell's outcome in a notebook run, and which cell it was. */
export type CellRun = CellOutcome & {
  readonly id: string;
  /** 1-based position among all the notebook's cells, as a learner counts them. */
  readonly index: number;
};

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
    if (cell.cell_type !== "code" || isEmpty(cell)) {
      cells.push(cell);
      continue;
    }
    const index = position + 1;
    if (stopped === undefined && performance.now() > deadline)
      stopped = `not run: the notebook ran past its ${(options.runTimeoutMs ?? 0) / 1000} s limit`;
    if (stopped !== undefined) {
      const run: CellRun = { id: cell.id, index, ...skippedCell(stopped) };
      runs.push(run);
      options.onCell?.(run);
      cells.push({ ...cell, outputs: [], execution_count: null });
      continue;
    }
    const remaining = deadline - performance.now();
    const timeoutMs = Math.min(options.timeoutMs ?? Infinity, remaining);
    const execution = await kernel.execute(cell.source, { ...options, timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : undefined });
    const run: CellRun = { id: cell.id, index, ...execution };
    runs.push(run);
    options.onCell?.(run);
    cells.push({ ...cell, outputs: execution.outputs, execution_count: execution.executionCount });
    if (execution.status !== "ok" && stopOnError) {
      stopped = `not run: cell ${index} stopped with ${execution.status === "error" ? "an error" : `status '${execution.status}'`}`;
    }
  }
  return { notebook: { ...notebook, cells }, cells: runs, durationMs: performance.now() - started };
}
