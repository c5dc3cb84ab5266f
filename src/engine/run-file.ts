/**
 * The runner's edge: read a notebook file, start a kernel in its folder, run
 * it, stop the kernel. Everything user-caused comes back as problems.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { JupyterKernel } from "./kernel-client.js";
import type { KernelCommand } from "./kernel-seam.js";
import { kitKernelCommand } from "./tslab-snapshot.js";
import { parseNotebook } from "./notebook.js";
import { projectRoot } from "./paths.js";
import { failed, ok, type Result } from "./problem.js";
import { runNotebook, type NotebookRun, type RunOptions } from "./run.js";

export interface ExecuteFileOptions extends RunOptions {
  /** The kernel to run it in; this project's tslab by default. */
  readonly kernel?: KernelCommand;
}

export async function runNotebookFile(file: string, options: ExecuteFileOptions = {}): Promise<Result<NotebookRun>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return failed([
      { file, message: `cannot read this notebook (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the path` },
    ]);
  }
  const notebook = parseNotebook(text, file);
  if (!notebook.ok) return notebook;
  let kernel: JupyterKernel;
  try {
    const cwd = path.dirname(path.resolve(file));
    kernel = await JupyterKernel.start(options.kernel ?? kitKernelCommand(projectRoot), { cwd });
  } catch (error) {
    return failed([
      { file, message: `the kernel did not start: ${(error as Error).message}. Run npm install (it installs tslab), then try again.` },
    ]);
  }
  try {
    return ok(await runNotebook(notebook.value, kernel, options));
  } finally {
    await kernel.stop();
  }
}
