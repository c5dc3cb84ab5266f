/** One `npm run hub` per class: a live holder is named and refused; a killed one's lock is taken over. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
