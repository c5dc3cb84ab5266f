/** Kernel snapshots: the same results as plain tslab, interrupts still work, and a stale or foreign snapshot is never trusted. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { probe, firstChange, probeAll } from "../src/engine/file-probes.js";
import { JupyterKernel } from "../src/engine/jupyter-kernel.js";
import { tslabCommand, type KernelCommand } from "../src/engine/kernel.js";
import { executeNotebookFile } from "../src/engine/execute-file.js";
import { ensureKernelSnapshot, findKernelSnapshot, kernelCommandFor, manifestFile, removeKernelSnapshot, SNAPSHOT_SWITCH } from "../src/engine/kernel-snapshot.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { instructorDir, projectRoot } from "../src/engine/paths.js";
import { runNotebook } from "../src/engine/run.js";
import { allLessons, codeOutputs, notebookOf, writeInstructorCopy } from "./support/notebooks.js";

const LIMIT = { timeout: 180_000 };

const temporary: string[] = [];
async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-snapshot-"));
  temporary.push(folder);
  return folder;
}
after(() => Promise.all(temporary.map((folder) => rm(folder, { recursive: true, force: true }))));

async function withKernel<T>(argv: readonly string[], cwd: string, work: (kernel: JupyterKernel) => Promise<T>): Promise<T> {
  const kernel = await JupyterKernel.start({ ...tslabCommand(projectRoot), argv }, { cwd });
  try {
    return await work(kernel);
  } finally {
    await kernel.stop();
  }
}

test("file probes see a file edited and a folder created", async () => {
  const folder = await tempFolder();
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

/** Builds (or reuses) the snapshot for `cwd`, or fails the test saying why. */
async function snapshotFor(cwd: string): Promise<string> {
  const built = await ensureKernelSnapshot(cwd);
  assert.ok(built.ok && built.value, JSON.stringify(built));
  return built.value;
}

const isSnapshotCommand = (command: KernelCommand): boolean => command.argv.includes("--snapshot-blob");

test("a kernel started from a snapshot gives what plain tslab gives: a lesson, errors with their stacks, the runtime", LIMIT, async () => {
  const lesson = (await allLessons()).find((l) => l.id === "01-arrays");
  assert.ok(lesson);
  const { built } = await writeInstructorCopy(lesson);
  const exit7 = path.join(await tempFolder(), "exit-7.js"); // a child for fork(), which passes the kernel's execArgv on
  await writeFile(exit7, "process.exit(7);\n");
  const blob = await snapshotFor(instructorDir);
  const fast = kernelCommandFor(instructorDir);
  assert.ok(fast.argv.includes(blob) && fast.fallback, JSON.stringify(fast));
  const probe = notebookOf(
    'throw new Error("boom")',
    "function f(): number { return (null as any).x; } f()",
    'import { openDatabase } from "rollcall"; const db = await openDatabase(); db.run("SELEC 1")',
    'new Error("where").stack.split("\\n").length',
    "[Error.stackTraceLimit, process.cwd(), typeof require, Intl.DateTimeFormat().resolvedOptions().timeZone, Object.keys(globalThis).join()]",
    "[process.execArgv, process.argv.slice(1, 3)]",
    "warmUpNumbers.length // compiled while the snapshot was made: must be unknown here",
    `const { fork } = require("child_process"); await new Promise((done) => fork(${JSON.stringify(exit7)}).on("exit", done))`,
  );
  for (const notebook of [built.instructor, probe]) {
    const runs = [];
    for (const command of [fast, tslabCommand(projectRoot)]) {
      runs.push(await withKernel(command.argv, instructorDir, (k) => runNotebook(notebook, k, { timeoutMs: 60_000, stopOnError: false })));
    }
    const [fromSnapshot, plain] = runs;
    assert.deepEqual(fromSnapshot?.cells.map((c) => c.status), plain?.cells.map((c) => c.status));
    assert.deepEqual(codeOutputs(fromSnapshot!.notebook), codeOutputs(plain!.notebook));
  }
});

test("a snapshot kernel still stops an endless loop and carries on", LIMIT, async () => {
  await snapshotFor(instructorDir);
  const { cells } = await withKernel(kernelCommandFor(instructorDir).argv, instructorDir, (k) =>
    runNotebook(notebookOf("let n = 1;", "while (true) { n++; }", "n > 1"), k, { timeoutMs: 1500, stopOnError: false }));
  assert.deepEqual(cells.map((c) => c.status), ["ok", "timeout", "ok"]);
});

test("a stale snapshot is noticed: the kernel builds TypeScript's program afresh and sees the new types", LIMIT, async () => {
  const folder = await tempFolder();
  try {
    await snapshotFor(folder);
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
    assert.ok(isSnapshotCommand(command), "a stale snapshot still saves loading TypeScript");
    const after = await withKernel(command.argv, folder, (k) => runNotebook(usesExtra, k));
    assert.equal(after.cells[0]?.status, "ok", JSON.stringify(after.notebook.cells[0]));

    // The same snapshot in another folder: the kernel builds for that folder instead.
    const elsewhere = await tempFolder();
    const moved = await withKernel(command.argv, elsewhere, (k) => runNotebook(notebookOf("const m: number = 2; m"), k));
    assert.deepEqual(codeOutputs(moved.notebook), [[{ output_type: "stream", name: "stdout", text: "2\n" }]]);
  } finally {
    await removeKernelSnapshot(folder);
  }
});

