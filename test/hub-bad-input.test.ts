/**
 * What stops `npm run hub` before it changes anything: not root, Debian's package
 * missing (both injected: the tests run as root, with the packages), a class with
 * no learners, a port in use, the class's hub running already, an account of the
 * same name the kit did not make.
 * Each says what to do, and leaves no account, no logins file and no hub state.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import { createServer } from "node:net";
import path from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  describeMapping,
  planHub,
  removeHub,
  RUN_BY_LEARNERS,
  systemChecks,
  type HubChecks,
  type HubOptions,
} from "../src/engine/hub-setup.js";
import { freePort } from "../src/engine/free-ports.js";
import { hubRunningElsewhere } from "../src/engine/hub-lock.js";
import { formatProblem } from "../src/engine/problem.js";
import { projectRoot } from "../src/engine/paths.js";
import { accountMarker, markedAccounts, passwdEntries } from "../src/engine/unix-accounts.js";
import { hubClass, type HubClass } from "./support/hub-class.js";

const asRoot = process.getuid?.() === 0;
const classes: HubClass[] = [];
after(async () => {
  for (const c of classes) await c.dispose();
});

async function classWith(learners: { name: string; email: string }[]): Promise<HubClass> {
  const c = await hubClass("bad");
  classes.push(c);
  if (learners.length) await c.addLearners(learners);
  else await c.addLearners([]);
  return c;
}

const optionsFor = async (c: HubClass, port?: number): Promise<HubOptions> => ({
  className: c.className,
  classesDir: c.classesDir,
  ip: "127.0.0.1",
  port: port ?? (await freePort()),
  admin: "root",
  projectRoot,
});

/** The plan failed with this message, and nothing of the class exists. */
async function refused(c: HubClass, options: HubOptions, checks: HubChecks, message: RegExp): Promise<void> {
  const plan = await planHub(options, checks);
  assert.equal(plan.ok, false);
  if (plan.ok) return;
  assert.match(plan.problems.map(formatProblem).join("\n"), message);
  assert.deepEqual(markedAccounts(c.className), []);
  assert.equal(existsSync(c.stateDir), false, "no hub state");
  assert.equal(existsSync(c.loginsFile), false, "no logins file");
}

const learners = [{ name: "Ada", email: `ada${process.pid}@school.org` }];

test("not root: says to run it with sudo", async () => {
  const c = await classWith(learners);
  await refused(c, await optionsFor(c), { ...systemChecks, isRoot: () => false }, /must run as root: sudo npm run hub -- --class NAME/);
});

test("Debian's package missing: says the apt command", async () => {
  const c = await classWith(learners);
  const checks = { isRoot: () => true, missingPackages: () => ["jupyterhub"] };
  await refused(c, await optionsFor(c), checks, /missing: jupyterhub\. Install them with:\n {2}sudo apt-get install -y jupyterhub\n/);
});

test("a class with no learners: says to import a roster", { skip: !asRoot }, async () => {
  const c = await classWith([]);
  await refused(c, await optionsFor(c), systemChecks, /has no learners: import a roster first \(npm run class -- import/);
});

test("no such class: says so", { skip: !asRoot }, async () => {
  const c = await classWith(learners);
  await refused(c, { ...(await optionsFor(c)), className: `${c.className}x` }, systemChecks, /./);
});

test("a port in use: says to choose another with --port", { skip: !asRoot }, async () => {
  const c = await classWith(learners);
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  try {
    await refused(c, await optionsFor(c, port), systemChecks, new RegExp(`port ${port} on 127.0.0.1 is in use: .*--port`));
  } finally {
    server.close();
  }
});

test("the class's hub running already: says so and names its process, not that its port is in use", { skip: !asRoot }, async () => {
  const c = await classWith(learners);
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  // the running command's hold on the class (a start of its own, as in hub-lock.test.ts)
  const running = spawn(process.execPath, [
    path.join(projectRoot, "test", "fixtures", "hub", "take-lock.mjs"),
    pathToFileURL(path.join(projectRoot, "dist", "src", "engine", "hub-lock.js")).href,
    c.classesDir,
    c.className,
    "0",
    "hub.mjs",
  ]);
  try {
    assert.equal(await new Promise((resolve) => running.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()))), "took");
    const plan = await planHub(await optionsFor(c, port), systemChecks);
    assert.ok(!plan.ok);
    assert.match(
      plan.problems.map(formatProblem).join("\n"),
      new RegExp(`class ${c.className} is running already \\(npm run hub, process ${running.pid}\\)`),
    );
    assert.deepEqual(markedAccounts(c.className), []);
  } finally {
    running.stdin.end();
    server.close();
  }
});

