#!/usr/bin/env node
/**
 * npm start                          open the course in Jupyter Notebook (installs Jupyter if it can)
 * npm start -- --no-browser          print the URL, do not open a browser
 * npm start -- --port 8890 --ip 0.0.0.0
 * npm start -- --user-kernel         install the TypeScript kernel for VS Code / your own Jupyter, then exit
 * npm start -- --pulse URL --token TOKEN   turn the class pulse on (writes ~/.rollcall-pulse.json), then open the course
 *
 * Jupyter's own output goes to .jupyter/notebook.log and, dimmed, to stderr; the
 * lines starting "rollcall:" on stdout are the ones that matter.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { $, chalk } from "zx";
import { installMissing, isDebianLike, START_PACKAGES } from "../src/engine/debian-packages.js";
import {
  findJupyter,
  installKitKernel,
  jupyterEnv,
  trustNotebooks,
  userJupyterDataDir,
  type JupyterFound,
} from "../src/engine/jupyter-setup.js";
import { lessonIds } from "../src/engine/lesson-files.js";
import { jupyterDataDir, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { PULSE_SETTINGS_FILE, pulseSettings, pulseSettingsText } from "../src/pulse.js";
import { runMain } from "./run-main.mjs";

/** How long Jupyter gets to shut its kernels down after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;
/** When to repeat the SIGTERM, in case the first came too early for Jupyter to handle. */
const RETERM_MS = 1000;
/** How many of Jupyter's last output lines to show when it stops on its own. */
const TAIL_LINES = 15;
const URL_PATTERN = /https?:\/\/[^\s"'<>]+\?token=[0-9a-zA-Z]+/;

function say(message: string): void {
  console.log(`rollcall: ${message}`);
}

function fail(message: string): number {
  console.error(chalk.red(`rollcall: ${message}`));
  return 1;
}

type Options = { browser: boolean; port: number; ip: string; userKernel: boolean; pulse?: string; token?: string };

function readOptions(): Options | string {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        "no-browser": { type: "boolean", default: false },
        port: { type: "string", default: "8888" },
        ip: { type: "string", default: "127.0.0.1" },
        "user-kernel": { type: "boolean", default: false },
        pulse: { type: "string" },
        token: { type: "string" },
      },
    });
  } catch (error) {
    return `${(error as Error).message}\nusage: npm start -- [--no-browser] [--port N] [--ip ADDRESS] [--user-kernel] [--pulse URL --token TOKEN]`;
  }
  const { values } = parsed;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `--port must be a whole number from 1 to 65535, not "${values.port}"`;
  if ((values.pulse === undefined) !== (values.token === undefined))
    return "--pulse URL and --token TOKEN go together: your instructor gives you both";
  return {
    browser: !values["no-browser"],
    port,
    ip: values.ip,
    userKernel: values["user-kernel"],
    ...(values.pulse !== undefined && values.token !== undefined ? { pulse: values.pulse, token: values.token } : {}),
  };
}

/** Runs a command with its output streamed to the terminal; true when it succeeded. */
async function runLoud(command: string, args: string[]): Promise<boolean> {
  console.log(chalk.dim(`$ ${[command, ...args].join(" ")}`));
  const result = await $({ stdio: "inherit", nothrow: true })`${command} ${args}`;
  return result.exitCode === 0;
}

/** Finds Jupyter, installing it first with apt (as root) or pip (--user) when it is missing. */
async function findOrInstallJupyter(): Promise<JupyterFound> {
  const found = await findJupyter();
  if (found.ok) return found;
  if (isDebianLike()) {
    // As root, apt-get installs it; otherwise the message says which command to run.
    const installed = installMissing(START_PACKAGES, say);
    return installed.ok ? findJupyter() : installed;
  }
  const pip = await $({ nothrow: true, quiet: true })`python3 -m pip --version`;
  if (pip.exitCode === 0) {
    say("Jupyter Notebook is missing; installing it with pip (--user)");
    if (await runLoud("python3", ["-m", "pip", "install", "--user", "notebook", "nbclient"])) return findJupyter();
  }
  return found;
}

/** The kit's kernel into a Jupyter data folder, saying why it starts without its snapshot if it must. */
async function installKernel(dataDir: string): Promise<string> {
  const { folder, problems } = await installKitKernel(dataDir, projectRoot);
  if (problems.length) say(chalk.yellow(problems.map(formatProblem).join("\n")));
  return folder;
}

async function installUserKernel(python: string): Promise<number> {
  const dataDir = await userJupyterDataDir(python);
  if (!dataDir) return fail(`could not ask ${python} -m jupyter --data-dir where your Jupyter keeps its kernels`);
  const folder = await installKernel(dataDir);
  say(`installed the "TypeScript (rollcall)" kernel (name: tslab) in ${folder}`);
  say("pick it in VS Code (Select Kernel → Jupyter Kernel…), JupyterLab or any Jupyter you start yourself");
  return 0;
}

