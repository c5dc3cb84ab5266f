/**
 * A Python venv with pip's Jupyter Notebook 7 and JupyterLab 4, for the browser tests
 * of the Jupyters learners install themselves (Debian packages only Notebook 6).
 *
 * Made once in build/jupyter-venv and reused. A marker file, written last, says the
 * venv is whole; a lock folder keeps two test runs from making it at the same time.
 * A venv without its marker (pip failed, or the run was killed) is made again.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildDir } from "../../src/engine/paths.js";
import { failed, ok, type Result } from "../../src/engine/problem.js";

export const JUPYTER_VENV = path.join(buildDir, "jupyter-venv");
/** Debian's Python: python3-venv is its venv module. */
const SYSTEM_PYTHON = "/usr/bin/python3";
const REQUIREMENTS = ["notebook", "jupyterlab"] as const;
/** The major versions the tests are written for. */
const EXPECTED = { notebook: 7, jupyterlab: 4 } as const;
const MARKER = path.join(JUPYTER_VENV, "rollcall-venv.json");
const LOCK = `${JUPYTER_VENV}.lock`;
/** pip from a mirror takes a minute or two; give up well inside CI's budget. */
const PIP_TIMEOUT_MS = 10 * 60_000;
/** How long to wait for another run that is making the venv. */
const LOCK_WAIT_MS = PIP_TIMEOUT_MS + 60_000;
/** How many of pip's last output lines a failure shows. */
const TAIL_LINES = 40;

export interface JupyterVenv {
  /** The venv's Python: `python -m notebook` and `python -m jupyterlab` start the servers. */
  readonly python: string;
  readonly notebook: string;
  readonly jupyterlab: string;
}

interface Run {
  readonly ok: boolean;
  readonly output: string;
}

function run(file: string, args: readonly string[], timeout: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}${error && !stderr ? `\n${error.message}` : ""}`;
      resolve({ ok: !error, output });
    });
  });
}

const tail = (output: string): string => output.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
const pythonOf = (venv: string): string => path.join(venv, "bin", "python");

/** The venv's versions, when its marker says it is whole and was made for these requirements. */
async function whole(): Promise<JupyterVenv | undefined> {
  const text = await readFile(MARKER, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const marker = JSON.parse(text) as { requirements?: unknown; notebook?: string; jupyterlab?: string };
  if (JSON.stringify(marker.requirements) !== JSON.stringify(REQUIREMENTS) || !marker.notebook || !marker.jupyterlab) return undefined;
  return { python: pythonOf(JUPYTER_VENV), notebook: marker.notebook, jupyterlab: marker.jupyterlab };
}

/** True when the lock's holder has died: its pid is not running, or it never wrote one (a lock without a pid may be a moment old). */
async function stale(): Promise<boolean> {
  const pid = await readFile(path.join(LOCK, "pid"), "utf8").catch(() => undefined);
  if (pid === undefined) {
    const made = await stat(LOCK).catch(() => undefined);
    return made !== undefined && Date.now() - made.mtimeMs > 10_000;
  }
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch {
    return true;
  }
}

/** Takes the lock (mkdir is atomic), taking over one whose holder died; false if another run holds it for too long. */
async function lock(): Promise<boolean> {
  const until = Date.now() + LOCK_WAIT_MS;
  await mkdir(buildDir, { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(path.join(LOCK, "pid"), String(process.pid));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (await stale()) {
      await rm(LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > until) return false;
    await sleep(1000);
  }
}

async function make(log: (line: string) => void): Promise<Result<JupyterVenv>> {
  await rm(JUPYTER_VENV, { recursive: true, force: true });
  log(`making ${JUPYTER_VENV} with ${SYSTEM_PYTHON} -m venv`);
  const venv = await run(SYSTEM_PYTHON, ["-m", "venv", JUPYTER_VENV], 120_000);
  if (!venv.ok) {
    return failed([
      { message: `${SYSTEM_PYTHON} -m venv failed (install python3-venv: sudo apt-get install -y python3-venv):\n${tail(venv.output)}` },
    ]);
  }
  const python = pythonOf(JUPYTER_VENV);
  log(`pip install ${REQUIREMENTS.join(" ")} (once; later runs reuse the venv)`);
  // One retry, not pip's five with back-off: an index that cannot be reached (no network, only the
  // mirror) would otherwise cost minutes for each of the ~90 packages.
  const pip = await run(python, ["-m", "pip", "install", "--no-input", "--retries", "1", ...REQUIREMENTS], PIP_TIMEOUT_MS);
  if (!pip.ok) return failed([{ message: `pip could not install ${REQUIREMENTS.join(" ")} into ${JUPYTER_VENV}:\n${tail(pip.output)}` }]);
  const probe = await run(python, ["-c", "import notebook, jupyterlab; print(notebook.__version__, jupyterlab.__version__)"], 60_000);
  const [notebook = "", jupyterlab = ""] = probe.output.trim().split(/\s+/);
  if (!probe.ok || Number.parseInt(notebook) !== EXPECTED.notebook || Number.parseInt(jupyterlab) !== EXPECTED.jupyterlab) {
    return failed([
      {
        message:
          `pip installed notebook "${notebook}" and jupyterlab "${jupyterlab}"; the tests need Notebook ${EXPECTED.notebook} and JupyterLab ${EXPECTED.jupyterlab}:\n` +
          tail(probe.output),
      },
    ]);
  }
  await writeFile(MARKER, JSON.stringify({ requirements: REQUIREMENTS, notebook, jupyterlab }) + "\n");
  return ok({ python, notebook, jupyterlab });
}

/**
 * The venv, made first when it is missing or half made. Fails with pip's own words when pip cannot install.
 *
 * @example
 * const venv = await jupyterVenv(console.log);
 * if (venv.ok) spawn(venv.value.python, ["-m", "jupyterlab", "--no-browser"]);
 */
export async function jupyterVenv(log: (line: string) => void): Promise<Result<JupyterVenv>> {
  const found = await whole();
  if (found) return ok(found);
  if (!(await lock())) return failed([{ message: `${LOCK} is held by another run for too long; if none is running, delete it` }]);
  try {
    const madeMeanwhile = await whole();
    return madeMeanwhile ? ok(madeMeanwhile) : await make(log);
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}
