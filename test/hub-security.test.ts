/**
 * A class server with two real learners, attacked from one learner's own tslab
 * kernel (started through the hub and their server's API, as a browser does): each
 * attack on the other learner, the class files and the hub's state is refused.
 * Then Ctrl-C leaves no process of the hub, the proxy or a learner.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { classAccounts, collect, collectFolders, dropFolderOf, makeDropFolder } from "../src/engine/exchange.js";
import { hubApi, openKernel, startServer, type HubApi, type RemoteKernel } from "../src/engine/hub-client.js";
import { HUB_STATE_FILES } from "../src/engine/hub-config.js";
import { planHub, setUpHub, SYSTEM_JUPYTER_PATH } from "../src/engine/hub-setup.js";
import { freePort, freePorts } from "../src/engine/free-ports.js";
import { kernelSpecFile, kitConfigDir } from "../src/engine/jupyter-setup.js";
import { projectRoot } from "../src/engine/paths.js";
import { accountMarker, processesOf, type PasswdEntry } from "../src/engine/unix-accounts.js";
import { hubClass, type HubClass } from "./support/hub-class.js";

const asRoot = process.getuid?.() === 0;
let hub: HubClass;
let url = "";
let admin: HubApi;
let mallory: PasswdEntry;
let victim: PasswdEntry;
let malloryToken = "";
let kernel: RemoteKernel | undefined;

before(async () => {
  if (!asRoot) return;
  hub = await hubClass("sec");
  await hub.addLearners([
    { name: "Mallory", email: `mallory${process.pid}@school.org` },
    { name: "Victor", email: `victor${process.pid}@school.org` },
  ]);
  const started = await hub.start();
  url = started.url;
  admin = hubApi(url, started.token);
  const [m, v] = hub.accounts().sort((a, b) => a.user.localeCompare(b.user));
  assert.ok(m && v, "two accounts were made");
  mallory = m;
  victim = v;
  await Promise.all([startServer(admin, mallory.user), startServer(admin, victim.user)]);
  const issued = await admin.call("POST", `users/${mallory.user}/tokens`, { note: "test" });
  malloryToken = (issued.body as { token: string }).token;
  kernel = await openKernel(new URL(`user/${mallory.user}/`, url).href, malloryToken);
});

after(async () => {
  await kernel?.close().catch(() => undefined);
  await hub?.dispose();
});

/** Runs a cell in Mallory's kernel that prints JSON, and parses it. */
async function inMallorysKernel(code: string): Promise<Record<string, string | number>> {
  assert.ok(kernel);
  const run = await kernel.execute(code);
  assert.equal(run.status, "ok", run.text);
  return JSON.parse(run.text.trim().split("\n").pop() ?? "{}") as Record<string, string | number>;
}

/** Where the proxy sends a learner's URL: their server's own port, which the attack calls directly. */
function serverTarget(user: string): Promise<string> {
  const config = readFileSync(path.join(hub.stateDir, HUB_STATE_FILES.config), "utf8");
  const api = /api_url = "([^"]+)"/.exec(config)?.[1] ?? "";
  const token = readFileSync(path.join(hub.stateDir, HUB_STATE_FILES.proxyToken), "utf8").trim();
  return fetch(`${api}/api/routes`, { headers: { Authorization: `token ${token}` } })
    .then((r) => r.json() as Promise<Record<string, { target: string }>>)
    .then((routes) => routes[`/user/${user}`]?.target ?? routes[`/user/${user}/`]?.target ?? "");
}

const TRY = `
import * as fs from "fs";
const attempt = (f: () => unknown): string => { try { f(); return "allowed"; } catch (e) { return (e as NodeJS.ErrnoException).code ?? String(e); } };
`;

