/**
 * Fast kernel starts. tslab spends about a second building TypeScript's program
 * (lib files and @types/node) before it answers. `buildKernelSnapshot` does
 * that once for a kernel folder and saves Node's heap (`node --build-snapshot`);
 * `kernelCommandFor` starts tslab from the snapshot when it was made by this
 * Node and this tslab for this folder, and plainly otherwise.
 *
 * The kernel itself re-checks every file the program was built from (see
 * file-probes.ts) and builds afresh if one changed: a stale snapshot costs a
 * second, never a wrong answer. npm start and npm run build refresh them.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { firstChange, type Probes } from "./file-probes.js";
import { tslabCommand, type KernelCommand } from "./kernel.js";
import { kernelSnapshotsDir, projectRoot } from "./paths.js";
import { failed, ok, type Result } from "./problem.js";

/** Which Node made a snapshot: only that very binary can start from it. */
interface NodeIdentity {
  readonly version: string;
  readonly execPath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

interface Manifest {
  readonly cwd: string;
  /** The blob's size: a cut-short copy would make Node refuse to start. */
  readonly blobBytes: number;
  readonly node: NodeIdentity;
  readonly tslab: string;
  readonly probes: Probes;
}

export type SnapshotState =
  | { readonly usable: true; readonly blob: string; /** The first file that changed since it was built. */ readonly stale?: string }
  | { readonly usable: false; readonly why: string };

function nodeIdentity(): NodeIdentity {
  const { size, mtimeMs } = statSync(process.execPath);
  return { version: process.version, execPath: process.execPath, size, mtimeMs };
}

function tslabVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot, "node_modules", "tslab", "package.json"), "utf8")) as { version: string }).version;
}

function snapshotFiles(cwd: string): { blob: string; manifest: string } {
  const base = path.join(kernelSnapshotsDir, createHash("sha256").update(path.resolve(cwd)).digest("hex").slice(0, 16));
  return { blob: `${base}.blob`, manifest: `${base}.json` };
}

function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch {
    return undefined; // none yet, or cut short: either way, build one
  }
}

/** Whether a kernel in `cwd` can start from a snapshot, and if not, why. */
export function findKernelSnapshot(cwd: string): SnapshotState {
  const files = snapshotFiles(cwd);
  const manifest = readManifest(files.manifest);
  if (!manifest) return { usable: false, why: `no kernel snapshot for ${cwd} yet` };
  const node = nodeIdentity();
  const mismatch =
    manifest.cwd !== path.resolve(cwd) ? "was made for another folder" :
    JSON.stringify(manifest.node) !== JSON.stringify(node) ? `was made by another Node (${manifest.node.version} at ${manifest.node.execPath})` :
    manifest.tslab !== tslabVersion() ? `was made for tslab ${manifest.tslab}` :
    statSync(files.blob, { throwIfNoEntry: false })?.size === manifest.blobBytes ? undefined : "has lost its blob, or part of it";
  if (mismatch) return { usable: false, why: `the kernel snapshot for ${cwd} ${mismatch}` };
  const stale = firstChange(manifest.probes);
  return stale === undefined ? { usable: true, blob: files.blob } : { usable: true, blob: files.blob, stale };
}

export const startsFromSnapshot = (command: KernelCommand): boolean => command.argv.includes("--snapshot-blob");

/** tslab for a kernel working in `cwd`: from its snapshot when there is one that fits. */
export function kernelCommandFor(cwd: string): KernelCommand {
  const plain = tslabCommand(projectRoot);
  const found = findKernelSnapshot(cwd);
  if (!found.usable) return plain;
  return { ...plain, argv: [process.execPath, "--snapshot-blob", found.blob, ...plain.argv.slice(2)] };
}

/** The text Node's stderr ends with, without the builder's routine notices. */
function tail(stderr: string): string {
  return stderr.split("\n").filter((l) => l.trim() && !/stackTraceLimit|not yet fully verified|trace-warnings|issue tracker|may still work/.test(l)).slice(-6).join("\n");
}

/** Builds (or rebuilds) the snapshot for kernels working in `cwd`; returns the blob's path. Takes a few seconds. */
export async function buildKernelSnapshot(cwd: string): Promise<Result<string>> {
  const folder = path.resolve(cwd);
  const files = snapshotFiles(folder);
  const temp = `${files.blob}.${process.pid}.tmp`;
  await mkdir(kernelSnapshotsDir, { recursive: true });
  const entry = path.join(__dirname, "kernel-snapshot-entry.js");
  // The builder gives a script no `exports`, which TypeScript's CommonJS output needs.
  const bootstrap = `${temp}.js`;
  await writeFile(bootstrap, `new Function("exports", "require", "__filename", "__dirname", require("node:fs").readFileSync(${JSON.stringify(entry)}, "utf8") + "\\n//# sourceURL=${entry}")({}, require, ${JSON.stringify(entry)}, ${JSON.stringify(path.dirname(entry))});\n`);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ["--snapshot-blob", `${temp}.blob`, "--build-snapshot", bootstrap], {
        cwd: folder, env: { ...process.env, ROLLCALL_SNAPSHOT_PROBES: `${temp}.probes` }, stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => { err = (err + chunk).slice(-20_000); });
      child.on("error", reject);
      child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(tail(err) || `the snapshot builder ${signal ? `was stopped by ${signal}` : `exited with code ${String(code)}`}`))));
    });
    const manifest: Manifest = {
      cwd: folder, blobBytes: statSync(`${temp}.blob`).size, node: nodeIdentity(), tslab: tslabVersion(),
      probes: JSON.parse(await readFile(`${temp}.probes`, "utf8")) as Probes,
    };
    await rename(`${temp}.blob`, files.blob);
    await writeFile(`${temp}.json`, JSON.stringify(manifest));
    await rename(`${temp}.json`, files.manifest);
    await pruneKernelSnapshots();
    return ok(files.blob);
  } catch (error) {
    return failed([{ file: folder, message: `could not make a kernel snapshot (kernels there start in the usual ~1 s instead): ${(error as Error).message}` }]);
  } finally {
    await Promise.all([bootstrap, `${temp}.blob`, `${temp}.probes`, `${temp}.json`].map((f) => rm(f, { force: true })));
  }
}

/**
 * Makes sure kernels in `cwd` start fast: builds the snapshot when it is missing,
 * stale or made by another Node, first telling `onBuild` why.
 */
export async function ensureKernelSnapshot(cwd: string, onBuild: (why: string) => void = () => {}): Promise<Result<string>> {
  const found = findKernelSnapshot(cwd);
  if (found.usable && !found.stale) return ok(found.blob);
  onBuild(found.usable ? `${found.stale} changed` : found.why);
  return buildKernelSnapshot(cwd);
}

export async function removeKernelSnapshot(cwd: string): Promise<void> {
  const files = snapshotFiles(cwd);
  await Promise.all([files.manifest, files.blob].map((f) => rm(f, { force: true })));
}

/** Drops the snapshots (~50 MB each) of folders that no longer exist, such as temporary ones. */
async function pruneKernelSnapshots(): Promise<void> {
  for (const name of await readdir(kernelSnapshotsDir)) {
    if (!name.endsWith(".json")) continue;
    const cwd = readManifest(path.join(kernelSnapshotsDir, name))?.cwd;
    if (cwd && !existsSync(cwd)) await removeKernelSnapshot(cwd);
  }
}
