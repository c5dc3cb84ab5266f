/**
 * The one narrow interface every kernel sits behind: start, execute a cell,
 * interrupt, stop. tslab is the default; another Jupyter kernel (Deno's, say)
 * is a different `KernelCommand`, not a different runner.
 */
import path from "node:path";
import type { CheckOutcome } from "./grade-protocol.js";
import type { Output } from "./notebook.js";

/** How one cell ended. `aborted`: the kernel refused it (tslab does, right after an error). */
export type CellStatus = "ok" | "error" | "timeout" | "aborted" | "died";

export interface Execution {
  readonly status: CellStatus;
  readonly outputs: readonly Output[];
  readonly executionCount: number | null;
  readonly durationMs: number;
  /** Why the cell did not finish normally, in words for the user (timeout, died). */
  readonly message?: string;
}

export interface ExecuteOptions {
  /** After this long the cell is interrupted; if the interrupt does not stop it, the kernel is killed. */
  readonly timeoutMs?: number;
  /** Text outputs past this many characters are cut, with a note saying so. */
  readonly maxOutputChars?: number;
}

export interface Kernel {
  execute(code: string, options?: ExecuteOptions): Promise<Execution>;
  /** Stops the running cell, as Jupyter's ■ button does. */
  interrupt(): void;
  /** Shuts the kernel down; always resolves, killing the process if it must. */
  stop(): Promise<void>;
  /** False once the kernel process has exited. */
  readonly alive: boolean;
}

/** A kernel's launch command, as a Jupyter kernelspec's argv ({connection_file} is filled in). */
export interface KernelCommand {
  readonly name: string;
  readonly argv: readonly string[];
  /** Some kernels refuse requests that arrive just after an error (tslab: within 200 ms); wait that long. */
  readonly abortWindowMs?: number;
}

/** This project's tslab, started with the same Node that runs rollcall. */
export function tslabCommand(projectRoot: string): KernelCommand {
  return {
    name: "tslab",
    argv: [
      process.execPath,
      path.join(projectRoot, "node_modules", "tslab", "bin", "tslab"),
      "kernel",
      "--config-path",
      "{connection_file}",
    ],
    abortWindowMs: 220,
  };
}

/** How a check ran: as a cell, plus the verdict of the lesson's check (from the kernel's trusted side). */
export interface CheckExecution extends Execution {
  readonly check?: CheckOutcome;
}

/**
 * The same seam, for grading: a kernel that takes one learner at a time in a
 * fresh namespace, and runs a lesson's check on a trusted side of its own,
 * against the names the learner's cells declared. The grader's workers are one;
 * another kernel would be an adapter, not a new grader.
 */
export interface GradingKernel extends Kernel {
  /** Starts a learner: an empty namespace and scratch folder. */
  beginLearner(): Promise<void>;
  /** Runs the lesson's check for an exercise, as a cell would run. */
  check(exercise: string, options?: ExecuteOptions): Promise<CheckExecution>;
  /** Ends the learner; says why this kernel must not take another, when it must not. */
  endLearner(): Promise<{ readonly recycle?: string }>;
}
