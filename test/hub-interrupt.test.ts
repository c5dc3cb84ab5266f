/**
 * Ctrl-C at any moment of `npm run hub` stops what it started: here while the hub is
 * still starting (after the accounts are made, before the URL is printed), when a
 * signal used to end the command at once and leave the hub, in its own process
 * group, running with its proxy. And once it runs, a learner's process that forks and
 * exits in a loop (so that no id of it lives long enough to be killed by id) ends too, and a
 * second start of the same class is refused instead of stopping the running one's proxy.
 * A set-up killed outright while it makes the accounts leaves none that its logins file cannot open.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, test } from "node:test";
import { freePort } from "../src/engine/hub-setup.js";
import { projectRoot } from "../src/engine/paths.js";
import { processesOf } from "../src/engine/unix-accounts.js";
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

test("a second start of a running class is refused, and the running class goes on", { skip: !asRoot, timeout: 180_000 }, async () => {
  await hub?.dispose();
  hub = await hubClass("twice");
  await hub.addLearners([{ name: "Ada Lovelace", email: "ada@example.com" }]);
  running = await hub.start();
  const again = spawnSync(
    process.execPath,
    [
      path.join(projectRoot, "dist", "scripts", "hub.mjs"),
      "--class",
      hub.className,
      "--classes",
      hub.classesDir,
      "--port",
      String(await freePort()),
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
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

test(
  "Ctrl-C from the terminal while the accounts are being made lets the set-up finish: every account has its login line",
  { skip: !asRoot, timeout: 180_000 },
  async () => {
    await hub?.dispose();
    hub = await hubClass("setupint");
    const tag = `l${process.pid}`;
    await hub.addLearners(Array.from({ length: 8 }, (_, i) => ({ name: `Learner ${i}`, email: `${tag}n${i}@example.com` })));
    const { className, classesDir } = hub;
    // in a process group of its own, which Ctrl-C signals whole, as a terminal does: the command and whatever it runs
    const child = spawn(
      process.execPath,
      [
        path.join(projectRoot, "dist", "scripts", "hub.mjs"),
        "--class",
        className,
        "--classes",
        classesDir,
        "--port",
        String(await freePort()),
      ],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    // the moment the first account is there, the next ones are being made
    while (hub.accounts().length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    process.kill(-(child.pid ?? 0), "SIGINT");
    const code = await exited;
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
    await hub?.dispose();
    hub = await hubClass("setupkill");
    const tag = `k${process.pid}`;
    await hub.addLearners(Array.from({ length: 8 }, (_, i) => ({ name: `Learner ${i}`, email: `${tag}n${i}@example.com` })));
    const { className, classesDir } = hub;
    const child = spawn(
      process.execPath,
      [
        path.join(projectRoot, "dist", "scripts", "hub.mjs"),
        "--class",
        className,
        "--classes",
        classesDir,
        "--port",
        String(await freePort()),
      ],
      { detached: true, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // the moment the first account is there: the command ends with no chance to finish
    while (hub.accounts().length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    process.kill(-(child.pid ?? 0), "SIGKILL");
    await exited;
    assert.ok(hub.accounts().length < 8, "killed before every account was made");

    const again = await hub.start([], /is on http/);
    assert.equal(await hub.interrupt(), 0, again.output());
    const logins = new Map(
      (await readFile(hub.loginsFile, "utf8"))
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(","))
        .map(([, , user = "", password = ""]) => [user, password]),
    );
    const accounts = hub.accounts();
    assert.equal(accounts.length, 8);
    const locked = accounts.filter(({ user }) => !passwordWorks(user, logins.get(user) ?? "")).map((a) => a.user);
    assert.deepEqual(locked, [], `accounts whose logins line does not let them in:\n${again.output()}`);
    assert.match(
      again.output(),
      /had no password yet \(a set-up was stopped before it set it\)/,
      "the killed set-up's accounts were mended, and said so",
    );
  },
);
