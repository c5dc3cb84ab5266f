/** One `npm run hub` per class: a live holder is named and refused; a killed one's lock is free; two starts never both hold it. */
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { hubLockFile, hubRunning, lockHub } from "../src/engine/hub-lock.js";
import type { Result } from "../src/engine/problem.js";
import { projectRoot } from "../src/engine/paths.js";

/** A start in a process of its own that takes the class's lock in `dir` and holds it until told; resolves once it has tried. */
async function start(dir: string): Promise<{ said: string; process: ChildProcessWithoutNullStreams }> {
  const script = path.join(projectRoot, "test", "fixtures", "hub", "take-lock.mjs");
  const module = pathToFileURL(path.join(projectRoot, "dist", "src", "engine", "hub-lock.js")).href;
  const child = spawn(process.execPath, [script, module, dir, "c1", String(Date.now()), "hub.mjs"]);
  const said = await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())));
  return { said, process: child };
}

test("the lock is refused while its holder runs, named by its pid, and free once the holder is gone, even killed", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-lock-"));
  const holders: ChildProcessWithoutNullStreams[] = [];
  try {
    const mine = await lockHub(dir, "c1");
    assert.ok(mine.ok);
    const second = await start(dir);
    holders.push(second.process);
    assert.equal(second.said, "refused", "a second start while the first holds the class");
    second.process.stdin.end();
    await mine.value.release();

    const holder = await start(dir);
    holders.push(holder.process);
    assert.equal(holder.said, "took");
    const refused = await lockHub(dir, "c1");
    assert.ok(!refused.ok);
    assert.match(
      refused.problems[0]?.message ?? "",
      new RegExp(`class c1 is running already \\(npm run hub, process ${holder.process.pid}\\): stop it with Ctrl-C`),
    );
    assert.ok(await hubRunning(dir, "c1"), "a start checks before the port");

    holder.process.kill("SIGKILL"); // no release: the system ends the lock with the process
    await new Promise((resolve) => holder.process.once("exit", resolve));
    const taken = await waitFor(() => lockHub(dir, "c1"));
    assert.ok(taken.ok, "a killed command's lock is free");
    await taken.value.release();
    assert.equal(await hubRunning(dir, "c1"), undefined);
  } finally {
    for (const child of holders) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

test("a lock file that names a live process which holds no lock (its pid reused, say) does not hold the class", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-lock-"));
  const server = spawn("/bin/sh", ["-c", "sleep 60", "hub.mjs"], { stdio: "ignore" });
  try {
    await writeFile(hubLockFile(dir, "c1"), `${server.pid}\n`);
    assert.equal(await hubRunning(dir, "c1"), undefined);
    const taken = await lockHub(dir, "c1");
    assert.ok(taken.ok);
    assert.equal(await readFile(hubLockFile(dir, "c1"), "utf8"), `${process.pid}\n`, "the file names the holder");
    await taken.value.release();
  } finally {
    server.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

test("asking whether a class runs makes nothing", async () => {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), "rollcall-lock-")), "NAME-hub");
  assert.equal(await hubRunning(dir, "c1"), undefined);
  assert.equal(existsSync(dir), false);
  await rm(path.dirname(dir), { recursive: true, force: true });
});

/** What `attempt` gives once it is ok, tried for up to 5 s: the holder's `cat` ends a moment after the command it served. */
async function waitFor<T>(attempt: () => Promise<Result<T>>): Promise<Result<T>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const result = await attempt();
    if (result.ok || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Two starts, in processes of their own, that take the lock at the same moment: what each said, and what the lock holds then. */
async function race(dir: string): Promise<{ said: string[]; pids: number[]; held: string }> {
  const moment = Date.now() + 150;
  const script = path.join(projectRoot, "test", "fixtures", "hub", "take-lock.mjs");
  const module = pathToFileURL(path.join(projectRoot, "dist", "src", "engine", "hub-lock.js")).href;
  const starts = [0, 1].map(() =>
    spawn(process.execPath, [script, module, dir, "c1", String(moment), "hub.mjs"], { stdio: ["pipe", "pipe", "inherit"] }),
  );
  try {
    const said = await Promise.all(
      starts.map((s) => new Promise<string>((resolve) => s.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())))),
    );
    const held = await readFile(hubLockFile(dir, "c1"), "utf8").catch(() => "");
    return { said, pids: starts.map((s) => s.pid ?? 0), held };
  } finally {
    await Promise.all(starts.map((s) => new Promise((resolve) => (s.once("exit", resolve), s.stdin.end()))));
  }
}

test(
  "two starts at the same moment after a killed command's lock: exactly one holds the class, and its lock stays",
  { timeout: 120_000 },
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-lock-"));
    const dead = spawn(process.execPath, ["-e", "", "hub.mjs"], { stdio: "ignore" });
    await new Promise((resolve) => dead.once("exit", resolve));
    try {
      const wrong: string[] = [];
      for (let round = 0; round < 40; round++) {
        await writeFile(hubLockFile(dir, "c1"), `${dead.pid}\n`); // left by a killed command
        const { said, pids, held } = await race(dir);
        const took = pids.filter((_, i) => said[i] === "took");
        if (took.length !== 1 || held !== `${took[0]}\n`) wrong.push(`round ${round}: ${said.join("/")}, the lock holds "${held.trim()}"`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
