/** Kernel snapshots: the same results as plain tslab, interrupts still work, and a stale or foreign snapshot is never trusted. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { probe, firstChange, probeAll } from "../src/engine/file-probes.js";
import { JupyterKernel } from "../src/engine/jupyter-kernel.js";
import { tslabCommand } from "../src/engine/kernel.js";
import { executeNotebookFile } from "../src/engine/execute-file.js";
import { ensureKernelSnapshot, findKernelSnapshot, kernelCommandFor, removeKernelSnapshot, startsFromSnapshot } from "../src/engine/kernel-snapshot.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { instructorDir, projectRoot } from "../src/engine/paths.js";
import { runNotebook } from "../src/engine/run.js";
import { allLessons, codeOutputs, notebookOf, writeInstructorCopy } from "./support/notebooks.js";

const LIMIT = { timeout: 180_000 };

async function withKernel<T>(argv: readonly string[], cwd: string, work: (kernel: JupyterKernel) => Promise<T>): Promise<T> {
  const kernel = await JupyterKernel.start({ ...tslabCommand(projectRoot), argv }, { cwd });
  try {
    return await work(kernel);
  } finally {
    await kernel.stop();
  }
}

test("file probes see a file edited and a folder created", async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-probes-"));
  const file = path.join(folder, "a.d.ts");
  await writeFile(file, "declare const A: number;");
  const probes = probeAll([file, path.join(folder, "node_modules")]);
  assert.match(probes[file] ?? "", /^file:24:/);
  assert.equal(firstChange(probes), undefined);
  await mkdir(path.join(folder, "node_modules"));
  assert.equal(firstChange(probes), path.join(folder, "node_modules"));
  await writeFile(file, "declare const A: string;");
  assert.notEqual(probe(file), probes[file]);
});

test("a kernel started from a snapshot runs the 01-arrays lesson exactly as plain tslab does", LIMIT, async () => {
  const lesson = (await allLessons()).find((l) => l.id === "01-arrays");
  assert.ok(lesson);
  const { built } = await writeInstructorCopy(lesson);
  const snapshot = await ensureKernelSnapshot(instructorDir);
  assert.ok(snapshot.ok, JSON.stringify(!snapshot.ok && snapshot.problems));
  const fast = kernelCommandFor(instructorDir);
  assert.ok(startsFromSnapshot(fast) && fast.argv.includes(snapshot.value));
  const fromSnapshot = await withKernel(fast.argv, instructorDir, (k) => runNotebook(built.instructor, k, { timeoutMs: 60_000 }));
  const plain = await withKernel(tslabCommand(projectRoot).argv, instructorDir, (k) => runNotebook(built.instructor, k, { timeoutMs: 60_000 }));
  assert.deepEqual(fromSnapshot.cells.map((c) => c.status), plain.cells.map((c) => c.status));
  assert.ok(plain.cells.every((c) => c.status === "ok"));
  assert.deepEqual(codeOutputs(fromSnapshot.notebook), codeOutputs(plain.notebook));
});

test("a snapshot kernel still stops an endless loop and carries on", LIMIT, async () => {
  assert.ok((await ensureKernelSnapshot(instructorDir)).ok);
  const { cells } = await withKernel(kernelCommandFor(instructorDir).argv, instructorDir, (k) =>
    runNotebook(notebookOf("let n = 1;", "while (true) { n++; }", "n > 1"), k, { timeoutMs: 1500, stopOnError: false }));
  assert.deepEqual(cells.map((c) => c.status), ["ok", "timeout", "ok"]);
});

test("a stale snapshot is noticed: the kernel builds TypeScript's program afresh and sees the new types", LIMIT, async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-snapshot-"));
  try {
    assert.ok((await ensureKernelSnapshot(folder)).ok);
    const usesExtra = notebookOf("const n: typeof EXTRA = 1; n");
    const before = await withKernel(kernelCommandFor(folder).argv, folder, (k) => runNotebook(usesExtra, k));
    assert.equal(before.cells[0]?.status, "error", "EXTRA is not declared yet");

    // A new @types package appears, as after `npm install @types/…`.
    const types = path.join(folder, "node_modules", "@types", "extra");
    await mkdir(types, { recursive: true });
    await writeFile(path.join(types, "package.json"), JSON.stringify({ name: "@types/extra", version: "1.0.0", types: "index.d.ts" }));
    await writeFile(path.join(types, "index.d.ts"), "declare const EXTRA: number;\n");
    const found = findKernelSnapshot(folder);
    assert.ok(found.usable && found.stale?.startsWith(path.join(folder, "node_modules")), JSON.stringify(found));
    const command = kernelCommandFor(folder);
    assert.ok(startsFromSnapshot(command), "a stale snapshot still saves loading TypeScript");
    const after = await withKernel(command.argv, folder, (k) => runNotebook(usesExtra, k));
    assert.equal(after.cells[0]?.status, "ok", JSON.stringify(after.notebook.cells[0]));

    // The same snapshot in another folder: the kernel builds for that folder instead.
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), "rollcall-snapshot-elsewhere-"));
    const moved = await withKernel(command.argv, elsewhere, (k) => runNotebook(notebookOf("const m: number = 2; m"), k));
    assert.deepEqual(codeOutputs(moved.notebook), [[{ output_type: "stream", name: "stdout", text: "2\n" }]]);
  } finally {
    await removeKernelSnapshot(folder);
  }
});

test("a snapshot made by another Node, for another tslab, or damaged is not used", LIMIT, async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-snapshot-"));
  try {
    const built = await ensureKernelSnapshot(folder);
    assert.ok(built.ok);
    const manifestFile = built.value.replace(/\.blob$/, ".json");
    const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as { node: { version: string }; tslab: string };
    await writeFile(manifestFile, JSON.stringify({ ...manifest, node: { ...manifest.node, version: "v99.0.0" } }));
    const foreign = findKernelSnapshot(folder);
    assert.ok(!foreign.usable && /another Node \(v99\.0\.0/.test(foreign.why), JSON.stringify(foreign));
    assert.deepEqual(kernelCommandFor(folder).argv, tslabCommand(projectRoot).argv);
    await writeFile(manifestFile, JSON.stringify({ ...manifest, tslab: "0.0.1" }));
    assert.ok(!findKernelSnapshot(folder).usable);
    const rebuilt = await ensureKernelSnapshot(folder, (why) => assert.match(why, /tslab 0\.0\.1/));
    assert.ok(rebuilt.ok && findKernelSnapshot(folder).usable);

    // A damaged blob: cut short, it is not used; garbled, Node refuses it and the runner starts tslab plainly.
    const blob = await readFile(rebuilt.value);
    await writeFile(rebuilt.value, blob.subarray(0, 1000));
    assert.ok(!findKernelSnapshot(folder).usable);
    await writeFile(rebuilt.value, Buffer.alloc(blob.length, 7));
    assert.ok(startsFromSnapshot(kernelCommandFor(folder)));
    const file = path.join(folder, "sum.ipynb");
    await writeFile(file, serializeNotebook(notebookOf("1 + 1")));
    const result = await executeNotebookFile(file);
    assert.ok(result.ok && result.value.cells[0]?.status === "ok", JSON.stringify(result));
  } finally {
    await removeKernelSnapshot(folder);
  }
});
