/**
 * One `npm run hub` per class at a time. A second start of a running class would rewrite its
 * config and start a second JupyterHub, which stops the first one's proxy (it finds the proxy's
 * pid file and ends it): every learner of the live class loses their server. So the command
 * holds `hub.lock` (its pid) in the class's hub state while it runs; a lock whose process is
 * gone (a killed command) is taken over.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { failed, ok, type Result } from "./problem.js";

const LOCK_FILE = "hub.lock";

/** The pid in the lock, if that process still runs this command (a pid is reused once its process is gone). */
async function holder(lock: string): Promise<number | undefined> {
  const pid = Number((await readFile(lock, "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return command.includes("hub") ? pid : undefined;
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
      await writeFile(lock, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
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
