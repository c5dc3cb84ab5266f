/**
 * The kit's kernel starts tslab from a V8 snapshot with the compiler loaded and the
 * declaration files parsed (src/engine/tslab-snapshot.ts). It must be faster and
 * never different: the same outputs as plain tslab, and a declaration file that
 * changed since the snapshot was made is read as it is now.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { type AddressInfo, createServer } from "node:net";
import { connectionText, couldNotBind, JupyterKernel } from "../src/engine/kernel-client.js";
import { freePorts } from "../src/engine/free-ports.js";
import { exitWithin } from "./support/browser.js";
import { tslabCommand, type KernelCommand } from "../src/engine/kernel-seam.js";
import { notebooksDir, projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { buildSnapshot, ensureTslabSnapshot, KERNEL_V8_FLAGS, kitKernelCommand, snapshotFile } from "../src/engine/tslab-snapshot.js";

const scratch = mkdtemp(path.join(os.tmpdir(), "rollcall-snapshot-test-"));
after(async () => rm(await scratch, { recursive: true, force: true }));

/** What a cell showed, without the parts that differ from run to run. */
const shown = (outputs: readonly unknown[]): string => JSON.stringify(outputs).replace(/\d+(\.\d+)? ?ms/g, "N ms");

/** Starts a kernel of `command` in `cwd`, gives it to `use`, and stops it whatever happens. */
async function withKernel<T>(command: KernelCommand, cwd: string, use: (kernel: JupyterKernel) => Promise<T>): Promise<T> {
  const kernel = await JupyterKernel.start(command, { cwd });
  try {
    return await use(kernel);
  } finally {
    await kernel.stop();
  }
}

/** The snapshot's own counters, read from a cell of a kernel started from it. */
const COUNTERS =
  "const s = (globalThis as any).__rollcallSnapshot; console.log(JSON.stringify({ given: s.given, parsedAnew: s.parsedAnew, boundOtherwise: s.boundOtherwise }))";

interface Counters {
  readonly given: number;
  readonly parsedAnew: string[];
  readonly boundOtherwise: string[];
}

async function counters(kernel: JupyterKernel): Promise<Counters> {
  const result = await kernel.execute(COUNTERS);
  const text = result.outputs.map((o) => ("text" in o ? String(o.text) : "")).join("");
  return JSON.parse(text) as Counters;
}

test("set-up makes the snapshot once, and the kit's kernel starts from it", { timeout: 120_000 }, async () => {
  const made = await ensureTslabSnapshot(projectRoot);
  assert.ok(made.ok, made.ok ? "" : made.problems.map(formatProblem).join("\n"));
  assert.equal(made.value, snapshotFile(projectRoot));
  assert.ok(kitKernelCommand(projectRoot).argv.includes(made.value), "the kit's kernel command names the snapshot");
  const again = await ensureTslabSnapshot(projectRoot);
  assert.ok(again.ok && again.value === made.value, "a second set-up keeps the one there is");
});

test("a new snapshot removes those of an earlier Node, tslab or set of flags", { timeout: 120_000 }, async () => {
  const blob = snapshotFile(projectRoot);
  const stale = path.join(path.dirname(blob), "tslab-1.0.0-ts4.9.5-node18.0.0-x64.blob");
  await writeFile(stale, "an earlier snapshot");
  await rm(blob, { force: true });
  const made = await ensureTslabSnapshot(projectRoot);
  assert.ok(made.ok && existsSync(blob), "the snapshot is made again");
  assert.ok(!existsSync(stale), "the earlier one is gone");
});

