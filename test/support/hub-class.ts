/**
 * A throwaway class on a real hub for the tests and the bench: a class file with
 * learners in a private folder, `npm run hub` started on it as a child, and a
 * teardown that stops it and removes the accounts (marked ones only) even when a
 * test failed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openClass } from "../../src/engine/class-file.js";
import { dropFolderOf } from "../../src/engine/exchange.js";
import { HUB_STATE_FILES } from "../../src/engine/hub-config.js";
import { hubStateDir, loginsFile, removeHub } from "../../src/engine/hub-setup.js";
import { freePort } from "../../src/engine/free-ports.js";
import { projectRoot } from "../../src/engine/paths.js";
import { markedAccounts, type PasswdEntry } from "../../src/engine/unix-accounts.js";

export interface HubClass {
  readonly className: string;
  readonly classesDir: string;
  readonly stateDir: string;
  readonly loginsFile: string;
  /** Makes the class file with these learners. */
  addLearners(learners: readonly { name: string; email: string }[]): Promise<void>;
  /**
   * Runs `npm run hub` on the class (with `extra` options, e.g. `--pulse URL`) and resolves once it printed its URL,
   * or once its output matches `until` (then the hub may not be up yet).
   */
  start(extra?: readonly string[], until?: RegExp): Promise<{ url: string; token: string; output: () => string }>;
  /** The class's accounts, as /etc/passwd has them. */
  accounts(): PasswdEntry[];
  /** Sends Ctrl-C (SIGINT, or `signal`) to the hub command; resolves with its exit code. */
  interrupt(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops whatever runs and removes the accounts, the homes and the folder. */
  dispose(): Promise<void>;
}

/** A class with a name no other run uses. */
export async function hubClass(tag: string): Promise<HubClass> {
  const className = `${tag}${process.pid}${Date.now() % 100_000}`;
  const classesDir = await mkdtemp(path.join(os.tmpdir(), "rollcall-hub-"));
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let output = "";
  const self: HubClass = {
    className,
    classesDir,
    stateDir: hubStateDir(classesDir, className),
    loginsFile: loginsFile(classesDir, className),
    async addLearners(learners) {
      const opened = await openClass(className, { dir: classesDir, create: true });
      if (!opened.ok) throw new Error(JSON.stringify(opened.problems));
      const done = opened.value.importRoster(
        learners.map((l, i) => ({ ...l, line: i + 2 })),
        "roster.csv",
      );
      opened.value.close();
      if (!done.ok) throw new Error(JSON.stringify(done.problems));
    },
    async start(extra = [], until = / is on http/) {
      const port = await freePort();
      const script = path.join(projectRoot, "dist", "scripts", "hub.mjs");
      output = "";
      const started = spawn(process.execPath, [script, "--class", className, "--classes", classesDir, "--port", String(port), ...extra], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      exited = new Promise((resolve) => started.once("exit", (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const seen = (chunk: Buffer): void => {
          output += chunk.toString();
          if (until.test(output)) resolve();
        };
        started.stdout?.on("data", seen);
        started.stderr?.on("data", seen);
        void exited?.then((code) => reject(new Error(`npm run hub exited (${code}) before it was up:\n${output}`)));
      });
      const token = (await readFile(path.join(self.stateDir, HUB_STATE_FILES.apiToken), "utf8")).trim();
      return { url: `http://127.0.0.1:${port}/`, token, output: () => output };
    },
    accounts: () => markedAccounts(className),
    async interrupt(signal = "SIGINT") {
      if (!child || child.exitCode !== null) return child?.exitCode ?? null;
      child.kill(signal);
      return exited ?? null;
    },
    async dispose() {
      await self.interrupt().catch(() => undefined);
      await removeHub(classesDir, className);
      await rm(classesDir, { recursive: true, force: true });
      await rm(path.dirname(dropFolderOf(className)), { recursive: true, force: true });
    },
  };
  return self;
}