test("the learner's kernel runs as the learner, in their own home", { skip: !asRoot }, async () => {
  const seen = await inMallorysKernel(`${TRY}
console.log(JSON.stringify({ uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!().join(" "), cwd: process.cwd(), own: attempt(() => fs.writeFileSync("mine.txt", "mine")) }));`);
  // The learner's groups, as `id` has them: none of root's (a server that kept root's would show 0).
  const groups = spawnSync("id", ["-G", mallory.user], { encoding: "utf8" }).stdout.trim();
  const sorted = (list: string): string => [...new Set(list.split(/\s+/).filter(Boolean).map(Number))].sort((x, y) => x - y).join(" ");
  assert.deepEqual(
    { ...seen, groups: sorted(String(seen["groups"])) },
    { uid: mallory.uid, gid: mallory.gid, groups: sorted(groups), cwd: mallory.home, own: "allowed" },
  );
});

/** A process's parent, from /proc. */
const ppid = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);

/** The learner's Jupyter server: their process whose parent is not theirs. */
function serverOf(uid: number): number {
  const mine = processesOf(uid);
  const server = mine.find((pid) => !mine.includes(ppid(pid)));
  assert.ok(server, `uid ${uid} has a server`);
  return server;
}

/** The socket and pipe inodes a process holds on descriptors from `from` up. */
function heldInodes(pid: number, from = 0): Set<string> {
  const held = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    if (Number(fd) < from) continue;
    const target = (() => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return "";
      }
    })();
    if (/^(socket|pipe):/.test(target)) held.add(target);
  }
  return held;
}

/** Whether `needle` is anywhere in the readable memory of process `pid` (read as root). */
function inMemoryOf(pid: number, needle: string): boolean {
  const wanted = Buffer.from(needle);
  const memory = openSync(`/proc/${pid}/mem`, "r");
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
      const [range, perms, , , , name] = line.split(/\s+/);
      if (!range || !perms?.startsWith("r") || name === "[vvar]" || name === "[vsyscall]") continue;
      const [start, end] = range.split("-").map((h) => BigInt(`0x${h}`)) as [bigint, bigint];
      const chunk = Buffer.alloc(1 << 20);
      for (let at = start; at < end; at += BigInt(chunk.length - wanted.length)) {
        const length = Number(end - at < BigInt(chunk.length) ? end - at : BigInt(chunk.length));
        let read = 0;
        try {
          read = readSync(memory, chunk, 0, length, at);
        } catch {
          break;
        }
        if (chunk.subarray(0, read).includes(wanted)) return true;
        if (read < length) break;
      }
    }
    return false;
  } finally {
    closeSync(memory);
  }
}

