/**
 * The spawner's port pick (hub-spawner/class_spawner.py) under a learner who listens on
 * hundreds of ports: the pick runs inside the hub's event loop, so everyone's log-in and
 * start waits on it. It must read the kernel's socket tables once, not once per port it tries.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { projectRoot } from "../src/engine/paths.js";

const PICK = `
import builtins, json, socket, sys
sys.path.insert(0, sys.argv[1])
import class_spawner as cs
held = []
for port in range(cs.PORTS_FROM, cs.PORTS_FROM + 300):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
        held.append(s)
    except OSError:
        s.close()
reads = 0
real_open = builtins.open
def counting_open(file, *args, **kwargs):
    global reads
    if str(file).startswith("/proc/net/"):
        reads += 1
    return real_open(file, *args, **kwargs)
builtins.open = counting_open
ports = cs.ServerPorts(set())
ports.pick.randrange = lambda size: 0  # the scan starts at the listened ports
port = ports.port_for("rc-ada")
print(json.dumps({"reads": reads, "port": port, "held": [s.getsockname()[1] for s in held]}))
`;

test("a learner listening on 300 ports makes the port pick read the socket tables once, and pass all 300 over", () => {
  const ran = spawnSync("/usr/bin/python3", ["-c", PICK, path.join(projectRoot, "src", "engine", "hub-spawner")], { encoding: "utf8" });
  assert.equal(ran.status, 0, ran.stderr);
  const { reads, port, held } = JSON.parse(ran.stdout) as { reads: number; port: number; held: number[] };
  assert.ok(held.length > 250, `the test held ${held.length} ports`);
  assert.ok(!held.includes(port), `port ${port} is one something listens on`);
  assert.ok(reads <= 2, `the tables (tcp, tcp6) were read ${reads} times for one pick`);
});
