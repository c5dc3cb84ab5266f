/**
 * One `npm run hub` per class at a time. A second start of a running class would rewrite its
 * config and start a second JupyterHub, which stops the first one's proxy (it finds the proxy's
 * pid file and ends it): every learner of the live class loses their server. So the command
 * holds `hub.lock` (its pid and start time) in the class's hub state while it runs; a lock whose process is
 * gone (a killed command) is taken over.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { failed, ok, type Result } from "./problem.js";

const LOCK_FILE = "hub.lock";

/** When a process started (clock ticks since boot, /proc/PID/stat's 22nd field): with its pid, it names one process for good. */
async function startOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // the command's name (2nd field) may hold spaces and parentheses: count from the last ")"
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/**
 * The pid in the lock, if that very process still runs `npm run hub`: a pid is reused once its
 * process is gone (a learner's jupyterhub-singleuser may get it), so the lock holds the
 * process's start time too, and the command line must be the hub command's.
 */
async function holder(lock: string): Promise<number | undefined> {
  const [pidText = "", started] = (await readFile(lock, "utf8").catch(() => "")).trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  if (started !== undefined && started !== (await startOf(pid))) return undefined;
  const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return command.includes("hub.mjs") ? pid : undefined;
}

export interface HubLock {
  release(): Promise<void>;
}

/** Takes the class's lock, or says which process holds it and how to stop it. */
export async function lockHub(stateDir: string, className: string): Promise<Result<HubLock>> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const lock = path.join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, `${process.pid} ${(await startOf(process.pid)) ?? ""}`.trim() + "\n", { flag: "wx", mode: 0o600 });
      return ok({ release: () => rm(lock, { force: true }) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = await holder(lock);
    if (pid !== undefined)
      return failed([
        {
          message: `class ${className} is running already (npm run hub, process ${pid}): stop it with Ctrl-C where it runs (or kill ${pid}) before you start or remove it again; --hand-out works while it runs`,
        },
      ]);
    await rm(lock, { force: true }); // left by a command that was killed
  }
  return failed([{ message: `could not take ${lock}: another npm run hub of class ${className} is starting; try again` }]);
}
