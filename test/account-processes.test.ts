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

/** A process that forks and exits, forever: always alive, never under the same id for long. */
const HOPPER = "import os\nwhile True:\n    if os.fork(): os._exit(0)\n";
/** A shell that starts a sleeping child every few milliseconds. */
const BREEDER = "while :; do sleep 300 & sleep 0.005; done";

function startAs(user: string, program: string, args: string[]): void {
  spawn("runuser", ["-u", user, "--", program, ...args], { detached: true, stdio: "ignore" }).unref();
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

after(() => {
  if (!asRoot) return;
  const entry = passwdEntries().find((e) => e.user === USER);
  if (!entry) return;
  // whatever the code under test left, never leave it running
  for (let i = 0; i < 100 && processesOf(entry.uid).length; i++)
    spawnSync("/bin/sh", ["-c", "kill -KILL -1"], { uid: entry.uid, gid: entry.gid });
  spawnSync("userdel", ["--remove", USER]);
});

test(
  "every process of a learner ends, even one that changes its id all the time or keeps starting children",
  { skip: !asRoot },
  async () => {
    const entry = createAccount(CLASS, USER);
    startAs(USER, "python3", ["-c", HOPPER]);
    startAs(USER, "bash", ["-c", BREEDER]);
    await pause(500);
    assert.ok(processesOf(entry.uid).length > 2, "the hostile processes are running");
    await endProcessesOf(entry);
    assert.deepEqual(processesOf(entry.uid), [], "no process of the learner is left");
  },
);

test("removing the class's accounts ends such processes first, then removes the account", { skip: !asRoot }, async () => {
  const entry = passwdEntries().find((e) => e.user === USER) ?? createAccount(CLASS, USER);
  startAs(USER, "python3", ["-c", HOPPER]);
  startAs(USER, "bash", ["-c", BREEDER]);
  await pause(500);
  assert.deepEqual(await removeAccounts(CLASS), [USER]);
  await pause(300);
  assert.deepEqual(processesOf(entry.uid), [], "nothing runs as the removed account's uid");
  assert.equal(
    passwdEntries().find((e) => e.user === USER),
    undefined,
    "the account is gone",
  );
});

test("a learner at the process limit, so that no shell starts as them, still has every process ended", { skip: !asRoot }, async () => {
  const entry = passwdEntries().find((e) => e.user === USER) ?? createAccount(CLASS, USER);
  for (let i = 0; i < 8; i++) startAs(USER, "sleep", ["300"]);
  await pause(300);
  assert.ok(processesOf(entry.uid).length >= 8, "the learner's processes are running");
  // The ender runs with a process limit of 4, which a shell as the learner's uid (with 8) cannot start under.
  const accounts = path.join(projectRoot, "dist", "src", "engine", "unix-accounts.js");
  const ender = `require(${JSON.stringify(accounts)}).endProcessesOf(${JSON.stringify(entry)}).then(() => console.log("ended"), (e) => { console.error(e.message); process.exit(1); })`;
  const limited = spawnSync("prlimit", ["--nproc=4:4", process.execPath, "-e", ender], { encoding: "utf8" });
  assert.equal(limited.status, 0, limited.stderr);
  assert.deepEqual(processesOf(entry.uid), [], "no process of the learner is left");
});
