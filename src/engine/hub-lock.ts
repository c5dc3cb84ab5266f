/**
 * One `npm run hub` per class at a time. A second start of a running class would rewrite its
 * config and start a second JupyterHub, which stops the first one's proxy (it finds the proxy's
 * pid file and ends it): every learner of the live class loses their server.
 *
 * So the command holds a lock on `hub.lock` in the class's hub state while it runs: the
 * system's own (flock), held by a child, `flock … cat`, that lives until its standard input
 * closes, which happens when this process ends, however it ends (a kill -9 too). Nothing is
 * judged stale, so two starts that find a killed command's lock cannot both take it, and a
 * reused pid never holds a class. The file names its holder's pid, for the message only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { failed, ok, type Problem, type Result } from "./problem.js";

const LOCK_FILE = "hub.lock";
const FLOCK = "/usr/bin/flock";
/** What the holder says once it has the lock; flock exits with BUSY when another holds it. */
const HELD = "held";
const BUSY = 75;

const runningAlready = (className: string, pid: number | undefined): Problem => {
  const which = pid === undefined ? "" : `, process ${pid}`;
  const kill = pid === undefined ? "" : ` (or kill ${pid})`;
  return {
    message: `class ${className} is running already (npm run hub${which}): stop it with Ctrl-C where it runs${kill} before you start or remove it again; --hand-out works while it runs`,
  };
};

/** The pid the holder wrote into the lock file, if it wrote one. */
async function writtenPid(lock: string): Promise<number | undefined> {
  const pid = Number((await readFile(lock, "utf8").catch(() => "")).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The child that holds the lock, once it has it, or why it could not. */
function holdLock(lock: string): Promise<{ held: ChildProcess } | { busy: true } | { error: string }> {
  return new Promise((resolve) => {
    // a session of its own: a Ctrl-C at the terminal goes to the command's process group, and
    // must not end the lock before the class has stopped
    const child = spawn(FLOCK, ["--nonblock", "--conflict-exit-code", String(BUSY), lock, "/bin/sh", "-c", `echo ${HELD}; exec cat`], {
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let said = "";
    let errors = "";
    child.stderr.on("data", (d: Buffer) => (errors += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      said += d.toString();
      if (said.startsWith(HELD)) resolve({ held: child });
    });
    child.once("error", (error) => resolve({ error: error.message }));
    child.once("exit", (code) =>
      resolve(code === BUSY ? { busy: true } : { error: errors.trim() || `flock exited with code ${String(code)}` }),
    );
  });
}

/**
 * Whether someone holds the lock on `lock`, read from /proc/locks (a line per lock: its kind,
 * the holder's pid, and the file as major:minor:inode, the device numbers in hex): asking takes nothing.
 */
async function isLocked(lock: string): Promise<boolean> {
  const file = await stat(lock).catch(() => undefined);
  if (!file) return false;
  const major = (file.dev >> 8) & 0xfff;
  const minor = (file.dev & 0xff) | ((file.dev >> 12) & 0xfff00);
  const id = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${file.ino}`;
  const locks = await readFile("/proc/locks", "utf8").catch(() => "");
  return locks.split("\n").some((line) => /\bFLOCK\b/.test(line) && line.split(/\s+/).includes(id));
}

/** Why the class cannot start because its hub runs already, or undefined; takes nothing, makes nothing. */
export async function hubRunning(stateDir: string, className: string): Promise<Problem | undefined> {
  const lock = path.join(stateDir, LOCK_FILE);
  return (await isLocked(lock)) ? runningAlready(className, await writtenPid(lock)) : undefined;
}

function release(holder: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (holder.exitCode !== null || holder.signalCode !== null) return resolve();
    holder.once("exit", () => resolve());
    holder.ref(); // waited for now: a holder of lockHub's is unref'd
    holder.stdin?.end();
  });
}

export interface HubLock {
  release(): Promise<void>;
}

/** Takes the class's lock, or says which process holds it and how to stop it. */
export async function lockHub(stateDir: string, className: string): Promise<Result<HubLock>> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const lock = path.join(stateDir, LOCK_FILE);
  const tried = await holdLock(lock);
  if ("busy" in tried) return failed([runningAlready(className, await writtenPid(lock))]);
  if ("error" in tried)
    return failed([{ message: `could not lock ${lock} (${tried.error}): is util-linux's flock installed (apt-get install util-linux)?` }]);
  const holder = tried.held;
  // the holder's stdout is done with; its stdin stays open as long as this process lives
  holder.stdout?.destroy();
  holder.stderr?.destroy();
  holder.unref();
  (holder.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  await writeFile(lock, `${process.pid}\n`, { mode: 0o600 });
  return ok({ release: () => release(holder) });
}
