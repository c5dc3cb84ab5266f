/**
 * The kit's tslab kernel: tslab itself, started from a V8 start-up snapshot in which
 * the compiler is loaded and the declaration files every kernel reads are parsed
 * (tslab-snapshot/entry.cjs says how, and why it cannot change what a kernel does).
 * A kernel then starts on about half the CPU, which is what a class of 30 on one
 * small server runs short of.
 *
 * The snapshot is made by `ensureTslabSnapshot` at set-up (`npm start`, `npm test`,
 * `npm run hub`), for this Node, this tslab and this TypeScript, into
 * `node_modules/.cache/rollcall/`: every learner's kernel may read it, none may change it.
 * Without one (not made yet, or it could not be made), `kitKernelCommand` is plain tslab.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { tslabCommand, type KernelCommand } from "./kernel-seam.js";
import { failed, ok, type Result } from "./problem.js";

const run = promisify(execFile);

/**
 * V8 flags of the kit's kernel. A kernel lives for a lesson: a few hundred cells, each a
 * new program over the same compiler. By default V8 optimizes the compiler's functions as
 * soon as they warm up, and on two cores shared by a class that compiling costs more than
 * it gives back: with an interrupt budget about 18 times the default (67584), only the
 * hottest functions are optimized, and 30 kernels running lesson 01 at once need about
 * a third less CPU (`npm run bench -- class`). The snapshot is made with the same flags
 * (V8 refuses a snapshot made with others), and its name says which.
 */
export const KERNEL_V8_FLAGS: readonly string[] = ["--interrupt-budget=1200000"];
const flagsTag = KERNEL_V8_FLAGS.map((f) => f.replace(/^--/, "").replace(/[^a-z0-9]+/gi, "")).join("-");

const versionOf = (projectRoot: string, pkg: string): string =>
  (JSON.parse(readFileSync(path.join(projectRoot, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

/** The snapshot's scripts: what they hold is in the snapshot, so a change to them is a new snapshot. */
const SCRIPTS = ["entry.cjs", "converter-hooks.cjs"];
const scriptsTag = (projectRoot: string): string => {
  const hash = createHash("sha256");
  for (const script of SCRIPTS) hash.update(readFileSync(path.join(projectRoot, "src", "engine", "tslab-snapshot", script)));
  return hash.digest("hex").slice(0, 12);
};

/**
 * The snapshot's file: its name says which Node, tslab, TypeScript, flags and scripts made it
 * (a snapshot works only with the Node that made it, and holds what its scripts did).
 */
export function snapshotFile(projectRoot: string): string {
  const tslab = versionOf(projectRoot, "tslab");
  const compiler = versionOf(projectRoot, path.join("@tslab", "typescript-for-tslab"));
  const name = `tslab-${tslab}-ts${compiler}-node${process.version.slice(1)}-${process.arch}-${flagsTag}-${scriptsTag(projectRoot)}.blob`;
  return path.join(projectRoot, "node_modules", ".cache", "rollcall", name);
}

/** The size and modification time (s) of a file, as `stat -Lc "%s %Y"` prints them. */
const stampOf = (file: string): string => {
  const s = statSync(file);
  return `${s.size} ${Math.floor(s.mtimeMs / 1000)}`;
};

/**
 * tslab from the snapshot when there is one for this Node, else plain tslab. A kernelspec
 * outlives both node_modules (`npm ci` empties it) and Node itself (an upgrade replaces it in
 * place, and a snapshot works only with the Node that made it), so the command checks when
 * Jupyter starts a kernel that the snapshot is still there and Node is still the same file
 * (its size and time, by GNU stat; where there is none, plain tslab), and starts plain tslab when either is not.
 * Either way the kernel runs with KERNEL_V8_FLAGS and `kernel-preload.cjs` (ipc addresses as
 * Jupyter makes them, and a kernel that could not bind a port stops instead of running on deaf).
 */
export function kitKernelCommand(projectRoot: string): KernelCommand {
  const plain = tslabCommand(projectRoot);
  const [node = process.execPath, tslab = "", ...rest] = plain.argv;
  const preload = path.join(projectRoot, "src", "engine", "tslab-snapshot", "kernel-preload.cjs");
  const blob = snapshotFile(projectRoot);
  if (process.platform === "win32") return plain;
  if (!existsSync(blob)) return { ...plain, argv: [node, "-r", preload, tslab, ...rest] };
  const flags = KERNEL_V8_FLAGS.join(" "); // plain words: no quoting needed in sh
  const choose =
    `if [ -r "$1" ] && [ "$(stat -Lc "%s %Y" "$0" 2>/dev/null)" = "$4" ]; then exec "$0" ${flags} -r "$5" --snapshot-blob "$1" kernel --config-path "$2"; fi; ` +
    `exec "$0" ${flags} -r "$5" "$3" kernel --config-path "$2"`;
  return { ...plain, argv: ["/bin/sh", "-c", choose, node, blob, "{connection_file}", tslab, stampOf(node), preload] };
}

/** Makes a snapshot at `blob` in which the declaration files listed (a JSON array) in `list` are parsed and bound. */
export async function buildSnapshot(projectRoot: string, list: string, blob: string): Promise<void> {
  const entry = path.join(projectRoot, "src", "engine", "tslab-snapshot", "entry.cjs");
  await run(process.execPath, [...KERNEL_V8_FLAGS, "--snapshot-blob", blob, "--build-snapshot", entry], {
    cwd: path.dirname(blob),
    env: { ...process.env, ROLLCALL_SNAPSHOT_ROOT: projectRoot, ROLLCALL_SNAPSHOT_FILES: list, NODE_NO_WARNINGS: "1" },
    maxBuffer: 1 << 24,
  });
}

/**
 * Makes the snapshot if this Node has none yet (a few seconds, once). A failure is a
 * problem to show, never a stop: kernels are then plain tslab, only slower to start.
 */
export async function ensureTslabSnapshot(projectRoot: string): Promise<Result<string>> {
  const blob = snapshotFile(projectRoot);
  if (existsSync(blob)) return ok(blob);
  await mkdir(path.dirname(blob), { recursive: true, mode: 0o755 });
  // Made beside its place, so that the rename is on one file system and whole (another set-up's is as good).
  const scratch = await mkdtemp(`${blob}.`);
  try {
    const lister = path.join(projectRoot, "dist", "src", "engine", "tslab-snapshot-files.js");
    const { stdout } = await run(process.execPath, [lister], { cwd: path.join(projectRoot, "notebooks"), maxBuffer: 1 << 24 });
    const list = path.join(scratch, "files.json");
    await writeFile(list, stdout);
    const made = path.join(scratch, "tslab.blob");
    await buildSnapshot(projectRoot, list, made);
    // every learner's kernel on a hub reads it, whatever the umask of the set-up that made it
    await chmod(made, 0o644);
    for (const folder of [path.dirname(blob), path.dirname(path.dirname(blob))]) await chmod(folder, (await stat(folder)).mode | 0o005);
    await rename(made, blob);
    // Snapshots of an earlier Node, tslab or set of flags (48 MB each) are of no use any more.
    const folder = path.dirname(blob);
    for (const old of await readdir(folder)) {
      if (old.endsWith(".blob") && old !== path.basename(blob)) await rm(path.join(folder, old), { force: true });
    }
    return ok(blob);
  } catch (error) {
    const said = (error as { stderr?: string }).stderr?.trim().split("\n").slice(-3).join(" ") || (error as Error).message;
    return failed([{ message: `tslab's start-up snapshot could not be made (${said}); kernels start as plain tslab, only slower` }]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