test("a learner's server holds nothing of the fork server's, nor anything of another learner's", { skip: !asRoot }, async () => {
  // Servers are forked from one process that has imported the app (the class hub's spawner).
  const servers = [mallory, victim].map((learner) => ({ learner, pid: serverOf(learner.uid) }));
  const forkServer = ppid(servers[0]?.pid ?? 0);
  assert.ok(readFileSync(`/proc/${forkServer}/cmdline`, "utf8").includes("fork_server.py"), "the servers were forked");
  for (const { learner, pid } of servers) {
    // a copy that had to exec the command (its environment differs from the fork server's) would show it instead
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("fork_server.py"), `${learner.user}'s server runs the imported app`);
  }
  const forkServers = heldInodes(forkServer, 3); // 0-2 are the hub's log, which every server writes to
  assert.ok(forkServers.size > 0, "the fork server holds its socket to the hub");
  for (const { learner, pid } of servers) {
    const shared = [...heldInodes(pid)].filter((inode) => forkServers.has(inode));
    assert.deepEqual(shared, [], `${learner.user}'s server holds none of the fork server's descriptors`);
  }
  // Each server's token is nowhere in the other learner's server's memory. A forked server's
  // /proc environ is the fork server's; its kernels' is the server's own, token and all.
  const issued = (await admin.call("POST", `users/${victim.user}/tokens`, { note: "test" })).body as { token: string };
  const victimsKernel = await openKernel(new URL(`user/${victim.user}/`, url).href, issued.token);
  await victimsKernel.execute("1");
  const tokenOf = (server: number): string => {
    const kernel = processesOf(Number(readFileSync(`/proc/${server}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1])).find(
      (pid) => ppid(pid) === server,
    );
    const environ = kernel ? readFileSync(`/proc/${kernel}/environ`, "utf8").split("\0") : [];
    return environ.find((e) => e.startsWith("JUPYTERHUB_API_TOKEN="))?.slice("JUPYTERHUB_API_TOKEN=".length) ?? "";
  };
  const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const tokens = [tokenOf(a.pid), tokenOf(b.pid)];
  await victimsKernel.close();
  const [aToken = "", bToken = ""] = tokens;
  assert.ok(aToken.length >= 32 && bToken.length >= 32, "both servers' tokens were found");
  assert.ok(inMemoryOf(a.pid, aToken), "the search finds a server's own token");
  assert.equal(inMemoryOf(b.pid, aToken), false, `${b.learner.user}'s server does not hold ${a.learner.user}'s token`);
  assert.equal(inMemoryOf(a.pid, bToken), false, `${a.learner.user}'s server does not hold ${b.learner.user}'s token`);
});

test("a forked server keeps Python's own signal dispositions: a reset connection cannot kill it", { skip: !asRoot }, () => {
  // Python ignores SIGPIPE and SIGXFSZ from its start; a server that did not would die of the first write to a
  // connection its peer reset (anyone can ask for a large static file and reset the connection).
  const ignored = (pid: number): bigint =>
    BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0"}`);
  const bit = (signal: number): bigint => 1n << BigInt(signal - 1);
  for (const learner of [mallory, victim]) {
    const mask = ignored(serverOf(learner.uid));
    assert.equal(mask & bit(13), bit(13), `${learner.user}'s server ignores SIGPIPE`);
    assert.equal(mask & bit(25), bit(25), `${learner.user}'s server ignores SIGXFSZ`);
  }
});

test("the hub holds each learner's server by a pidfd, so a reused pid is never signalled", { skip: !asRoot }, () => {
  // The fork server collects a server as soon as it ends; its pid may then be given to any process.
  const hubPid = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(path.join(hub.stateDir, HUB_STATE_FILES.config));
      } catch {
        return false;
      }
    });
  assert.ok(hubPid, "the hub runs");
  const held = readdirSync(`/proc/${hubPid}/fd`).flatMap((fd) => {
    try {
      if (readlinkSync(`/proc/${hubPid}/fd/${fd}`) !== "anon_inode:[pidfd]") return [];
      return [Number(/^Pid:\s+(-?\d+)/m.exec(readFileSync(`/proc/${hubPid}/fdinfo/${fd}`, "utf8"))?.[1])];
    } catch {
      return [];
    }
  });
  for (const learner of [mallory, victim])
    assert.ok(held.includes(serverOf(learner.uid)), `a pidfd for ${learner.user}'s server: ${held.join(", ")}`);
});

test("a learner cannot read or change another learner's home, work or submissions", { skip: !asRoot }, async () => {
  const home = JSON.stringify(victim.home);
  const seen = await inMallorysKernel(`${TRY}
console.log(JSON.stringify({
  list: attempt(() => fs.readdirSync(${home})),
  read: attempt(() => fs.readFileSync(${home} + "/course/01-arrays.ipynb")),
  write: attempt(() => fs.writeFileSync(${home} + "/planted.ipynb", "{}")),
  submissions: attempt(() => fs.readdirSync(${home} + "/submissions")),
  remove: attempt(() => fs.rmSync(${home} + "/course", { recursive: true })),
}));`);
  assert.deepEqual(seen, { list: "EACCES", read: "EACCES", write: "EACCES", submissions: "EACCES", remove: "EACCES" });
});

