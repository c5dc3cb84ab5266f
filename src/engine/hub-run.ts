/**
 * Running JupyterHub as a child: start it on its config, wait until its REST API
 * answers, and stop it so that the proxy and every learner's server stop with it
 * (the hub's own cleanup first; then, by id, whatever a learner left running).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { HUB_STATE_FILES } from "./hub-config.js";
import { failed, ok, type Result } from "./problem.js";
import { keepStderrTail } from "./stderr-tail.js";
import { AccountBusy, endProcessesOf, processesOf, processNamedIn, type PasswdEntry } from "./unix-accounts.js";

/** Where Debian keeps the Node modules its packages need. */
const DEBIAN_NODE_MODULES = "/usr/share/nodejs";

export interface RunningHub {
  /** The URL learners open. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Stops the hub, the proxy and every learner's server; resolves when all are gone. */
  stop(): Promise<void>;
  /** Resolves with the hub's exit code when it ends by itself or is stopped. */
  readonly exited: Promise<number | null>;
}

export interface StartHub {
  readonly configFile: string;
  readonly stateDir: string;
  readonly ip: string;
  readonly port: number;
  /** The learners' accounts: after the hub stops, none of their processes may be left. */
  readonly accounts: readonly Pick<PasswdEntry, "user" | "uid" | "gid">[];
  readonly readyTimeoutMs?: number;
}

/** Sends `signal` to `pid`, which may have ended meanwhile. */
function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // it ended meanwhile
  }
}

/** Stops the class's proxy if it still runs: only if the pid it wrote is still the proxy. */
async function endProxy(stateDir: string): Promise<void> {
  const proxy = await processNamedIn(path.join(stateDir, "proxy.pid"), "configurable-http-proxy");
  if (proxy !== undefined) sendSignal(proxy, "SIGTERM");
}

/** The state file that says a hub of the class may have left processes behind (there from its start to its clean stop). */
const runningMarker = (stateDir: string): string => path.join(stateDir, HUB_STATE_FILES.running);

const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

/**
 * Ends what the class's last hub left, before a new one is set up: called with the class's lock
 * held, so no command of the class runs, and a JupyterHub of its config still running is one
 * whose command was killed (it is told to stop, but may still be stopping its servers). Then, if
 * that hub never stopped cleanly, every process of the learners: a learner's own process outlives
 * a killed command. Returns what it ended, for the instructor.
 */
export async function endLeftovers(stateDir: string, accounts: readonly PasswdEntry[]): Promise<string[]> {
  const said: string[] = [];
  const previous = await processNamedIn(path.join(stateDir, HUB_STATE_FILES.hubPid), path.join(stateDir, HUB_STATE_FILES.config));
  if (previous !== undefined) {
    for (const signal of ["SIGTERM", "SIGCONT"] as const) sendSignal(previous, signal); // SIGCONT: a stopped hub must act on it
    for (const end = Date.now() + 30_000; !gone(previous) && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
    if (!gone(previous)) sendSignal(previous, "SIGKILL");
    said.push(`stopped the JupyterHub (process ${previous}) that the class's killed command had left`);
  }
  await endProxy(stateDir);
  if (!existsSync(runningMarker(stateDir))) return said;
  const left = accounts.filter((e) => processesOf(e.uid).length > 0);
  for (const e of left) await endProcessesOf(e).catch((error: unknown) => said.push((error as Error).message));
  if (left.length) said.push(`ended what ${left.map((e) => e.user).join(", ")} left running when the class last ran`);
  await rm(runningMarker(stateDir), { force: true });
  return said;
}

/** Starts `jupyterhub -f CONFIG` in the state folder (its log goes to jupyterhub.log there) and waits for its API. */
export async function startHub(options: StartHub): Promise<Result<RunningHub>> {
  // until a clean stop: a kill -9 from here on may leave learners' processes for the next start to end
  await writeFile(runningMarker(options.stateDir), `${process.pid}\n`, { mode: 0o600 });
  const log = createWriteStream(path.join(options.stateDir, HUB_STATE_FILES.log), { flags: "a", mode: 0o600 });
  // its own process group: Ctrl-C reaches us, and we stop it in order
  // Debian's configurable-http-proxy finds its modules in /usr/share/nodejs only when Debian's own Node runs it
  const env = { ...process.env, NODE_PATH: [DEBIAN_NODE_MODULES, process.env["NODE_PATH"]].filter(Boolean).join(path.delimiter) };
  // and it gets SIGTERM when this process ends, however it ends (kill -9 too): it then stops the
  // proxy and the servers itself, instead of running on with no command to stop it
  const child = spawn("/usr/bin/setpriv", ["--pdeathsig", "SIGTERM", "--", "jupyterhub", "-f", options.configFile], {
    cwd: options.stateDir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const said = keepStderrTail(child.stderr); // JupyterHub logs to stderr: why it could not start, for the message
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const host = options.ip === "0.0.0.0" ? "127.0.0.1" : options.ip;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${options.port}/`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const late = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(late);
    }
    // one learner's stubborn process must not keep the proxy and the others running: report it last
    const left: string[] = [];
    for (const account of options.accounts) {
      try {
        await endProcessesOf(account);
      } catch (error) {
        left.push((error as Error).message);
      }
    }
    await endProxy(options.stateDir); // if the hub was killed before it could stop it
    // a server the hub could not stop would hold its output pipes, and this process, open
    child.stdout?.destroy();
    child.stderr?.destroy();
    log.end();
    if (left.length) throw new AccountBusy(left.join("\n"));
    await rm(runningMarker(options.stateDir), { force: true }); // stopped cleanly: nothing is left
  };
  // not started: whatever it did start is stopped, and the set-up stays for the next try
  const notStarted = async (why: string): Promise<Result<RunningHub>> => {
    await stop().catch(() => undefined); // a learner's process that will not end is the next start's to end
    const tail = said.lines(5).map((line) => `  ${line}`);
    return failed([
      {
        file: path.join(options.stateDir, HUB_STATE_FILES.log),
        message: `${why}. The end of its log:\n${tail.join("\n") || "  (empty)"}\nFix what it says, then run the same command again: the accounts and the set-up are kept.`,
      },
    ]);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) return notStarted(`JupyterHub stopped with code ${child.exitCode} before it answered`);
    const up = await fetch(new URL("hub/api/", url)).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return ok({ url, child, stop, exited });
    if (Date.now() > deadline)
      return notStarted(`JupyterHub did not answer at ${url} within ${(options.readyTimeoutMs ?? 60_000) / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