/** Sends a signal to Jupyter's whole process group (it was started detached, as its leader). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function adviceForJupyterLog(output: string, options: Options): string {
  if (/address already in use|errno 98|no available port|ports? .*(in use|unavailable)/i.test(output)) {
    return `the port is taken: try another one, e.g. npm start -- --port ${options.port === 8890 ? 8891 : 8890}`;
  }
  if (/cannot assign requested address|errno 99/i.test(output)) {
    return `--ip ${options.ip} is not an address of this machine: try npm start -- --ip 127.0.0.1`;
  }
  return `see ${path.relative(process.cwd(), path.join(jupyterDataDir, "notebook.log")) || "notebook.log"} for Jupyter's whole output`;
}

async function openCourse(python: string, options: Options): Promise<number> {
  await installKernel(jupyterDataDir);
  await mkdir(jupyterDataDir, { recursive: true });
  const course = [...(await lessonIds()), "glossary"].map((id) => path.join(notebooksDir, `${id}.ipynb`)).filter((f) => existsSync(f));
  const untrusted = await trustNotebooks(python, jupyterDataDir, course);
  if (untrusted)
    say(
      chalk.yellow(`the notebooks could not be marked trusted (${untrusted}); Jupyter will label them "Not Trusted", nothing else changes`),
    );
  const log = createWriteStream(path.join(jupyterDataDir, "notebook.log"), { flags: "a" });
  log.write(`\n--- ${new Date().toISOString()} npm start\n`);

  const args = [
    "-m",
    "notebook",
    `--notebook-dir=${notebooksDir}`,
    `--ip=${options.ip}`,
    `--port=${options.port}`,
    // Checkpoints ("Revert to checkpoint") in .jupyter/, so notebooks/ holds only the lessons.
    `--FileCheckpoints.checkpoint_dir=${path.join(jupyterDataDir, "checkpoints")}`,
  ];
  if (!options.browser) args.push("--no-browser");
  if (process.getuid?.() === 0) args.push("--allow-root");

  const jupyter = spawn(python, args, {
    cwd: notebooksDir,
    env: jupyterEnv(jupyterDataDir),
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a Ctrl-C in the terminal reaches only us, and Jupyter
    // never asks "Shutdown this notebook server (y/[n])?".
    detached: true,
  });

  const tail: string[] = [];
  let url: string | undefined;
  const reader = (): ((chunk: Buffer) => void) => {
    let partial = "";
    return (chunk) => {
      const text = chunk.toString("utf8");
      log.write(text);
      process.stderr.write(chalk.dim(text));
      // Whole lines only: a chunk may end in the middle of the URL.
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        const match = url ? null : URL_PATTERN.exec(line);
        if (match) {
          url = match[0];
          say(`the course is open at ${url}  (Ctrl-C stops it)`);
        }
      }
    };
  };
  jupyter.stdout.on("data", reader());
  jupyter.stderr.on("data", reader());

  let stopping = false;
  // If this process dies for any other reason, Jupyter must not outlive it.
  const killOnExit = (): void => signalGroup(jupyter, "SIGTERM");
  process.on("exit", killOnExit);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    jupyter.once("error", (error) => resolve({ code: null, signal: null, error }));
    jupyter.once("exit", (code, signal) => resolve({ code, signal }));
  });

  const stop = (): void => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer.
      signalGroup(jupyter, "SIGKILL");
      return;
    }
    stopping = true;
    signalGroup(jupyter, "SIGTERM");
    // Notebook 6 ignores a SIGTERM that lands in the moment before its event loop
    // exists (just after it prints the URL); asking again once is harmless.
    setTimeout(() => signalGroup(jupyter, "SIGTERM"), RETERM_MS).unref();
    setTimeout(() => signalGroup(jupyter, "SIGKILL"), STOP_GRACE_MS).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const result = await exited;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  process.off("exit", killOnExit);
  await new Promise<void>((resolve) => log.end(resolve));

  if (result.error) return fail(`could not start ${python} -m notebook: ${result.error.message}`);
  if (stopping || result.code === 0) {
    say("stopped");
    return 0;
  }
  const how = result.code !== null ? `with exit code ${result.code}` : `on signal ${result.signal}`;
  const lines = tail.map((line) => `  ${line}`).join("\n");
  return fail(
    `Jupyter stopped ${how}${url ? "" : " before it was ready"}. Its last lines:\n${lines}\n` +
      `rollcall: ${adviceForJupyterLog(tail.join("\n"), options)}`,
  );
}

async function main(): Promise<number> {
  const options = readOptions();
  if (typeof options === "string") return fail(options);
  if (options.pulse !== undefined && options.token !== undefined) {
    const settings = pulseSettings({ ROLLCALL_PULSE_URL: options.pulse, ROLLCALL_PULSE_TOKEN: options.token }, []);
    if (!settings) return fail("--pulse must be an http:// URL and --token the token your instructor gave you");
    const file = path.join(os.homedir(), PULSE_SETTINGS_FILE);
    writeFileSync(file, pulseSettingsText(settings), { mode: 0o600 });
    say(`the class pulse is on (${file}): each check shares your name, the exercise, how many checks passed and when`);
  }
  const found = await findOrInstallJupyter();
  if (!found.ok) return fail(found.problems.map(formatProblem).join("\n"));
  const { python, version } = found.value;
  if (options.userKernel) return installUserKernel(python);
  say(`Jupyter Notebook ${version} (${python}), kernel "TypeScript (rollcall)" from .jupyter/`);
  return openCourse(python, options);
}

runMain("start", main);
