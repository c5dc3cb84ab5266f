/**
 * A learner's processes end before their account goes (root only). Hostile learners
 * fight back: one process forks and exits in a loop, so its id never stays the same
 * long enough to be killed by id; another starts a child every few milliseconds. An
 * account left with a live process would hand that process the next account made
 * with the same uid, and the home made for it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after, test } from "node:test";
import { projectRoot } from "../src/engine/paths";
import { createAccount, endProcessesOf, passwdEntries, processesOf, removeAccounts } from "../src/engine/unix-accounts";

const asRoot = process.getuid?.() === 0 && spawnSync("useradd", ["--help"]).status === 0;
const CLASS = `t${randomBytes(3).toString("hex")}`;
const USER = `rc-${CLASS}x`;
/** A second learner of the class, for the one whose processes cannot be ended. */
const STUCK = `rc-${CLASS}s`;

/** A process that forks and exits, forever: always alive, never under the same id for long. */
const HOPPER = "import os\nwhile True:\n    if os.fork(): os._exit(0)\n";
/** A shell that starts a sleeping child every few milliseconds. */
const BREEDER = "while :; do sleep 300 & sleep 0.005; done";

/** Starts `program` as the learner, a child of this process (which reaps it, as the hub reaps a learner's server). */
function startAs(entry: { uid: number; gid: number }, program: string, args: string[]): void {
  spawn(program, args, {
    uid: entry.uid,
    gid: entry.gid,
    detached: true,
    stdio: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  }).unref();
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

after(() => {
  if (!asRoot) return;
  for (const user of [USER, STUCK]) {
    const entry = passwdEntries().find((e) => e.user === user);
    if (!entry) continue;
    // whatever the code under test left, never leave it running
    for (let i = 0; i < 100 && processesOf(entry.uid).length; i++) {
      for (const pid of processesOf(entry.uid)) spawnSync("kill", ["-KILL", String(pid)]);
      spawnSync("/bin/sh", ["-c", "kill -KILL -1"], { uid: entry.uid, gid: entry.gid, timeout: 1000, killSignal: "SIGKILL" });
    }
    spawnSync("userdel", ["--remove", user]);
  }
});

test(
  "every process of a learner ends, even one that changes its id all the time or keeps starting children",
  { skip: !asRoot },
  async () => {
    const entry = createAccount(CLASS, USER);
    startAs(entry, "python3", ["-c", HOPPER]);
    startAs(entry, "bash", ["-c", BREEDER]);
    await pause(500);
    assert.ok(processesOf(entry.uid).length > 2, "the hostile processes are running");
    await endProcessesOf(entry);
    assert.deepEqual(processesOf(entry.uid), [], "no process of the learner is left");
  },
);

test("removing the class's accounts ends such processes first, then removes the account", { skip: !asRoot }, async () => {
  const entry = passwdEntries().find((e) => e.user === USER) ?? createAccount(CLASS, USER);
  startAs(entry, "python3", ["-c", HOPPER]);
  startAs(entry, "bash", ["-c", BREEDER]);
  await pause(500);
  assert.deepEqual(await removeAccounts(CLASS), { removed: [USER], busy: [] });
  await pause(300);
  assert.deepEqual(processesOf(entry.uid), [], "nothing runs as the removed account's uid");
  assert.equal(
    passwdEntries().find((e) => e.user === USER),
    undefined,
    "the account is gone",
  );
});

/**
 * `endProcessesOf(entry)` in a process of its own, under `prefix` (such as prlimit), so that a
 * hang is a failure after 30 s rather than a test run that never ends: its exit status and stderr.
 * Waited for without blocking, so that this process reaps the learner's processes it started.
 */
async function endInChild(
  entry: { user: string; uid: number; gid: number },
  prefix: string[] = [],
): Promise<{ status: number | null; stderr: string }> {
  const accounts = path.join(projectRoot, "dist", "src", "engine", "unix-accounts.js");
  const ender = `require(${JSON.stringify(accounts)}).endProcessesOf(${JSON.stringify(entry)}).then(() => {}, (e) => { console.error(e.message); process.exit(1); })`;
  const [program = process.execPath, ...args] = [...prefix, process.execPath, "-e", ender];
  const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000, killSignal: "SIGKILL" });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { status, stderr };
}

/** Stops every other process of its uid, over and over: what a learner can signal, it stops. */
const STOPPER = "import os, signal\nwhile True:\n    try: os.kill(-1, signal.SIGSTOP)\n    except OSError: pass\n";

test("a learner who keeps stopping every process of their uid cannot stop what ends them", { skip: !asRoot }, async () => {
  const entry = passwdEntries().find((e) => e.user === USER) ?? createAccount(CLASS, USER);
  startAs(entry, "python3", ["-c", STOPPER]);
  startAs(entry, "python3", ["-c", HOPPER]);
  await pause(500);
  assert.ok(processesOf(entry.uid).length >= 2, "the hostile processes are running");
  const ended = await endInChild(entry);
  assert.equal(ended.status, 0, `the processes were not ended: ${ended.stderr}`);
  assert.deepEqual(processesOf(entry.uid), [], "no process of the learner is left");
});

test(
  "a learner at the process limit, so that no new process may take their uid, still has every process ended",
  { skip: !asRoot },
  async () => {
    const entry = passwdEntries().find((e) => e.user === USER) ?? createAccount(CLASS, USER);
    for (let i = 0; i < 8; i++) startAs(entry, "sleep", ["300"]);
    await pause(300);
    assert.ok(processesOf(entry.uid).length >= 8, "the learner's processes are running");
    // The ender runs with a process limit of 4, which a process with the learner's uid (8 of them) could not start under.
    const ended = await endInChild(entry, ["prlimit", "--nproc=4:4"]);
    assert.equal(ended.status, 0, ended.stderr);
    assert.deepEqual(processesOf(entry.uid), [], "no process of the learner is left");
  },
);

test(
  "an account whose process cannot be ended stays, said as such, and the class's other accounts are removed",
  { skip: !asRoot, timeout: 60_000 },
  async () => {
    const entry = passwdEntries().find((e) => e.user === USER) ?? createAccount(CLASS, USER);
    const stuck = createAccount(CLASS, STUCK);
    // A process of the learner's that has ended but is never reaped: its parent, root's, waits on something else.
    const parent = spawn(
      "python3",
      ["-c", `import os, time\nif os.fork() == 0:\n    os.setgid(${stuck.gid}); os.setuid(${stuck.uid}); os._exit(0)\ntime.sleep(120)`],
      {
        stdio: "ignore",
      },
    );
    try {
      await pause(300);
      assert.equal(processesOf(stuck.uid).length, 1, "the learner's process is there");
      const result = await removeAccounts(CLASS);
      assert.deepEqual(result.removed, [USER]);
      assert.equal(result.busy.length, 1);
      assert.match(result.busy[0] ?? "", new RegExp(`of ${STUCK} did not end within 10 s; the account is left in place`));
      assert.ok(
        passwdEntries().some((e) => e.user === STUCK),
        "the account with the process is still there",
      );
      assert.ok(!passwdEntries().some((e) => e.user === entry.user), "the other account is gone");
    } finally {
      parent.kill("SIGKILL");
    }
  },
);
