/**
 * Finding a Jupyter to open the course in, and giving it the tslab kernel.
 *
 * No process is left running and nothing is printed here: `scripts/start.mts`
 * decides what to say and what to start.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { installCommand, isDebianLike, START_PACKAGES } from "./debian-packages.js";
import type { KernelCommand } from "./kernel-seam.js";
import { ensureTslabSnapshot, kitKernelCommand } from "./tslab-snapshot.js";
import { TSLAB_KERNELSPEC } from "./notebook.js";
import { failed, ok, type Problem, type Result } from "./problem.js";

/** Pythons tried in order: Debian's system Python first (its Jupyter comes from apt), then whatever PATH has. */
const PYTHON_CANDIDATES = ["/usr/bin/python3", "python3", "python"] as const;
/** How long one probe may take; importing notebook cold takes about a second. */
const PROBE_TIMEOUT_MS = 15_000;

/** The kernel's name: the notebooks' `metadata.kernelspec.name` is "tslab". */
export const KERNEL_NAME = TSLAB_KERNELSPEC.name;

/** A Python that runs Jupyter Notebook, and the Notebook's version. */
export type JupyterFound = Result<{ readonly python: string; readonly version: string }>;

/** Runs a program and resolves with its trimmed stdout, or undefined when it fails or is missing. */
function outputOf(file: string, args: readonly string[], timeout = PROBE_TIMEOUT_MS): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, encoding: "utf8", windowsHide: true }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim());
    });
  });
}

/** What to run to get Jupyter Notebook and nbclient, for this machine. */
export function installAdvice(): string {
  return isDebianLike() ? installCommand(START_PACKAGES) : "python3 -m pip install --user notebook nbclient";
}

/**
 * Looks for a Python that can run Jupyter Notebook (with nbclient).
 *
 * @example
 * const found = await findJupyter();
 * if (found.ok) console.log(`${found.value.python} has notebook ${found.value.version}`);
 * else console.error(found.problems.map(formatProblem).join("\n"));
 */
export async function findJupyter(): Promise<JupyterFound> {
  for (const python of PYTHON_CANDIDATES) {
    const version = await outputOf(python, ["-c", "import notebook, nbclient; print(notebook.__version__)"]);
    if (version) return ok({ python, version });
  }
  return failed([
    {
      message:
        `Jupyter Notebook was not found (tried ${PYTHON_CANDIDATES.join(", ")}: none can import notebook and nbclient). ` +
        `Install it with:\n  ${installAdvice()}\nthen run npm start again.`,
    },
  ]);
}

/** The kernelspec Jupyter reads to start tslab with this project's Node and this project's tslab. */
export function kernelSpec(command: KernelCommand): Record<string, unknown> {
  return {
    argv: command.argv,
    display_name: TSLAB_KERNELSPEC.display_name,
    language: "typescript",
    interrupt_mode: "signal",
  };
}

/** Where a Jupyter data folder keeps this project's kernelspec. */
export const kernelSpecFile = (dataDir: string): string => path.join(path.resolve(dataDir), "kernels", KERNEL_NAME, "kernel.json");

/**
 * Writes `<dataDir>/kernels/tslab/kernel.json` (absolute paths, safe to repeat)
 * and returns the kernel's folder.
 *
 * @example
 * await installKernelSpec(jupyterDataDir, projectRoot); // → <root>/.jupyter/kernels/tslab
 */
export async function installKernelSpec(dataDir: string, projectRoot: string): Promise<string> {
  const file = kernelSpecFile(dataDir);
  await writeIfChanged(file, JSON.stringify(kernelSpec(kitKernelCommand(path.resolve(projectRoot))), null, 1) + "\n");
  // the kit's Jupyter config beside it, for jupyterEnv's and the class server's JUPYTER_CONFIG_PATH
  const config = await readFile(path.join(path.resolve(projectRoot), "src", "engine", "jupyter-config", NOTEBOOK_CONFIG), "utf8");
  await writeIfChanged(path.join(kitConfigDir(dataDir), NOTEBOOK_CONFIG), config);
  return path.dirname(file);
}

