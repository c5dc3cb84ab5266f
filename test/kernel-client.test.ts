/**
 * The kit's Jupyter client starting a kernel (src/engine/kernel-client.ts): a kernel
 * that loses the first kernel_info_request it is sent, as one can while it starts on a
 * loaded machine, is asked again and starts; it used to wait for that one answer until
 * its start timed out. And the ports it chooses for kernels are never chosen twice
 * while a kernel holds them: thirty kernels starting at once were given the same port.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { JupyterKernel, freePorts, givePortsBack, portIsHeld } from "../src/engine/kernel-client.js";
import { projectRoot } from "../src/engine/paths.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "kernels", "drops-first-kernel-info.cjs");

test("a kernel that lost its first kernel_info request is asked again, and starts", { timeout: 60_000 }, async () => {
  const kernel = await JupyterKernel.start(
    { name: "drops-first-kernel-info", argv: [process.execPath, FIXTURE, "{connection_file}"], abortWindowMs: 0 },
    { cwd: projectRoot, startTimeoutMs: 15_000 },
  );
  try {
    assert.equal(kernel.languageInfo?.["name"], "fake");
  } finally {
    await kernel.stop();
  }
});

test("a port chosen for a kernel is not chosen again until the kernel gives it back", async () => {
  // 3,000 ports, chosen one kernel's five at a time: the system hands out a just-closed port
  // again, so without the held ports some of 3,000 picks repeat (seen on the old code)
  const chosen: number[][] = [];
  for (let i = 0; i < 600; i++) chosen.push(await freePorts(5)); // one after another, as kernels start
  const all = chosen.flat();
  try {
    assert.equal(new Set(all).size, all.length, "a port was chosen twice");
  } finally {
    for (const ports of chosen) givePortsBack(ports);
  }
});

test("a kernel holds its ports while it lives, and gives them back when it stops", { timeout: 60_000 }, async () => {
  const kernel = await JupyterKernel.start(
    { name: "drops-first-kernel-info", argv: [process.execPath, FIXTURE, "{connection_file}"], abortWindowMs: 0 },
    { cwd: projectRoot, startTimeoutMs: 15_000 },
  );
  const ports = (kernel as unknown as { ports: readonly number[] }).ports;
  assert.equal(ports.length, 5);
  assert.ok(ports.every(portIsHeld), "a live kernel's port is not held");
  await kernel.stop();
  assert.ok(!ports.some(portIsHeld), "a stopped kernel's port is still held");
});
