/**
 * The runner's edge: read a notebook file, start a kernel in its folder, run
 * it, stop the kernel. Everything user-caused comes back as problems.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { JupyterKernel } from "./jupyter-kernel.js";
import type { KernelCommand } from "./kernel.js";
import { kernelCommandFor } from "./kernel-snapshot.js";
import { parseNotebook } from "./notebook.js";
import { failed, ok, type Result } from "./problem.js";
import { runNotebook, type NotebookRun, type RunOptions } from "./run.js";

export interface ExecuteFileOptions extends RunOptions {
  readonly kernel?: KernelCommand;
  /** Told about what did not go as planned but did not stop the run (a kernel snapshot Node refused). */
  readonly onNote?: (message: string) => void;
}

export async function executeNotebookFile(file: string, options: ExecuteFileOptions = {}): Promise<Result<NotebookRun>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return failed([{ file, message: `cannot read this notebook (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the path` }]);
  }
  const notebook = parseNotebook(text, file);
  if (!notebook.ok) return notebook;
  let kernel: JupyterKernel;
  try {
    const cwd = path.dirname(path.resolve(file));
    kernel = await JupyterKernel.start(options.kernel ?? kernelCommandFor(cwd), { cwd, ...(options.onNote ? { onFallback: options.onNote } : {}) });
  } catch (error) {
    return failed([{ file, message: `the kernel did not start: ${(error as Error).message}. Run npm install (it installs tslab), then try again.` }]);
  }
  try {
    return ok(await runNotebook(notebook.value, kernel, options));
  } finally {
    await kernel.stop();
  }
}
