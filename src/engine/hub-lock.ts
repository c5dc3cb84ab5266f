/**
 * One `npm run hub` per class at a time. A second start of a running class would rewrite its
 * config and start a second JupyterHub, which stops the first one's proxy (it finds the proxy's
 * pid file and ends it): every learner of the live class loses their server.
 *
 * So the command holds the system's lock (flock) on `classes/NAME-hub.lock` while it runs, on a
 * file it keeps open: the lock ends when the file is closed, which the system does when the
 * process ends, however it ends (a kill -9 too), and no other process holds it. Nothing is
 * judged stale, so two starts that find a killed command's lock cannot both take it, and a
 * reused pid never holds a class. The file is beside the hub's state, not in it, because
 * `--remove` deletes the state while it holds the lock. The file names its holder's pid, for
 * the message only.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { HUB_STATE_FILES } from "./hub-config.js";
import { failed, ok, type Problem, type Result } from "./problem.js";
import { processNamedIn, uidsOf } from "./unix-accounts.js";

const FLOCK = "/usr/bin/flock";
/** flock's exit code when another holds the lock. */
const BUSY = 75;

/** The class's lock file, in the classes folder (root's, 0700 once a hub has been set up). */
export const hubLockFile = (classesDir: string, className: string): string => path.join(classesDir, `${className}-hub.lock`);

/** The pid written into the lock file, if that process runs `npm run hub` (a pid is reused: never name another). */
const holderPid = (lock: string): Promise<number | undefined> => processNamedIn(lock, "hub.mjs");

const runningAlready = (className: string, pid: number | undefined): Problem => {
  const which = pid === undefined ? "" : `, process ${pid}`;
  const kill = pid === undefined ? "" : ` (or kill ${pid})`;
  return {
    message: `class ${className} is running already (npm run hub${which}): stop it with Ctrl-C where it runs${kill} before you start or remove it again; --hand-out works while it runs`,
  };
};

/**
 * Whether someone holds the lock on `lock`, read from /proc/locks (a line per lock: its kind,
 * the holder's pid, and the file as major:minor:inode, the device numbers in hex): asking takes
 * nothing. Where the system names the device otherwise (btrfs subvolumes), a held lock is not
 * seen here, and `lockHub` still refuses.
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

/**
 * The classes folder of a JupyterHub of this class that runs from another folder than
 * `classesDir` (its `-f DIR/NAME-hub/jupyterhub_config.py`, in a process whose every uid is
 * root's: a learner's look-alike must not stop the instructor's start or --remove), with its
 * pid. The lock is per classes folder, but the class's accounts are the machine's: a
 * `--remove` given the wrong folder (or none, where `sudo` dropped ROLLCALL_CLASSES) would
 * remove a live class's learners.
 */
async function runningFromElsewhere(classesDir: string, className: string): Promise<{ dir: string; pid: number } | undefined> {
  const config = path.join(`${className}-hub`, HUB_STATE_FILES.config);
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    // a class's JupyterHub is root's through and through (npm run hub runs as root): anyone may start a
    // process with such a command line, and one of a setuid program (su at its password prompt) is
    // owned by root in /proc, but its real uid is still its user's
    if (!(await uidsOf(entry))?.every((uid) => uid === 0)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0");
    const flag = argv.indexOf("-f");
    const file = flag < 0 ? undefined : argv[flag + 1];
    if (!file?.endsWith(`/${config}`) || !argv.some((a) => path.basename(a) === "jupyterhub")) continue;
    const dir = path.dirname(path.dirname(file));
    if (path.resolve(dir) !== path.resolve(classesDir)) return { dir, pid: Number(entry) };
  }
  return undefined;
}

/** Why the class runs from another classes folder than `classesDir`, or undefined; takes nothing. */
export async function hubRunningElsewhere(classesDir: string, className: string): Promise<Problem | undefined> {
  const elsewhere = await runningFromElsewhere(classesDir, className);
  if (!elsewhere) return undefined;
  return {
    message: `class ${className} is running from the classes folder ${elsewhere.dir} (its JupyterHub is process ${elsewhere.pid}), not ${classesDir}: stop it with Ctrl-C where it runs, and give that folder with --classes ${elsewhere.dir} (sudo leaves ROLLCALL_CLASSES out of the environment)`,
  };
}

/** Why the class cannot start because its hub runs already (here or from another classes folder), or undefined; takes nothing, makes nothing. */
export async function hubRunning(classesDir: string, className: string): Promise<Problem | undefined> {
  const lock = hubLockFile(classesDir, className);
  if (await isLocked(lock)) return runningAlready(className, await holderPid(lock));
  return hubRunningElsewhere(classesDir, className);
}

/** flock(1) on the open file `file` (handed to it as its fd 3): the lock is then the open file's, not flock's. */
function flockOn(file: FileHandle): Promise<{ held: true } | { busy: true } | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(FLOCK, ["--nonblock", "--conflict-exit-code", String(BUSY), "3"], { stdio: ["ignore", "ignore", "pipe", file.fd] });
    let said = "";
    child.stderr?.on("data", (d: Buffer) => (said += d.toString()));
    child.once("error", (error) => resolve({ error: error.message }));
    child.once("close", (code) =>
      resolve(
        code === 0 ? { held: true } : code === BUSY ? { busy: true } : { error: said.trim() || `flock exited with code ${String(code)}` },
      ),
    );
  });
}

/** The open lock files: kept from the garbage collector, which would close them, and their locks with them. */
const held = new Set<FileHandle>();

export interface HubLock {
  /** Ends the hold; with `removeFile` (after --remove) the lock file goes too. */
  release(removeFile?: boolean): Promise<void>;
}

/** Whether `lock` still names the file `file` is: a start that opened it before `--remove` deleted it holds nothing. */
async function stillThere(lock: string, file: FileHandle): Promise<boolean> {
  const [named, opened] = await Promise.all([stat(lock).catch(() => undefined), file.stat()]);
  return named !== undefined && named.ino === opened.ino && named.dev === opened.dev;
}

/** Takes the class's lock, or says which process holds it and how to stop it. */
export async function lockHub(classesDir: string, className: string): Promise<Result<HubLock>> {
  await mkdir(classesDir, { recursive: true, mode: 0o700 });
  const lock = hubLockFile(classesDir, className);
  for (;;) {
    // not truncated on opening: the holder's pid stays readable until this start holds the lock;
    // and never through a link, whoever could have made one
    const file = await open(lock, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
    const tried = await flockOn(file);
    if (!("held" in tried)) {
      await file.close();
      if ("busy" in tried) return failed([runningAlready(className, await holderPid(lock))]);
      return failed([{ message: `could not lock ${lock} (${tried.error}): is util-linux's flock there (apt-get install util-linux)?` }]);
    }
    if (!(await stillThere(lock, file))) {
      await file.close(); // deleted by the --remove that held it: the next file is the lock now
      continue;
    }
    await file.truncate(0);
    await file.write(`${process.pid}\n`);
    held.add(file);
    return ok({
      release: async (removeFile = false) => {
        if (removeFile) await rm(lock, { force: true }); // while held: a start that opened it finds it gone
        held.delete(file);
        await file.close();
      },
    });
  }
}