test(
  "the kit's kernel shows what plain tslab shows, cell for cell, and reads its declaration files from the snapshot",
  { timeout: 120_000 },
  async () => {
    assert.ok((await ensureTslabSnapshot(projectRoot)).ok);
    const cells = [
      'import { students, show, check } from "rollcall";',
      "students.length",
      'const n: number = "seven";',
      "students.map((s) => s.nmae)",
      'import { readFileSync } from "node:fs";\nreadFileSync("/no/such/file", "utf8")',
      "show(students.slice(0, 2))",
      'check("enroll", (t) => t.equal("adds", () => 1 + 1, 2));',
      "[1, 2, 3].map((x) => x * 2)",
      // the declaration files' symbols (bound in the snapshot) at work: generics, overloads, a lib type misused
      'const seen = new Map<string, number>(); seen.set("Ada", 1); [...seen.entries()]',
      "await Promise.all([1, 2].map(async (x) => x + 1))",
      'seen.set(1, "one")',
      "const enum Level { Low, High }\nLevel.High",
    ];
    const outputs = async (command: KernelCommand): Promise<string[]> => {
      return withKernel(command, notebooksDir, async (kernel) => {
        const seen: string[] = [];
        for (const cell of cells) seen.push(shown((await kernel.execute(cell, { timeoutMs: 60_000 })).outputs));
        return seen;
      });
    };
    assert.deepEqual(await outputs(kitKernelCommand(projectRoot)), await outputs(tslabCommand(projectRoot)));

    return withKernel(kitKernelCommand(projectRoot), notebooksDir, async (kernel) => {
      await kernel.execute(cells[0] ?? "", { timeoutMs: 60_000 });
      const { given, parsedAnew, boundOtherwise } = await counters(kernel);
      assert.ok(given > 100, `only ${given} declaration files came from the snapshot`);
      assert.deepEqual(parsedAnew, [], "every installed declaration file the kernel read was in the snapshot");
      assert.deepEqual(boundOtherwise, [], "the kernel's programs bind with the options the snapshot bound its files with");
      const argv = shown((await kernel.execute("JSON.stringify(process.execArgv)", { timeoutMs: 60_000 })).outputs);
      for (const flag of KERNEL_V8_FLAGS) assert.ok(argv.includes(flag), `the kit's kernel runs with ${flag}: ${argv}`);
      // tslab's converter runs hooked (converter-hooks.cjs): a cell that declares names is one program, not two
      const PROGRAMS = "(globalThis as any).__rollcallSnapshot.programsMade()";
      const programs = async (): Promise<number> =>
        Number(shown((await kernel.execute(PROGRAMS, { timeoutMs: 60_000 })).outputs).match(/(\d+)/)?.[1]);
      const before = await programs();
      await kernel.execute("const declared = 1;\nfunction declaredToo() {\n  return 2;\n}", { timeoutMs: 60_000 });
      assert.equal((await programs()) - before, 2, "the declaring cell and the cell that counts, one program each");
    });
  },
);

test("a kernelspec whose snapshot is gone (npm ci empties node_modules) starts plain tslab", { timeout: 120_000 }, async () => {
  assert.ok((await ensureTslabSnapshot(projectRoot)).ok);
  const command = kitKernelCommand(projectRoot);
  const blob = snapshotFile(projectRoot);
  const missing = path.join(await scratch, "no-such.blob");
  const gone = { ...command, argv: command.argv.map((a) => (a === blob ? missing : a)) };
  return withKernel(gone, notebooksDir, async (kernel) => {
    const result = await kernel.execute("typeof (globalThis as any).__rollcallSnapshot", { timeoutMs: 60_000 });
    assert.equal(shown(result.outputs), shown([{ output_type: "stream", name: "stdout", text: "undefined\n" }]));
  });
});

test("a kernelspec whose Node was replaced since set-up (an upgrade in place) starts plain tslab", { timeout: 120_000 }, async () => {
  assert.ok((await ensureTslabSnapshot(projectRoot)).ok);
  const command = kitKernelCommand(projectRoot);
  // Another Node at the same place: here this one with other V8 flags, which refuses the snapshot as another version would.
  const other = path.join(await scratch, "node");
  await writeFile(other, `#!/bin/sh\nexec ${process.execPath} --max-semi-space-size=32 "$@"\n`, { mode: 0o755 });
  const replaced = { ...command, argv: command.argv.map((a) => (a === process.execPath ? other : a)) };
  assert.notDeepEqual(replaced.argv, command.argv);
  return withKernel(replaced, notebooksDir, async (kernel) => {
    const result = await kernel.execute("typeof (globalThis as any).__rollcallSnapshot", { timeoutMs: 60_000 });
    assert.equal(shown(result.outputs), shown([{ output_type: "stream", name: "stdout", text: "undefined\n" }]));
  });
});

