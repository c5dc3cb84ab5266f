/**
 * Ctrl-C at any moment of `npm run hub` stops what it started: here while the hub is
 * still starting (after the accounts are made, before the URL is printed), when a
 * signal used to end the command at once and leave the hub, in its own process
 * group, running with its proxy. And once it runs, a learner's process that forks and
 * exits in a loop (so that no id of it lives long enough to be killed by id) ends too, and a
 * second start of the same class is refused instead of stopping the running one's proxy.
 * A set-up killed outright while it makes the accounts leaves none that its logins file cannot open,
 * nor a home others can read. A closed terminal (SIGHUP) stops the class as Ctrl-C does; a killed
 * command's JupyterHub stops too, and the next start ends what was left (a hub that would not stop,
 * a learner's process), but leaves a learner's processes alone after a clean stop.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import path from "node:path";
import { after, test } from "node:test";
import { freePort } from "../src/engine/free-ports.js";
import { projectRoot } from "../src/engine/paths.js";
import { processesOf } from "../src/engine/unix-accounts.js";
import { hubApi, startServer } from "../src/engine/hub-client.js";
import { hubClass, type HubClass } from "./support/hub-class.js";

const asRoot = process.getuid?.() === 0;
let hub: HubClass | undefined;
after(async () => hub?.dispose());

test(
  "Ctrl-C while the hub is still starting stops it, its proxy and the servers, and the command ends with 0",
  { skip: !asRoot, timeout: 180_000 },
  async () => {
    hub = await hubClass("sigint");
    await hub.addLearners([{ name: "Ada Lovelace", email: "ada@example.com" }]);
    const { url, output } = await hub.start([], /made 1 accounts/);
    const code = await hub.interrupt();
    assert.equal(code, 0, `npm run hub ended with ${code}:\n${output()}`);
    const { stateDir } = hub;
    const port = new URL(url).port;
    const left = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(stateDir) || (line.includes("configurable-http-proxy") && line.includes(`--port ${port}`)));
    assert.deepEqual(left, [], "no jupyterhub or proxy of this class is left");
    for (const { uid } of hub.accounts()) assert.deepEqual(processesOf(uid), [], "no learner's process is left");
    assert.match(output(), /stopped\./);
  },
);

let running: { url: string; output: () => string } | undefined;

/** A new class of one learner, Ada, in place of the test before's. */
async function adaClass(tag: string): Promise<HubClass> {
  await hub?.dispose();
  const made = await hubClass(tag);
  await made.addLearners([{ name: "Ada Lovelace", email: "ada@example.com" }]);
  return made;
}

/** `npm run hub` of the class, on a free port: node's arguments. */
const hubArguments = async (c: HubClass): Promise<string[]> => [
  path.join(projectRoot, "dist", "scripts", "hub.mjs"),
  "--class",
  c.className,
  "--classes",
  c.classesDir,
  "--port",
  String(await freePort()),
];

test("a second start of a running class is refused, and the running class goes on", { skip: !asRoot, timeout: 180_000 }, async () => {
  hub = await adaClass("twice");
  running = await hub.start();
  const again = spawnSync(process.execPath, await hubArguments(hub), { encoding: "utf8", timeout: 120_000 });
  assert.equal(again.status, 1, again.stdout + again.stderr);
  assert.match(again.stderr, new RegExp(`class ${hub.className} is running already`));
  // a second JupyterHub would have stopped the first one's proxy: the class's URL would not answer
  const answer = await fetch(new URL("hub/api/", running.url));
  assert.equal(answer.status, 200, "the running class still answers");
});

