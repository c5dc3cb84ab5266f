/**
 * The kit's Jupyter client starting a kernel (src/engine/kernel-client.ts): a kernel
 * that loses the first kernel_info_request it is sent, as one can while it starts on a
 * loaded machine, is asked again and starts; it used to wait for that one answer until
 * its start timed out.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { JupyterKernel } from "../src/engine/kernel-client.js";
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