test("--ip that is no address, or an address this machine lacks, says so (never that the port is in use)", { skip: !asRoot }, async () => {
  const c = await classWith(learners);
  // JupyterHub takes "" as every network: it must never get that far
  for (const ip of ["", "localhost", "999.1.1.1"])
    await refused(c, { ...(await optionsFor(c)), ip }, systemChecks, /--ip takes the address to listen on/);
  await refused(c, { ...(await optionsFor(c)), ip: "192.0.2.77" }, systemChecks, /this machine has no address 192\.0\.2\.77 to listen on/);
});

test("--port that is no port number says so", () => {
  const run = spawnSync(process.execPath, [path.join(projectRoot, "dist", "scripts", "hub.mjs"), "--class", "x", "--port", "abc"], {
    encoding: "utf8",
  });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--port takes a number from 1 to 65535, not "abc"/);
});

test("an account of the same name the kit did not make: refused, and left alone", { skip: !asRoot }, async () => {
  const user = `rc-own${process.pid}`;
  assert.equal(spawnSync("useradd", ["--no-create-home", user]).status, 0);
  try {
    const c = await classWith([{ name: "Own", email: `own${process.pid}@school.org` }]);
    await refused(
      c,
      await optionsFor(c),
      systemChecks,
      new RegExp(`the Unix account ${user} .* was not made for class .*never touches it`),
    );
    assert.ok(
      passwdEntries().some((e) => e.user === user),
      "the account is still there",
    );
  } finally {
    spawnSync("userdel", [user]);
  }
});

test("an account another class made: refused, naming that class", { skip: !asRoot }, async () => {
  const user = `rc-two${process.pid}`;
  assert.equal(spawnSync("useradd", ["--no-create-home", "--comment", accountMarker("otherclass"), user]).status, 0);
  try {
    const c = await classWith([{ name: "Two", email: `two${process.pid}@school.org` }]);
    await refused(
      c,
      await optionsFor(c),
      systemChecks,
      new RegExp(`the Unix account ${user} .* is a learner's of class otherclass: .*--class otherclass --remove`),
    );
  } finally {
    spawnSync("userdel", [user]);
  }
});

test("--remove or --hand-out of a class that is not on this machine says so, and exits 1", { skip: !asRoot }, () => {
  const hub = path.join(projectRoot, "dist", "scripts", "hub.mjs");
  const name = `nosuch${process.pid}`;
  const removed = spawnSync(process.execPath, [hub, "--class", name, "--remove"], { encoding: "utf8" });
  assert.equal(removed.status, 1);
  assert.match(removed.stderr, new RegExp(`nothing of class ${name} is on this machine to remove: is the name right\\?`));
  const handed = spawnSync(process.execPath, [hub, "--class", name, "--hand-out"], { encoding: "utf8" });
  assert.equal(handed.status, 1);
  assert.match(handed.stderr, new RegExp(`class ${name} has no learner accounts on this machine: set it up first`));
});

test("a name that is no valid Unix name is mapped, and the mapping is said", { skip: !asRoot }, async () => {
  const c = await classWith([{ name: "Zoë O'Neil", email: `Zoë.O'Neil${process.pid}@school.org` }]);
  const plan = await planHub(await optionsFor(c), systemChecks);
  assert.ok(plan.ok);
  const [account] = plan.value.accounts;
  assert.ok(account);
  assert.equal(account.user, `rc-zoe-o-neil${process.pid}`);
  assert.equal(
    describeMapping(account),
    `Zoë O'Neil <${account.email}>: "Zoë.O'Neil${process.pid}" is no valid Unix name, so the account is ${account.user}`,
  );
  assert.deepEqual(markedAccounts(c.className), [], "planning made nothing");
});

test("the command says the problem, that nothing was set up, and exits 1", { skip: !asRoot }, async () => {
  const c = await classWith([]);
  const run = spawnSync(
    process.execPath,
    [path.join(projectRoot, "dist", "scripts", "hub.mjs"), "--class", c.className, "--classes", c.classesDir],
    {
      encoding: "utf8",
    },
  );
  assert.equal(run.status, 1);
  assert.match(run.stderr, /has no learners[^]*nothing was set up\./);
});