test("a learner cannot read the class files, the logins, the hub's state or the lessons' solutions", { skip: !asRoot }, async () => {
  const q = (p: string): string => JSON.stringify(p);
  const seen = await inMallorysKernel(`${TRY}
console.log(JSON.stringify({
  classes: attempt(() => fs.readdirSync(${q(hub.classesDir)})),
  classFile: attempt(() => fs.readFileSync(${q(path.join(hub.classesDir, `${hub.className}.sqlite`))})),
  logins: attempt(() => fs.readFileSync(${q(hub.loginsFile)})),
  apiToken: attempt(() => fs.readFileSync(${q(path.join(hub.stateDir, HUB_STATE_FILES.apiToken))})),
  database: attempt(() => fs.writeFileSync(${q(path.join(hub.stateDir, HUB_STATE_FILES.database))}, "")),
  lessons: attempt(() => fs.readFileSync(${q(path.join(projectRoot, "lessons", "01-arrays.md"))})),
  instructorCopies: attempt(() => fs.readdirSync(${q(path.join(projectRoot, "build"))})),
  // the tests and the bench hold right answers too, in their sources and compiled
  benchSource: attempt(() => fs.readFileSync(${q(path.join(projectRoot, "bench", "grade.mts"))})),
  bench: attempt(() => fs.readFileSync(${q(path.join(projectRoot, "dist", "bench", "grade.mjs"))})),
  tests: attempt(() => fs.readFileSync(${q(path.join(projectRoot, "dist", "test", "grade-containment.test.js"))})),
  kit: attempt(() => fs.readFileSync(${q(path.join(projectRoot, "dist", "src", "index.js"))})),
}));`);
  assert.deepEqual(seen, {
    classes: "EACCES",
    classFile: "EACCES",
    logins: "EACCES",
    apiToken: "EACCES",
    database: "EACCES",
    lessons: "EACCES",
    instructorCopies: "EACCES",
    benchSource: "EACCES",
    bench: "EACCES",
    tests: "EACCES",
    kit: "allowed", // the helper module learners import: readable on purpose
  });
});

test("a learner cannot change what every learner's server runs: the kit's kernelspec and Jupyter config", { skip: !asRoot }, async () => {
  const q = (p: string): string => JSON.stringify(p);
  const config = kitConfigDir(SYSTEM_JUPYTER_PATH);
  const seen = await inMallorysKernel(`${TRY}
console.log(JSON.stringify({
  kernelspec: attempt(() => fs.appendFileSync(${q(kernelSpecFile(SYSTEM_JUPYTER_PATH))}, " ")),
  config: attempt(() => fs.appendFileSync(${q(path.join(config, "jupyter_notebook_config.py"))}, "\\nimport os")),
  plant: attempt(() => fs.writeFileSync(${q(path.join(config, "jupyter_config.py"))}, "import os")),
  replace: attempt(() => fs.renameSync(${q(path.join(config, "jupyter_notebook_config.py"))}, ${q(path.join(config, "moved.py"))})),
}));`);
  assert.deepEqual(seen, { kernelspec: "EACCES", config: "EACCES", plant: "EACCES", replace: "EACCES" });
});

test("a learner cannot stop or reach another learner's server", { skip: !asRoot }, async () => {
  const target = await serverTarget(victim.user);
  assert.match(target, /^http:\/\/127\.0\.0\.1:\d+$/);
  const [victimsServer] = processesOf(victim.uid);
  assert.ok(victimsServer, "the other learner's server runs");
  const hubUrl = JSON.stringify(url);
  const seen = await inMallorysKernel(`${TRY}
const token = process.env.JUPYTERHUB_API_TOKEN ?? "";
const status = (u: string, init: RequestInit = {}) => fetch(u, init).then((r) => r.status, (e) => String(e));
console.log(JSON.stringify({
  signal: attempt(() => process.kill(${victimsServer}, "SIGTERM")),
  direct: await status(${JSON.stringify(`${target}/user/${victim.user}/api/kernels`)}),
  directWithOwnToken: await status(${JSON.stringify(`${target}/user/${victim.user}/api/kernels`)}, { headers: { Authorization: "token " + token } }),
  viaProxy: await status(${hubUrl} + "user/${victim.user}/api/kernels", { headers: { Authorization: "token " + token } }),
  stopViaHub: await status(${hubUrl} + "hub/api/users/${victim.user}/server", { method: "DELETE", headers: { Authorization: "token " + token } }),
}));`);
  assert.deepEqual(seen, { signal: "EPERM", direct: 403, directWithOwnToken: 403, viaProxy: 403, stopViaHub: 403 });
  const victimModel = (await admin.call("GET", `users/${victim.user}`)).body as { servers: Record<string, { ready: boolean }> };
  assert.equal(victimModel.servers[""]?.ready, true, "the other learner's server still runs");
});

