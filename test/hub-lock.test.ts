/** One `npm run hub` per class: a live holder is named and refused; a killed one's lock is taken over. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { lockHub } from "../src/engine/hub-lock.js";

test("the lock is refused while its holder runs, and taken over once it is gone", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-lock-"));
  const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)", "hub.mjs"], { stdio: "ignore" });
  try {
    const first = await lockHub(dir, "c1");
    assert.ok(first.ok);
    await first.value.release();

    await writeFile(path.join(dir, "hub.lock"), `${holder.pid}\n`);
    const refused = await lockHub(dir, "c1");
    assert.ok(!refused.ok);
    assert.match(
      refused.problems[0]?.message ?? "",
      new RegExp(`class c1 is running already \\(npm run hub, process ${holder.pid}\\): stop it with Ctrl-C`),
    );

    // the pid of a lock left by a killed command, now a learner's server's (a pid is reused): not the holder
    const server = spawn("/bin/sh", ["-c", "sleep 60", "jupyterhub-singleuser"], { stdio: "ignore" });
    try {
      await writeFile(path.join(dir, "hub.lock"), `${server.pid}\n`);
      const afterReuse = await lockHub(dir, "c1");
      assert.ok(afterReuse.ok, "a reused pid running something else does not hold the class");
      await afterReuse.value.release();
    } finally {
      server.kill("SIGKILL");
    }
    // the lock as the command writes it: its pid and its start time
    const written = await lockHub(dir, "c1");
    assert.ok(written.ok);
    assert.match(await readFile(path.join(dir, "hub.lock"), "utf8"), new RegExp(`^${process.pid} \\d+\n$`));
    await written.value.release();
    const stat = await readFile(`/proc/${holder.pid}/stat`, "utf8");
    const started = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    await writeFile(path.join(dir, "hub.lock"), `${holder.pid} ${started}\n`);
    assert.ok(!(await lockHub(dir, "c1")).ok, "the holder, pid and start time, is refused");
    await writeFile(path.join(dir, "hub.lock"), `${holder.pid} ${started - 1}\n`);
    const restarted = await lockHub(dir, "c1");
    assert.ok(restarted.ok, "a process that started after the lock was written, under its pid, is not its holder");
    await restarted.value.release();

    holder.kill("SIGKILL");
    await new Promise((resolve) => holder.once("exit", resolve));
    const taken = await lockHub(dir, "c1");
    assert.ok(taken.ok, "a killed command's lock is taken over");
    await taken.value.release();
  } finally {
    holder.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