test("--pulse with no http(s) URL: says what it takes, and sets nothing up", { skip: !asRoot }, async () => {
  const c = await classWith(learners);
  const run = spawnSync(
    process.execPath,
    [path.join(projectRoot, "dist", "scripts", "hub.mjs"), "--class", c.className, "--classes", c.classesDir, "--pulse", "127.0.0.1:8765"],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /--pulse takes the URL of the class pulse, http:\/\/ or https:\/\/[^]*not "127\.0\.0\.1:8765"[^]*nothing was set up\./,
  );
  assert.deepEqual(markedAccounts(c.className), []);
  assert.equal(existsSync(c.stateDir), false, "no hub state");
});

test('--remove of a name that is no class ("", ".", "..", "../other"): refused, and nothing outside the class is removed', async () => {
  // an unset $CLASS gives ""; the name makes the paths --remove deletes
  const top = mkdtempSync(path.join(os.tmpdir(), "rollcall-remove-"));
  try {
    const classes = path.join(top, "classes");
    for (const folder of [path.join(classes, "period-3-hub"), path.join(top, "other")]) {
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, "keep.txt"), "kept");
    }
    for (const name of ["", "..", "../other", "."]) {
      await assert.rejects(removeHub(classes, name), /is not a class name/, JSON.stringify(name));
    }
    assert.ok(existsSync(path.join(classes, "period-3-hub", "keep.txt")));
    assert.ok(existsSync(path.join(top, "other", "keep.txt")));
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test(
  "--remove given another classes folder than the running class's: refused, naming that folder, and nothing is removed",
  { skip: !asRoot },
  async () => {
    // the lock is per classes folder, the accounts are the machine's: `sudo` drops ROLLCALL_CLASSES, and --classes is easy to forget
    const top = mkdtempSync(path.join(os.tmpdir(), "rollcall-elsewhere-"));
    const name = `elsewhere${process.pid}`;
    const [running, given] = [path.join(top, "running"), path.join(top, "given")];
    for (const dir of [running, given]) mkdirSync(path.join(dir, `${name}-hub`), { recursive: true });
    // a JupyterHub of the class, as `npm run hub` starts it, from the other folder
    const config = path.join(running, `${name}-hub`, "jupyterhub_config.py");
    const hubProcess = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)", "--", "-f", config], {
      argv0: "jupyterhub",
      stdio: "ignore",
    });
    try {
      await new Promise((resolve) => hubProcess.once("spawn", resolve));
      const hub = path.join(projectRoot, "dist", "scripts", "hub.mjs");
      const removed = spawnSync(process.execPath, [hub, "--class", name, "--classes", given, "--remove"], { encoding: "utf8" });
      assert.equal(removed.status, 1, removed.stdout + removed.stderr);
      assert.match(
        removed.stderr,
        new RegExp(`class ${name} is running from the classes folder ${running} \\(its JupyterHub is process ${hubProcess.pid}\\)`),
      );
      assert.match(removed.stderr, /nothing was removed\./);
      assert.ok(existsSync(path.join(given, `${name}-hub`)), "the state was removed");
      // the same command line in a process of anyone but root is no class's hub: a learner cannot block the instructor
      // with one, nor with a setuid program's (su waiting at its password prompt: root's in /proc, the learner's real uid)
      const lookAlikes = [
        spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)", "--", "-f", config], {
          argv0: "jupyterhub",
          stdio: "ignore",
          uid: 65534,
          gid: 65534,
        }),
        spawn(
          "python3",
          [
            "-c",
            "import os, sys; os.setresuid(65534, 0, 0); os.execv(sys.argv[1], ['jupyterhub', *sys.argv[2:]])",
            process.execPath,
            "-e",
            "setTimeout(() => {}, 60_000)",
            "--",
            "-f",
            config,
          ],
          { stdio: "ignore" },
        ),
      ];
      try {
        // listening to both at once: a second "spawn" may come while the first is awaited
        await Promise.all(lookAlikes.map((lookAlike) => new Promise((resolve) => lookAlike.once("spawn", resolve))));
        hubProcess.kill("SIGKILL");
        await new Promise((resolve) => (hubProcess.exitCode === null ? hubProcess.once("exit", resolve) : resolve(undefined)));
        // python drops its uid, then becomes the look-alike: wait for that, however loaded the machine
        for (const lookAlike of lookAlikes) {
          const since = Date.now();
          const named = async (): Promise<boolean> =>
            (await readFile(`/proc/${lookAlike.pid}/cmdline`, "utf8").catch(() => "")).startsWith("jupyterhub\0");
          while (!(await named()) && Date.now() - since < 20_000) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const seen = await Promise.all(lookAlikes.map(async (p) => readFile(`/proc/${p.pid}/status`, "utf8").catch(() => "gone")));
        assert.deepEqual(
          seen.map((status) => /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).join(" ")),
          ["65534 65534 65534 65534", "65534 0 0 0"],
          "a look-alike of nobody's, and one as a setuid program runs",
        );
        assert.equal(await hubRunningElsewhere(given, name), undefined);
      } finally {
        for (const lookAlike of lookAlikes) lookAlike.kill("SIGKILL");
      }
    } finally {
      hubProcess.kill("SIGKILL");
      rmSync(top, { recursive: true, force: true });
    }
  },
);