/**
 * The kit's kernel into a Jupyter data folder: first its start-up snapshot (made once; kernels
 * start from it on about half the CPU, and the kernelspec uses it only if it is there), then the
 * kernelspec. The kernel's folder, and why there is no snapshot when there is none.
 */
export async function installKitKernel(dataDir: string, projectRoot: string): Promise<{ folder: string; problems: readonly Problem[] }> {
  const snapshot = await ensureTslabSnapshot(projectRoot);
  return { folder: await installKernelSpec(dataDir, projectRoot), problems: snapshot.ok ? [] : snapshot.problems };
}

/**
 * Writes `text` to `file` unless it holds it already (a kernelspec folder may be read by every
 * learner while it is written). Whatever the umask, the file and its folder are writable by
 * their owner only: on a class server every learner's server runs what they say.
 */
async function writeIfChanged(file: string, text: string): Promise<void> {
  const current = await readFile(file, "utf8").catch(() => undefined);
  if (current !== text) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  await chmod(path.dirname(file), 0o755);
  await chmod(file, 0o644);
}

const NOTEBOOK_CONFIG = "jupyter_notebook_config.py";

/**
 * The folder of the kit's Jupyter config (src/engine/jupyter-config/), installed with the
 * kernelspec in `dataDir`: Notebook 6's kernel websockets without Nagle's delay.
 */
export const kitConfigDir = (dataDir: string): string => path.join(path.resolve(dataDir), "rollcall-config");

/**
 * The environment for a Jupyter that keeps to `dataDir`: it finds the kernelspec
 * there (JUPYTER_PATH) and writes its config, runtime files and notebook
 * signatures there too, never into the user's own Jupyter folders.
 */
export function jupyterEnv(dataDir: string): NodeJS.ProcessEnv {
  const root = path.resolve(dataDir);
  const existing = process.env["JUPYTER_PATH"];
  const config = process.env["JUPYTER_CONFIG_PATH"];
  return {
    ...process.env,
    JUPYTER_PATH: existing ? `${root}${path.delimiter}${existing}` : root,
    JUPYTER_DATA_DIR: root,
    JUPYTER_CONFIG_DIR: path.join(root, "config"),
    JUPYTER_CONFIG_PATH: config ? `${kitConfigDir(root)}${path.delimiter}${config}` : kitConfigDir(root),
    JUPYTER_RUNTIME_DIR: path.join(root, "runtime"),
  };
}

/**
 * The user's own Jupyter data folder (`python -m jupyter --data-dir`), where VS Code,
 * JupyterLab and a Jupyter the user starts themselves look for kernels.
 */
export async function userJupyterDataDir(python: string): Promise<string | undefined> {
  return outputOf(python, ["-m", "jupyter", "--data-dir"]);
}

/** Signs notebooks with nbformat's notary, as `jupyter trust` does (Debian ships no `jupyter trust` command). */
const TRUST_SCRIPT = `
import sys, nbformat
from nbformat.sign import NotebookNotary
notary = NotebookNotary()
for file in sys.argv[1:]:
    notary.sign(nbformat.read(file, as_version=4))
`;

/**
 * Marks the course's own notebooks trusted for the Jupyter that keeps to `dataDir`
 * (its signature database lives there), so that it never labels them "Not
 * Trusted". The files themselves are not changed. Resolves with what went wrong,
 * or undefined.
 */
export function trustNotebooks(python: string, dataDir: string, files: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      python,
      ["-c", TRUST_SCRIPT, ...files],
      { env: jupyterEnv(dataDir), timeout: PROBE_TIMEOUT_MS, encoding: "utf8" },
      (error, _out, stderr) => resolve(error ? (stderr.trim().split("\n").pop() ?? error.message) : undefined),
    );
  });
}
