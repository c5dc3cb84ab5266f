/**
 * `npm run pulse` killed with SIGKILL under load from 30 learners' notebooks, then
 * started again: every post it acknowledged is on disk, and the posts the learners'
 * queues still held arrive once it is back; none is stored twice.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { listClasses, openClass } from "../src/engine/class-file.js";
import { projectRoot } from "../src/engine/paths.js";
import { openPulseStore, pulseFileFor } from "../src/engine/pulse-store.js";
import { parseRoster } from "../src/engine/roster-csv.js";
import { flushPulseQueue, sharePulse } from "../src/pulse.js";
import { freePort } from "../src/engine/free-ports.js";

const PULSE = path.join(projectRoot, "dist", "scripts", "pulse.mjs");
const LEARNERS = 30;
const EXERCISES = ["last-student", "enroll", "withdraw", "starting-with", "cohort-emails"];

function serve(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [PULSE, "--class", "p3", "--classes", dir, "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      if (/dashboard: http/.test(output)) resolve(child);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm run pulse exited (${code}) before it was ready:\n${output}`)));
  });
}

test("kill -9 under load: what was acknowledged is there, and the learners' queues deliver the rest", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-pulse-crash-"));
  let child: ChildProcess | undefined;
  try {
    const roster = parseRoster(
      ["name,email", ...Array.from({ length: LEARNERS }, (_, i) => `Learner ${i},learner${i}@example.org`)].join("\n"),
      "roster.csv",
    );
    assert.ok(roster.ok);
    const opened = await openClass("p3", { dir, create: true });
    assert.ok(opened.ok);
    opened.value.importRoster(roster.value, "roster.csv");
    const onRoster = opened.value.learners();
    opened.value.close();
    const store = openPulseStore(pulseFileFor(dir, "p3"));
    const learners = store.issueLearnerTokens(onRoster).map(({ token }, i) => ({ token, queue: path.join(dir, `queue-${i}`) }));
    store.close();
    assert.deepEqual(listClasses(dir), ["p3"], "the pulse's file is not taken for a class");

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = await serve(dir, port);
    const enqueued = new Map<string, string>(); // id → its queue file
    let running = true;
    const learnerLoop = async (learner: { token: string; queue: string }, i: number): Promise<void> => {
      const env = {
        ROLLCALL_PULSE_URL: url,
        ROLLCALL_PULSE_TOKEN: learner.token,
        ROLLCALL_PULSE_QUEUE: learner.queue,
        ROLLCALL_PULSE_LESSON: "01-arrays",
      };
      for (let n = 0; running && n < 10; n++) {
        const before = new Set(existsSync(learner.queue) ? readdirSync(learner.queue) : []);
        sharePulse(
          { exercise: EXERCISES[(i + n) % EXERCISES.length] ?? "enroll", status: n % 3 === 0 ? "pass" : "fail", passed: 1, total: 1 },
          env,
        );
        for (const file of readdirSync(learner.queue))
          if (!before.has(file) && file.endsWith(".json"))
            enqueued.set(file.slice(file.indexOf("-") + 1, -".json".length), path.join(learner.queue, file));
        await flushPulseQueue({ url, token: learner.token }, learner.queue);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    };
    const load = Promise.all(learners.map(learnerLoop));
    await new Promise((resolve) => setTimeout(resolve, 250));
    child.kill("SIGKILL");
    await new Promise((resolve) => child?.once("exit", resolve));
    running = false;
    await load;
    const acknowledged = [...enqueued].filter(([, file]) => !existsSync(file)).map(([id]) => id);
    assert.ok(acknowledged.length > 0, "some posts were acknowledged before the kill");
    assert.ok(acknowledged.length < enqueued.size, "and some were still queued when it died");

    child = await serve(dir, port);
    const afterRestart = openPulseStore(pulseFileFor(dir, "p3"));
    const stored = new Set(afterRestart.posts().map((p) => p.id));
    assert.deepEqual(
      acknowledged.filter((id) => !stored.has(id)),
      [],
      "every acknowledged post survived the kill",
    );
    for (const learner of learners) await flushPulseQueue({ url, token: learner.token }, learner.queue);
    const all = afterRestart.posts();
    afterRestart.close();
    const ids = new Set(all.map((p) => p.id));
    assert.deepEqual(
      [...enqueued.keys()].filter((id) => !ids.has(id)),
      [],
      "every queued post arrived",
    );
    assert.equal(all.length, enqueued.size, "none twice");
  } finally {
    child?.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