test(
  "a kit in a folder other users cannot enter (a home, 0700): says so and how to fix it, and sets nothing up",
  { skip: !asRoot },
  async () => {
    const c = await classWith(learners);
    const home = mkdtempSync(path.join(os.tmpdir(), "rollcall-private-home-")); // 0700, as Debian 12 makes a home
    try {
      const kit = path.join(home, "rollcall");
      for (const part of ["node_modules", "dist", "notebooks"]) mkdirSync(path.join(kit, part), { recursive: true });
      await refused(
        c,
        { ...(await optionsFor(c)), projectRoot: kit },
        systemChecks,
        new RegExp(
          `${home}: is closed to other users \\(mode 700\\), so no learner's server can reach the kit in ${kit}: .*chmod o\\+x ${home}`,
        ),
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
);

test("every file the reach check looks at is there in the kit: a package that moved one would leave it unchecked", () => {
  assert.deepEqual(
    RUN_BY_LEARNERS.filter((file) => !existsSync(path.join(projectRoot, file))),
    [],
  );
});

test(
  "a kit whose inner folders are closed to others (an npm ci under umask 077): names the first, says the chmod, sets nothing up",
  { skip: !asRoot },
  async () => {
    const c = await classWith(learners);
    const top = mkdtempSync(path.join(os.tmpdir(), "rollcall-umask-kit-"));
    try {
      chmodSync(top, 0o755);
      const kit = path.join(top, "rollcall");
      for (const file of ["package.json", "node_modules/tslab/bin/tslab", "dist/src/index.js", "notebooks/01-arrays.ipynb"]) {
        mkdirSync(path.dirname(path.join(kit, file)), { recursive: true, mode: 0o755 });
        writeFileSync(path.join(kit, file), "", { mode: 0o644 });
      }
      chmodSync(kit, 0o755);
      const options = { ...(await optionsFor(c)), projectRoot: kit };
      // node_modules itself is open: only what is inside it is not
      chmodSync(path.join(kit, "node_modules", "tslab"), 0o700);
      await refused(
        c,
        options,
        systemChecks,
        new RegExp(
          `${kit}/node_modules/tslab: cannot be read by other users \\(mode 700\\), and every learner's server runs node_modules/tslab/bin/tslab from there: chmod -R o\\+rX ${kit}/node_modules`,
        ),
      );
      chmodSync(path.join(kit, "node_modules", "tslab"), 0o755);
      chmodSync(path.join(kit, "notebooks", "01-arrays.ipynb"), 0o600); // a notebook, in a folder open to all
      await refused(
        c,
        options,
        systemChecks,
        new RegExp(`${kit}/notebooks/01-arrays\\.ipynb: cannot be read by other users \\(mode 600\\)`),
      );
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  },
);

test("JupyterHub that stops before it answers: the end of its log, what to do, exit 1, never 'a bug'", { skip: !asRoot }, async () => {
  const c = await classWith(learners);
  const bin = mkdtempSync(path.join(os.tmpdir(), "rollcall-fake-hub-"));
  try {
    // a JupyterHub that fails as a broken install or a port taken since the check would
    writeFileSync(path.join(bin, "jupyterhub"), "#!/bin/sh\necho 'fake: the hub could not bind its port' >&2\nexit 3\n", { mode: 0o755 });
    const hub = path.join(projectRoot, "dist", "scripts", "hub.mjs");
    const ran = spawnSync(process.execPath, [hub, "--class", c.className, "--classes", c.classesDir, "--port", String(await freePort())], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` },
      timeout: 120_000,
    });
    assert.equal(ran.status, 1, ran.stdout + ran.stderr);
    assert.match(ran.stderr, /JupyterHub stopped with code 3 before it answered/);
    assert.match(ran.stderr, /fake: the hub could not bind its port/);
    assert.match(ran.stderr, /the hub did not start; the accounts and their passwords are kept\./);
    assert.doesNotMatch(ran.stderr, /a bug/);
    assert.ok(existsSync(c.loginsFile), "the set-up was kept");
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
