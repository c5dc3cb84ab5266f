/**
 * Free loopback ports (src/engine/free-ports.ts): a port handed out is not handed out
 * again until it is given back, and never one promised elsewhere. A hub's own port and
 * its proxy's were once chosen apart and came out the same as another's, so JupyterHub
 * asked a server that was not its proxy's API and stopped.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { freePorts, givePortsBack, portIsHeld } from "../src/engine/free-ports.js";

/** Where the system chooses a port bound to 0. */
const [LOW = 32768, HIGH = 60999] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);

test("a port chosen is not chosen again until it is given back", async () => {
  // 3,000 ports, chosen one kernel's five at a time: the system hands out a just-closed port
  // again, so without the held ports some of 3,000 picks repeat (seen on the old code)
  const chosen: number[][] = [];
  for (let i = 0; i < 600; i++) chosen.push(await freePorts(5)); // one after another, as kernels start
  const all = chosen.flat();
  try {
    assert.equal(new Set(all).size, all.length, "a port was chosen twice");
    assert.ok(all.every(portIsHeld));
  } finally {
    for (const ports of chosen) givePortsBack(ports);
  }
  assert.ok(!all.some(portIsHeld), "a port given back is still held");
});

test("a port promised elsewhere (the hub's public port, say) is never chosen", async () => {
  // three ports in four of the system's range are promised: a choice blind to them lands there most times
  const besides: number[] = [];
  for (let port = LOW; port <= HIGH; port++) if (port % 4 !== 0) besides.push(port);
  const chosen: number[][] = [];
  for (let i = 0; i < 50; i++) chosen.push(await freePorts(2, besides));
  try {
    const promised = new Set(besides);
    assert.deepEqual(
      chosen.flat().filter((port) => promised.has(port)),
      [],
    );
    assert.ok(chosen.every(([a, b]) => a !== b));
  } finally {
    for (const ports of chosen) givePortsBack(ports);
  }
});
