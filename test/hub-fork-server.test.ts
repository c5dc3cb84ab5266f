/**
 * The class hub's fork server on its own (root): what a server forked from it runs as.
 * A driver plays the hub: it carries extra groups, as a root shell may, and asks for
 * commands other than the single-user app, which the fork server execs once it has
 * become the learner, so their output says what the server would have been.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { projectRoot } from "../src/engine/paths.js";

const asRoot = process.getuid?.() === 0;
const hasHub = existsSync("/usr/bin/jupyterhub-singleuser");
const skip = !asRoot || !hasHub ? "needs root and Debian's jupyterhub" : false;
const learner = `rc-fork${process.pid % 100_000}`;
const forkServer = path.join(projectRoot, "src", "engine", "hub-spawner", "fork_server.py");

before(() => {
  if (skip) return;
  const made = spawnSync("useradd", ["--create-home", "--shell", "/usr/sbin/nologin", learner], { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
});

after(() => {
  if (!skip) spawnSync("userdel", ["--remove", learner], { encoding: "utf8" });
});

/** Runs the fork server under a driver with root's groups 0 and 4, asks it for each request in turn, and returns what the commands printed. */
function ask(requests: readonly { user: string; argv: string[]; env: Record<string, string> }[]): { replies: string[]; printed: string } {
  const driver = `
import json, os, socket, subprocess, sys
os.setgroups([0, 4])
mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
server = subprocess.Popen([sys.executable, "-s", ${JSON.stringify(forkServer)}, "/usr/bin/jupyterhub-singleuser", str(theirs.fileno())],
    pass_fds=[theirs.fileno()], stdout=subprocess.PIPE, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
theirs.close()
assert mine.recv(64) == b"ready"
replies = []
for number, request in enumerate(json.loads(sys.argv[1]), 1):
    read, write = os.pipe()
    socket.send_fds(mine, [str(number).encode()], [read])
    os.close(read)
    message, fds, _, _ = socket.recv_fds(mine, 64, 1)
    said, _, pid = message.decode().partition(" ")
    assert said == str(number), (said, number)
    for fd in fds:
        assert os.readlink("/proc/self/fd/%d" % fd) == "anon_inode:[pidfd]"
        os.close(fd)
    with os.fdopen(write, "wb") as f:
        f.write(json.dumps(request).encode())
    replies.append(pid)
import time; time.sleep(1.5)
mine.close()
printed = server.stdout.read().decode()
server.wait(10)
print(json.dumps({"replies": replies, "printed": printed}))
`;
  const run = spawnSync("/usr/bin/python3", ["-c", driver, JSON.stringify(requests)], { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { replies: string[]; printed: string };
}

test(
  "a forked server runs as the learner, with the learner's groups only, in their home, with the hub's environment only",
  { skip },
  () => {
    const { replies, printed } = ask([
      {
        user: learner,
        argv: ["/bin/sh", "-c", 'echo "id=$(id)"; echo "cwd=$(pwd)"; env | sort'],
        env: { PATH: "/usr/bin:/bin", ONLY: "this" },
      },
    ]);
    assert.ok(
      replies.every((r) => /^\d+$/.test(r)),
      `the request got a pid: ${replies.join(", ")}`,
    );
    const lines = printed.trim().split("\n");
    const id = spawnSync("id", [learner], { encoding: "utf8" }).stdout.trim();
    assert.ok(lines.includes(`id=${id}`), `the server is ${id}, without root's groups:\n${printed}`);
    assert.doesNotMatch(printed, /groups=.*\b(0\(root\)|4\(adm\))/);
    const home = spawnSync("getent", ["passwd", learner], { encoding: "utf8" }).stdout.split(":")[5];
    assert.ok(lines.includes(`cwd=${home}`), printed);
    const env = lines.filter((line) => !/^(id|cwd|PWD|SHLVL|_)=/.test(line));
    assert.deepEqual(env, ["ONLY=this", "PATH=/usr/bin:/bin"], "the environment the hub gave, and nothing of the fork server's");
  },
);

test("the fork server never starts a server as root, and goes on after a bad request", { skip }, () => {
  const { replies, printed } = ask([
    { user: "root", argv: ["/bin/echo", "ran as root"], env: {} },
    { user: "no-such-user-here", argv: ["/bin/echo", "ran as nobody known"], env: {} },
    { user: learner, argv: ["/bin/echo", "ran as the learner"], env: {} },
  ]);
  assert.equal(replies.length, 3);
  assert.doesNotMatch(printed, /ran as root|ran as nobody known/);
  assert.match(printed, /ran as the learner/);
});