test(
  "a learner cannot hear another learner's kernel: no output channel of it listens where others can connect",
  { skip: !asRoot },
  async () => {
    // A kernel's output channel (ZeroMQ PUB) has no password: whoever connects hears every output
    // and every cell's code. Over TCP on loopback, any user finds its port in /proc/net/tcp.
    const issued = (await admin.call("POST", `users/${victim.user}/tokens`, { note: "test" })).body as { token: string };
    const victimsKernel = await openKernel(new URL(`user/${victim.user}/`, url).href, issued.token);
    try {
      assert.equal((await victimsKernel.execute("1 + 1")).text.trim(), "2", "the other learner's kernel answers, over ipc");
      const zeromq = JSON.stringify(path.join(projectRoot, "node_modules", "zeromq"));
      const listening = inMallorysKernel(`
const zmq = require(${zeromq});
const fs = require("fs");
// every socket of the other learner's that listens on TCP: their server's port, and any kernel's
const ports = fs.readFileSync("/proc/net/tcp", "utf8").split("\\n").slice(1).map((l: string) => l.trim().split(/\\s+/))
  .filter((f: string[]) => f[3] === "0A" && Number(f[7]) === ${victim.uid}).map((f: string[]) => parseInt(f[1].split(":")[1], 16));
const heard: string[] = [];
const subs = ports.map((port: number) => {
  const sub = new zmq.Subscriber({ linger: 0 });
  sub.connect("tcp://127.0.0.1:" + port);
  sub.subscribe();
  (async () => { try { for await (const frames of sub) heard.push(frames.map(String).join(" ")); } catch {} })();
  return sub;
});
await new Promise((r) => setTimeout(r, 6000));
for (const sub of subs) sub.close();
console.log(JSON.stringify({ ports: ports.length, heard: heard.join(" | ").includes("victors-secret") ? "the secret" : "nothing" }));`);
      await new Promise((resolve) => setTimeout(resolve, 2500)); // Mallory listens first
      const said = await victimsKernel.execute('console.log("victors-" + "secret")');
      assert.equal(said.text.trim(), "victors-secret", "the other learner's kernel ran the cell");
      const seen = await listening;
      assert.equal(seen["ports"], 1, "the other learner listens on TCP with their server alone: their kernel, on none");
      assert.equal(seen["heard"], "nothing", `the other learner's output was heard on one of ${seen["ports"]} ports`);
    } finally {
      await victimsKernel.close();
    }
  },
);

test("a learner's own token cannot act for another learner on the hub", { skip: !asRoot }, async () => {
  const asMallory = hubApi(url, malloryToken);
  assert.equal((await asMallory.call("POST", `users/${victim.user}/tokens`, {})).status, 403);
  assert.equal((await asMallory.call("GET", `users/${victim.user}`)).status, 404);
  assert.equal((await asMallory.call("GET", `users/${mallory.user}`)).status, 200);
});

