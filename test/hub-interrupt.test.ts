/**
 * Ctrl-C at any moment of `npm run hub` stops what it started: here while the hub is
 * still starting (after the accounts are made, before the URL is printed), when a
 * signal used to end the command at once and leave the hub, in its own process
 * group, running with its proxy. And once it runs, a learner's process that forks and
 * exits in a loop (so that no id of it lives long enough to be killed by id) ends too, and a
 * second start of the same class is refused instead of stopping the running one's proxy.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
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
