/**
 * The kit's Jupyter client starting a kernel (src/engine/kernel-client.ts): a kernel
 * that loses the first kernel_info_request it is sent, as one can while it starts on a
 * loaded machine, is asked again and starts; it used to wait for that one answer until
 * its start timed out. A kernel holds the ports chosen for it (free-ports.ts) while it lives.
 * A kernel that could not bind a port it was given is started again on others.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { JupyterKernel, couldNotBind } from "../src/engine/kernel-client.js";
import { portIsHeld } from "../src/engine/free-ports.js";
import { tslabCommand } from "../src/engine/kernel-seam.js";
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

test("a kernel that could not bind a port it was given is started again on others", { timeout: 60_000 }, async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-bind-"));
  const marker = path.join(folder, "failed-once");
  const fixture = path.join(projectRoot, "test", "fixtures", "kernels", "fails-first-bind.cjs");
  try {
    const kernel = await JupyterKernel.start(
      { name: "fails-first-bind", argv: [process.execPath, fixture, "{connection_file}", marker], abortWindowMs: 0 },
      { cwd: projectRoot, startTimeoutMs: 15_000 },
    );
    await kernel.stop();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test("only a bind error naming one of the kernel's own ports counts as a port taken", () => {
  const said = (port: number): string[] => [
    "UnhandledPromiseRejection: [Error: Socket is busy] {",
    "  code: 'EBUSY',",
    `  address: 'tcp://127.0.0.1:${port}'`,
  ];
  assert.equal(couldNotBind(said(5001), [5000, 5001]), true);
  assert.equal(couldNotBind(said(6001), [5000, 5001]), false, "another address (a learner's own socket, say) is no port of the kernel's");
  assert.equal(couldNotBind(["Error: Address already in use"], [5000]), true);
  assert.equal(couldNotBind(["SyntaxError: Unexpected token"], [5000]), false);
});

test(
  "a cell sent while the kernel waits out an error, to a kernel stopped meanwhile, ends as died instead of waiting forever",
  { timeout: 60_000 },
  async () => {
    // an abort window long enough that the stop always lands inside it, however loaded the machine
    const kernel = await JupyterKernel.start({ ...tslabCommand(projectRoot), abortWindowMs: 5000 }, { cwd: projectRoot });
    try {
      assert.equal((await kernel.execute(`throw new Error("on purpose")`)).status, "error");
      const next = kernel.execute("1 + 1"); // waits out the abort window first
      await kernel.stop();
      const ended = await Promise.race([next, new Promise((resolve) => setTimeout(() => resolve("still waiting"), 10_000))]);
      assert.equal((ended as { status?: string }).status, "died", String(ended));
    } finally {
      await kernel.stop();
    }
  },
);