test("a learner cannot submit as another learner, nor see or touch their submission", { skip: !asRoot }, async () => {
  const drop = dropFolderOf(hub.className);
  const real = path.join(drop, `${victim.user}+01-arrays+20261202T101500000Z.ipynb`);
  const wrote = spawnSync("runuser", [
    "-u",
    victim.user,
    "--",
    process.execPath,
    "-e",
    `require("fs").writeFileSync(${JSON.stringify(real)}, "{}", { mode: 0o600 })`,
  ]);
  assert.equal(wrote.status, 0, String(wrote.stderr));
  const forged = path.join(drop, `${victim.user}+01-arrays+20261202T235900000Z.ipynb`);
  const seen = await inMallorysKernel(`${TRY}
console.log(JSON.stringify({
  submitDir: process.env.ROLLCALL_SUBMIT_DIR ?? "",
  list: attempt(() => fs.readdirSync(${JSON.stringify(drop)})),
  read: attempt(() => fs.readFileSync(${JSON.stringify(real)})),
  overwrite: attempt(() => fs.writeFileSync(${JSON.stringify(real)}, "forged")),
  remove: attempt(() => fs.unlinkSync(${JSON.stringify(real)})),
  forge: attempt(() => fs.writeFileSync(${JSON.stringify(forged)}, "{}")),
}));`);
  // the forged file may be written (anyone may drop a file), but it is Mallory's, and collect says so
  assert.deepEqual(seen, { submitDir: drop, list: "EACCES", read: "EACCES", overwrite: "EACCES", remove: "EPERM", forge: "allowed" });
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-collected-"));
  try {
    const collected = await collect(drop, classAccounts(hub.className), "01-arrays", out);
    assert.ok(collected.ok);
    assert.deepEqual(collected.value.learners, [victim.user]);
    assert.equal(
      await readFile(path.join(out, victim.user, "01-arrays.ipynb"), "utf8"),
      "{}",
      "the victim's own submission, not the forged one",
    );
    assert.ok(collected.value.notes.some((n) => n.includes(`owned by ${mallory.user}: rejected`)));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("a cell that does not finish in time through the hub is a clear error, and the kernel goes on", { skip: !asRoot }, async () => {
  assert.ok(kernel);
  await assert.rejects(
    kernel.execute("await new Promise((r) => setTimeout(r, 4000))", 1000),
    /did not finish within 1 s \(no reply, no "idle" from the kernel\)/,
  );
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal((await kernel.execute("1 + 1")).text.trim(), "2");
});

test("--hand-out while the hub runs gives every learner the course again and keeps what a learner changed", { skip: !asRoot }, async () => {
  const mine = path.join(victim.home, "course", "01-arrays.ipynb");
  const edited = `${readFileSync(mine, "utf8").trimEnd()}\n`.replace(
    '"cells": [',
    '"cells": [{"cell_type":"markdown","id":"mine","metadata":{},"source":["my notes"]},',
  );
  writeFileSync(mine, edited);
  const run = spawnSync(
    process.execPath,
    [path.join(projectRoot, "dist", "scripts", "hub.mjs"), "--class", hub.className, "--classes", hub.classesDir, "--hand-out"],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /handed out to 2 learners/);
  assert.equal(readFileSync(mine, "utf8"), edited, "the learner's edit is kept");
});

/** The lowest port the system hands out for port 0. */
const randomPortsFrom = (): number => Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
const portOf = (target: string): number => Number(new URL(target).port);

test("each learner's server has a port of its own, which no pick of a random port can take", { skip: !asRoot }, async () => {
  // Random picks (port 0) repeat: 30 servers and their kernels starting at once were given the same port now and then.
  const ports = [portOf(await serverTarget(mallory.user)), portOf(await serverTarget(victim.user))];
  assert.equal(new Set(ports).size, 2, `two servers, two ports: ${ports.join(", ")}`);
  for (const port of ports) assert.ok(port < randomPortsFrom(), `port ${port} is below the random range (from ${randomPortsFrom()})`);
});

test("a learner's server whose port something else holds starts on another", { skip: !asRoot }, async () => {
  const before = portOf(await serverTarget(victim.user));
  assert.equal((await admin.call("DELETE", `users/${victim.user}/server`)).status < 300, true);
  for (let i = 0; i < 100 && processesOf(victim.uid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const { createServer } = await import("node:net");
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(before, "127.0.0.1", resolve));
  try {
    await startServer(admin, victim.user);
    const after = portOf(await serverTarget(victim.user));
    assert.notEqual(after, before, "not the port something else holds");
    assert.ok(after < randomPortsFrom());
    const issued = (await admin.call("POST", `users/${victim.user}/tokens`, { note: "test" })).body as { token: string };
    const status = await fetch(new URL(`user/${victim.user}/api/status`, url), { headers: { Authorization: `token ${issued.token}` } });
    assert.equal(status.status, 200, "the learner's own server answers through the proxy");
  } finally {
    squatter.close();
  }
});

test(
  "a learner who listens on another's port (even on IPv6 alone) cannot keep them from their server, nor get it",
  { skip: !asRoot },
  async () => {
    // Mallory listens on Victor's port on ::1 only, which a check of IPv4 alone lets pass; that port,
    // kept for him, refused his every start until she stopped. Now it is passed over: he starts on another.
    const port = portOf(await serverTarget(victim.user));
    assert.equal((await admin.call("DELETE", `users/${victim.user}/server`)).status < 300, true);
    for (let i = 0; i < 100 && processesOf(victim.uid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    await inMallorysKernel(`
const net = require("net");
(globalThis as any).squat = net.createServer();
await new Promise((resolve) => (globalThis as any).squat.listen({ host: "::1", port: ${port}, ipv6Only: true }, resolve));
console.log(JSON.stringify({ listening: true }));`);
    try {
      const started = await admin.call("POST", `users/${victim.user}/server`);
      assert.ok(started.status < 300, JSON.stringify(started.body));
      await startServer(admin, victim.user);
      const now = portOf(await serverTarget(victim.user));
      assert.notEqual(now, port, "not the port Mallory listens on");
      const owners = readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .slice(1)
        .map((row) => row.trim().split(/\s+/))
        .filter((f) => f[3] === "0A" && parseInt(f[1]?.split(":")[1] ?? "", 16) === now)
        .map((f) => Number(f[7]));
      assert.deepEqual([...new Set(owners)], [victim.uid], "his server's port is his own server's");
    } finally {
      await inMallorysKernel(`(globalThis as any).squat.close(); console.log(JSON.stringify({ closed: true }));`);
    }
  },
);

test("a fork server that was killed is started again for the next server", { skip: !asRoot }, async () => {
  const killed = ppid(serverOf(victim.uid));
  assert.ok(readFileSync(`/proc/${killed}/cmdline`, "utf8").includes("fork_server.py"));
  process.kill(killed, "SIGKILL");
  assert.equal((await admin.call("DELETE", `users/${victim.user}/server`)).status < 300, true);
  for (let i = 0; i < 100 && processesOf(victim.uid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await startServer(admin, victim.user);
  const again = ppid(serverOf(victim.uid));
  assert.notEqual(again, killed);
  assert.ok(readFileSync(`/proc/${again}/cmdline`, "utf8").includes("fork_server.py"), "forked by a new fork server");
});

test("Ctrl-C stops the hub, the proxy and every learner's server", { skip: !asRoot }, async () => {
  await kernel?.close();
  kernel = undefined;
  // The other learner's server was forked last, by the fork server running now (the test before killed the first).
  const forkServer = ppid(serverOf(victim.uid));
  assert.ok(readFileSync(`/proc/${forkServer}/cmdline`, "utf8").includes("fork_server.py"));
  const code = await hub.interrupt();
  assert.equal(code, 0);
  // Ended: gone, or a zombie its new parent has yet to collect.
  const running = (): boolean =>
    / [^Z] /.test(/\) \S /.exec(existsSync(`/proc/${forkServer}/stat`) ? readFileSync(`/proc/${forkServer}/stat`, "utf8") : "")?.[0] ?? "");
  for (let i = 0; i < 50 && running(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!running(), "the fork server has ended with the hub");
  // Running ones: a server whose fork server was killed (the test before) is an orphan, and the
  // system's init may take a while to collect it once it has ended (a zombie, state Z).
  const described = (uid: number): string[] =>
    processesOf(uid).flatMap((pid) => {
      try {
        if (/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return [];
        return [`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 120)}`];
      } catch {
        return [];
      }
    });
  assert.deepEqual(described(mallory.uid), [], "none of the first learner's processes is left");
  assert.deepEqual(described(victim.uid), [], "none of the second learner's processes is left");
  const port = new URL(url).port;
  const { execFileSync } = await import("node:child_process");
  const left = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(hub.stateDir) || (line.includes("configurable-http-proxy") && line.includes(`--port ${port}`)));
  assert.deepEqual(left, []);
});

test(
  "--remove keeps the submissions out of reach: an account that gets the same uid later is not credited with them",
  { skip: !asRoot },
  async () => {
    const c = await hubClass("rm");
    try {
      await c.addLearners([{ name: "Sam", email: `sam${process.pid}@one.org` }]);
      const plan = await planHub({
        className: c.className,
        classesDir: c.classesDir,
        ip: "127.0.0.1",
        port: await freePort(),
        admin: "root",
        projectRoot,
      });
      assert.ok(plan.ok);
      const [hubPort, proxyApiPort] = (await freePorts(2)) as [number, number];
      await setUpHub(plan.value, { hubPort, proxyApiPort });
      const [sam] = c.accounts();
      assert.ok(sam);
      const handedIn = `${sam.user}+01-arrays+20261202T101500000Z.ipynb`;
      const wrote = spawnSync("runuser", [
        "-u",
        sam.user,
        "--",
        process.execPath,
        "-e",
        `require("fs").writeFileSync(${JSON.stringify(path.join(dropFolderOf(c.className), handedIn))}, '{"old":true}', { mode: 0o600 })`,
      ]);
      assert.equal(wrote.status, 0, String(wrote.stderr));
      const linked = spawnSync("runuser", [
        "-u",
        sam.user,
        "--",
        "ln",
        "-s",
        "/etc/shadow",
        path.join(dropFolderOf(c.className), "shadow.ipynb"),
      ]);
      assert.equal(linked.status, 0, String(linked.stderr));
      const removed = spawnSync(
        process.execPath,
        [path.join(projectRoot, "dist", "scripts", "hub.mjs"), "--class", c.className, "--classes", c.classesDir, "--remove"],
        { encoding: "utf8" },
      );
      assert.equal(removed.status, 0, removed.stderr);
      // next term: the class again, and another Sam whose account gets the freed uid (and the same name)
      const made = spawnSync("useradd", ["--uid", String(sam.uid), "--create-home", "--comment", accountMarker(c.className), sam.user]);
      assert.equal(made.status, 0, String(made.stderr));
      const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-collected-"));
      try {
        const collected = await collect(await makeDropFolder(c.className), classAccounts(c.className), "01-arrays", out);
        assert.ok(collected.ok);
        assert.deepEqual(collected.value.learners, [], "the old Sam's submission is not the new Sam's");
      } finally {
        await rm(out, { recursive: true, force: true });
      }
      assert.match(removed.stdout, /left out what collect would not take either: shadow\.ipynb \(it is a link\)/);
      const folder = /kept the class's 1 submissions in (\S+)/.exec(removed.stdout)?.[1] ?? "";
      assert.ok(folder.startsWith(path.join(c.classesDir, `${c.className}-removed-`)), removed.stdout);
      const kept = path.join(folder, sam.user, handedIn);
      assert.equal(readFileSync(kept, "utf8"), '{"old":true}', "nothing is lost");
      assert.equal(lstatSync(kept).uid, 0, "the kept file is root's");
      assert.equal(lstatSync(kept).mode & 0o777, 0o600);
      assert.equal(lstatSync(folder).mode & 0o777, 0o700);
      assert.match(readFileSync(path.join(path.dirname(folder), "submissions.csv"), "utf8"), new RegExp(`${sam.user},${sam.uid},`));
      const again = await mkdtemp(path.join(os.tmpdir(), "rollcall-collected-"));
      try {
        const fromKept = await collectFolders(folder, "01-arrays", again);
        assert.ok(fromKept.ok);
        assert.deepEqual(fromKept.value.learners, [sam.user], "the instructor can still collect them, as the old Sam's");
      } finally {
        await rm(again, { recursive: true, force: true });
      }
    } finally {
      await c.dispose();
    }
  },
);