test("a declaration file that changed after the snapshot was made is read as it is now", { timeout: 120_000 }, async () => {
  // A folder with a type package of its own, in the snapshot as it was, then changed.
  const folder = path.join(await scratch, "changed");
  const types = path.join(folder, "node_modules", "@types", "snapshot-probe");
  await mkdir(types, { recursive: true });
  await writeFile(path.join(types, "package.json"), '{ "name": "@types/snapshot-probe", "version": "1.0.0", "types": "index.d.ts" }\n');
  const declaration = path.join(types, "index.d.ts");
  await writeFile(declaration, "declare const probe: number;\n");
  const list = path.join(await scratch, "files.json");
  await writeFile(list, JSON.stringify([declaration]));
  const blob = path.join(await scratch, "probe.blob");
  await buildSnapshot(projectRoot, list, blob);
  const command = {
    ...tslabCommand(projectRoot),
    argv: [process.execPath, ...KERNEL_V8_FLAGS, "--snapshot-blob", blob, "kernel", "--config-path", "{connection_file}"],
  };

  const typed = async (): Promise<string> => {
    return withKernel(command, folder, async (kernel) => {
      return shown((await kernel.execute("const mine: number = probe;", { timeoutMs: 60_000 })).outputs);
    });
  };
  assert.doesNotMatch(await typed(), /not assignable/, "as it was: probe is a number");
  await writeFile(declaration, "declare const probe: string;\n");
  assert.match(await typed(), /Type 'string' is not assignable to type 'number'/, "as it is now: probe is a string");
});

test(
  "two sends in a row on one socket wait their turn in the kit's kernel, where plain tslab's zeromq refuses the second",
  { timeout: 120_000 },
  async () => {
    // tslab replies, then says "idle", without waiting between the two; on a loaded machine the
    // refusal (EBUSY) is thrown inside its message loop and the kernel never answers again.
    // A socket with no peer (immediate) makes the first send wait, as load does.
    assert.ok((await ensureTslabSnapshot(projectRoot)).ok);
    const cell = [
      'import * as zmq from "zeromq";',
      "const dealer = new zmq.Dealer({ sendTimeout: 300, linger: 0, immediate: true });",
      'dealer.connect("tcp://127.0.0.1:9");',
      'const codes = await Promise.all([dealer.send("a").catch((e) => e.code), dealer.send("b").catch((e) => e.code)]);',
      "dealer.close();",
      "JSON.stringify(codes)",
    ].join("\n");
    const outcome = async (command: KernelCommand): Promise<string> => {
      return withKernel(command, notebooksDir, async (kernel) => {
        return shown((await kernel.execute(cell, { timeoutMs: 30_000 })).outputs);
      });
    };
    assert.match(await outcome(tslabCommand(projectRoot)), /EBUSY/, "plain tslab: the second send is refused");
    assert.match(await outcome(kitKernelCommand(projectRoot)), /\[\\"EAGAIN\\",\\"EAGAIN\\"\]/, "the kit: each send had its turn");
  },
);

test("a kit kernel whose port another process holds stops, saying so, instead of running on deaf", { timeout: 120_000 }, async () => {
  assert.ok((await ensureTslabSnapshot(projectRoot)).ok);
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as AddressInfo).port;
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-taken-port-"));
  try {
    const [shell, stdin, control, hb] = await freePorts(4, [port]);
    const connection = path.join(folder, "connection.json");
    await writeFile(connection, connectionText("k", [shell, port, stdin, control, hb] as number[]));
    const outcome = async (command: KernelCommand): Promise<{ code: number | null | undefined; said: string }> => {
      const [program = "", ...args] = command.argv.map((a) => a.replace("{connection_file}", connection));
      const child = spawn(program, args, { cwd: notebooksDir, stdio: ["ignore", "ignore", "pipe"] });
      let said = "";
      child.stderr?.on("data", (d: Buffer) => (said += d.toString()));
      const code = await exitWithin(child, 30_000);
      child.kill("SIGKILL");
      return { code, said };
    };
    const kit = await outcome(kitKernelCommand(projectRoot));
    assert.equal(kit.code, 1, kit.said);
    assert.match(kit.said, new RegExp(`could not bind address: 'tcp://127\\.0\\.0\\.1:${port}' \\(EADDRINUSE`));
    assert.ok(couldNotBind(kit.said.split("\n"), [port]), "the kit's own client starts it again on other ports");
  } finally {
    taken.close();
    await rm(folder, { recursive: true, force: true });
  }
});