test("Ctrl-C on a running class ends a learner's process that forks and exits in a loop", { skip: !asRoot, timeout: 180_000 }, async () => {
  assert.ok(hub && running, "the class of the test before runs");
  const [ada] = hub.accounts();
  assert.ok(ada, "the learner's account was made");
  const hopper = "import os\nwhile True:\n    if os.fork(): os._exit(0)\n";
  spawn("runuser", ["-u", ada.user, "--", "python3", "-c", hopper], { detached: true, stdio: "ignore" }).unref();
  for (let i = 0; i < 50 && processesOf(ada.uid).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(processesOf(ada.uid).length > 0, "the hostile process runs");
  const code = await hub.interrupt();
  assert.equal(code, 0, `npm run hub ended with ${code}:\n${running.output()}`);
  assert.deepEqual(processesOf(ada.uid), [], "no process of the learner is left");
});

/** The JupyterHub and proxy processes of the class whose hub state is `stateDir` and whose URL is `url`. */
function hubProcesses(stateDir: string, url: string): string[] {
  const port = new URL(url).port;
  return execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(stateDir) || (line.includes("configurable-http-proxy") && line.includes(`--port ${port}`)));
}

/** Waits up to `ms` for `done`. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (done()) return true;
  return done();
}

for (const [signal, what] of [
  ["SIGHUP", "the instructor's terminal closing (SIGHUP: an ssh connection dropped)"],
  ["SIGKILL", "the command killed outright (kill -9)"],
] as const) {
  test(`${what} stops the class's hub, its proxy and the learners' servers too`, { skip: !asRoot, timeout: 180_000 }, async () => {
    hub = await adaClass(signal === "SIGHUP" ? "hangup" : "killed");
    const { url, token } = await hub.start();
    const [ada] = hub.accounts();
    assert.ok(ada);
    await startServer(hubApi(url, token), ada.user, 120_000);
    assert.ok(processesOf(ada.uid).length > 0, "the learner's server runs");
    // a learner's own process, outside their server: after a kill -9 no command is left to end it
    const stray = spawn("runuser", ["-u", ada.user, "--", "setsid", "sleep", "300"], { stdio: "ignore" });
    const strayPid = stray.pid ?? 0;
    const code = signal === "SIGHUP" ? await hub.interrupt("SIGHUP") : await hub.interrupt("SIGKILL");
    const { stateDir } = hub;
    assert.ok(await until(() => hubProcesses(stateDir, url).length === 0, 30_000), `the hub or its proxy runs on after ${signal}`);
    if (signal === "SIGHUP") {
      assert.equal(code, 0, "a hang-up stops the class as Ctrl-C does");
      assert.deepEqual(processesOf(ada.uid), [], "no process of the learner is left");
      // after a clean stop, what the learner starts (an ssh session, say) is theirs: the next start leaves it
      const own = spawn("runuser", ["-u", ada.user, "--", "setsid", "sleep", "300"], { stdio: "ignore" });
      await until(() => processesOf(ada.uid).length === 1, 10_000);
      try {
        await hub.start();
        assert.equal(processesOf(ada.uid).length, 1, "the next start ended a process of the learner's after a clean stop");
      } finally {
        own.kill("SIGKILL");
        for (const pid of processesOf(ada.uid)) process.kill(pid, "SIGKILL");
      }
      return;
    }
    // the hub stopped the servers; the next start ends what else the learner left
    assert.ok(await until(() => processesOf(ada.uid).length === 1, 30_000), "only the learner's own process is left");
    const again = await hub.start();
    assert.deepEqual(processesOf(ada.uid), [], `the next start ended it (process ${strayPid}):\n${again.output()}`);
    assert.match(again.output(), new RegExp(`ended what ${ada.user} left running when the class last ran`));
  });
}

/**
 * A new class of 8 learners whose `npm run hub` is sent `signal` the moment its first account is
 * there (the next ones are being made then), to its whole process group, as a terminal's Ctrl-C
 * goes to the command and whatever it runs. Resolves once the command has ended.
 */