test("a snapshot kernel watches the folder as tslab does: a file created after a failed import is noticed", LIMIT, async () => {
  const folder = await tempFolder();
  try {
    await snapshotFor(folder);
    const outcome = async (command: KernelCommand, file: string): Promise<string[]> => withKernel(command.argv, folder, async (k) => {
      const first = await k.execute(`import { twice } from "./${file}"; twice(2)`);
      await writeFile(path.join(folder, `${file}.ts`), "export function twice(n: number): number { return 2 * n; }\n");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const second = await k.execute(`import { twice } from "./${file}"; twice(2)`);
      return [first, second].map((e) => `${e.status}: ${e.outputs.map((o) => (o.output_type === "stream" ? o.text.split("\n")[0] : o.output_type)).join(" ")}`);
    });
    const fromSnapshot = await outcome(kernelCommandFor(folder), "fromsnapshot");
    const plain = await outcome(tslabCommand(projectRoot), "plain");
    assert.match(fromSnapshot[0] ?? "", /Cannot find module '\.\/fromsnapshot'/);
    // tslab 1.0.22 reacts to the new file with its own "pending rebuildTimer" error; what matters is that both kernels react alike.
    assert.deepEqual(fromSnapshot.map((l) => l.replace("fromsnapshot", "X")), plain.map((l) => l.replace("plain", "X")));
    assert.doesNotMatch(fromSnapshot[1] ?? "", /Cannot find module/, "the new file was noticed");
  } finally {
    await removeKernelSnapshot(folder);
  }
});

test("a snapshot made by another Node, with other NODE_OPTIONS, from other code, or damaged, is not used", LIMIT, async () => {
  const folder = await tempFolder();
  const manifestPath = manifestFile(folder);
  const rewrite = async (change: (m: Record<string, any>) => void): Promise<void> => {
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<string, any>;
    change(manifest);
    await writeFile(manifestPath, JSON.stringify(manifest));
  };
  const refusedBecause = (pattern: RegExp): void => {
    const found = findKernelSnapshot(folder);
    assert.ok(!found.usable && pattern.test(found.why), JSON.stringify(found));
    assert.deepEqual(kernelCommandFor(folder), tslabCommand(projectRoot));
  };
  try {
    await snapshotFor(folder);
    await rewrite((m) => { m.node.version = "v99.0.0"; });
    refusedBecause(/was made by another Node \(v99\.0\.0/);
    await snapshotFor(folder);
    await rewrite((m) => { m.node.options = "--max-old-space-size=4096"; });
    refusedBecause(/was made with NODE_OPTIONS="--max-old-space-size=4096", not "/);
    await snapshotFor(folder);
    await rewrite((m) => { const [first] = Object.keys(m.code); m.code[first!] = "file:1:2"; });
    refusedBecause(/holds code that has changed since/);
    await writeFile(manifestPath, JSON.stringify({ cwd: folder }));
    refusedBecause(/no kernel snapshot/);
    await rewrite((m) => { Object.assign(m, { format: 2, blob: "x.blob", blobBytes: 1, node: null, code: {}, probes: {} }); });
    refusedBecause(/no kernel snapshot/);
    await writeFile(manifestPath, "{ not json");
    refusedBecause(/no kernel snapshot/);

    // A damaged blob: cut short, it is not used; garbled, Node refuses it and the runner starts tslab plainly, saying so.
    const blob = await snapshotFor(folder);
    const bytes = await readFile(blob);
    await writeFile(blob, bytes.subarray(0, 1000));
    refusedBecause(/has lost its blob/);
    await writeFile(blob, Buffer.alloc(bytes.length, 7));
    assert.ok(isSnapshotCommand(kernelCommandFor(folder)));
    const file = path.join(folder, "sum.ipynb");
    await writeFile(file, serializeNotebook(notebookOf("1 + 1")));
    const notes: string[] = [];
    const result = await executeNotebookFile(file, { onNote: (n) => notes.push(n) });
    assert.ok(result.ok && result.value.cells[0]?.status === "ok", JSON.stringify(result));
    assert.match(notes.join(), /(exited with code \d+|was stopped by SIG\w+).*; starting tslab the usual way instead/);
  } finally {
    await removeKernelSnapshot(folder);
  }
});

test("ROLLCALL_KERNEL_SNAPSHOT=off starts kernels plainly and builds nothing", async () => {
  const saved = process.env[SNAPSHOT_SWITCH];
  process.env[SNAPSHOT_SWITCH] = "off";
  try {
    assert.deepEqual(kernelCommandFor(instructorDir), tslabCommand(projectRoot));
    assert.deepEqual(await ensureKernelSnapshot(instructorDir, () => assert.fail("built a snapshot")), { ok: true, value: undefined });
  } finally {
    if (saved === undefined) delete process.env[SNAPSHOT_SWITCH];
    else process.env[SNAPSHOT_SWITCH] = saved;
  }
});