async function signalledDuringSetUp(tag: string, signal: NodeJS.Signals): Promise<{ code: number | null; output: string }> {
  await hub?.dispose();
  hub = await hubClass(tag);
  const learnerTag = `${tag}${process.pid}`;
  await hub.addLearners(Array.from({ length: 8 }, (_, i) => ({ name: `Learner ${i}`, email: `${learnerTag}n${i}@example.com` })));
  const child = spawn(process.execPath, await hubArguments(hub), { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  while (hub.accounts().length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  process.kill(-(child.pid ?? 0), signal);
  return { code: await exited, output };
}

test(
  "Ctrl-C from the terminal while the accounts are being made lets the set-up finish: every account has its login line",
  { skip: !asRoot, timeout: 180_000 },
  async () => {
    const { code, output } = await signalledDuringSetUp("setupint", "SIGINT");
    assert.ok(hub);
    assert.equal(code, 0, output);
    assert.match(output, /stopped before the hub started/);
    const logins = await readFile(hub.loginsFile, "utf8");
    const accounts = hub.accounts();
    assert.equal(accounts.length, 8, "the set-up finished");
    for (const { user } of accounts) assert.match(logins, new RegExp(`\\b${user},`), `${user} has a line in the logins file`);
  },
);

/** Whether `password` is the one /etc/shadow holds for `user` (crypt(3), by Debian's Python). */
function passwordWorks(user: string, password: string): boolean {
  const check =
    "import crypt, spwd, sys\nh = spwd.getspnam(sys.argv[1]).sp_pwdp\nsys.exit(0 if crypt.crypt(sys.stdin.read(), h) == h else 1)";
  return spawnSync("/usr/bin/python3", ["-W", "ignore", "-c", check, user], { input: password }).status === 0;
}

test(
  "a set-up killed (kill -9) while it makes the accounts: the next start leaves every account with the password its logins line gives",
  { skip: !asRoot, timeout: 240_000 },
  async () => {
    await signalledDuringSetUp("setupkill", "SIGKILL"); // the command ends with no chance to finish
    assert.ok(hub);
    assert.ok(hub.accounts().length < 8, "killed before every account was made");

    const again = await hub.start([], /is on http/);
    assert.equal(await hub.interrupt(), 0, again.output());
    const rows = parse(await readFile(hub.loginsFile, "utf8"), { columns: true }) as { user: string; password: string }[];
    const logins = new Map(rows.map((r) => [r.user, r.password]));
    const accounts = hub.accounts();
    assert.equal(accounts.length, 8);
    const open = accounts.filter((a) => (statSync(a.home).mode & 0o777) !== 0o700).map((a) => a.user);
    assert.deepEqual(open, [], "homes another learner could read");
    const locked = accounts.filter(({ user }) => !passwordWorks(user, logins.get(user) ?? "")).map((a) => a.user);
    assert.deepEqual(locked, [], `accounts whose logins line does not let them in:\n${again.output()}`);
    assert.match(
      again.output(),
      /a set-up was stopped while it made rc-\S+: each now has the password .* gives it/,
      "the killed set-up's accounts were mended, and said so",
    );
  },
);

test(
  "an account an administrator disabled (usermod -p '*') stays disabled at the next start",
  { skip: !asRoot, timeout: 180_000 },
  async () => {
    hub = await adaClass("disabled");
    await hub.start([], /made 1 accounts/);
    await hub.interrupt();
    const [ada] = hub.accounts();
    assert.ok(ada);
    execFileSync("usermod", ["-p", "*", ada.user]);
    const again = await hub.start();
    await hub.interrupt();
    const shadow = readFileSync("/etc/shadow", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${ada.user}:`));
    assert.equal(shadow?.split(":")[1], "*", `the start gave the disabled account a password:\n${again.output()}`);
  },
);

test(
  "a kill -9 while its JupyterHub does not stop: the next start stops that hub before it starts its own",
  { skip: !asRoot, timeout: 240_000 },
  async () => {
    hub = await adaClass("stuck");
    await hub.start();
    const old = Number((await readFile(path.join(hub.stateDir, "jupyterhub.pid"), "utf8")).trim());
    process.kill(old, "SIGSTOP"); // so that the SIGTERM the command's death sends it waits
    await hub.interrupt("SIGKILL");
    try {
      const again = await hub.start();
      assert.throws(() => process.kill(old, 0), "the old JupyterHub runs beside the new one");
      assert.match(again.output(), new RegExp(`stopped the JupyterHub \\(process ${old}\\)`));
    } finally {
      try {
        process.kill(old, "SIGKILL");
      } catch {
        // stopped by the start
      }
    }
  },
);
