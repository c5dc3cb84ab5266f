/**
 * Fast kernel starts. tslab spends about a second building TypeScript's program
 * (lib files and @types/node) before it answers. `buildKernelSnapshot` does
 * that once for a kernel folder and saves Node's heap (`node --build-snapshot`);
 * `kernelCommandFor` starts tslab from that snapshot when it was made by this
 * Node, with these Node options, from this code, for this folder; and plainly
 * otherwise.
 *
 * The kernel itself re-checks every file the program was built from (see
 * file-probes.ts) and builds afresh if one changed, so a stale snapshot costs a
 * second, not a wrong type. npm start and npm run build refresh them.
 *
 * Each build writes a blob under a new name and then its folder's manifest:
 * a kernelspec pointing at an older blob keeps working, and renaming the
 * manifest is the one step that makes a build count.
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { firstChange, type Probes } from "./file-probes.js";
import { kernelSpecFile } from "./jupyter.js";
import { tslabCommand, type KernelCommand } from "./kernel.js";
import { jupyterDataDir, kernelSnapshotsDir, projectRoot } from "./paths.js";
import { failed, ok, type Result } from "./problem.js";

const FORMAT = 2;
/** Set to "off" to start every kernel plainly and make no snapshots. */
export const SNAPSHOT_SWITCH = "ROLLCALL_KERNEL_SNAPSHOT";
/** Leftovers of a build that was stopped midway are removed after this long. */
const ABANDONED_MS = 60 * 60 * 1000;

/** What only the very same Node, started the same way, can load: anything else makes Node refuse the blob. */
interface NodeIdentity {
  readonly version: string;
  readonly execPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** V8 flags in NODE_OPTIONS change the snapshot's checksum too. */
  readonly options: string;
}

interface Manifest {
  readonly format: typeof FORMAT;
  readonly cwd: string;
  /** The blob's file name in kernelSnapshotsDir, and its size: a cut-short copy would make Node refuse it. */
  readonly blob: string;
  readonly blobBytes: number;
  readonly node: NodeIdentity;
  /** The files whose code is inside the snapshot (tslab, TypeScript, the entry script). */
  readonly code: Probes;
  /** The files TypeScript's program was built from. */
  readonly probes: Probes;
}

export type SnapshotState =
  | { readonly usable: true; readonly blob: string; /** The first file that changed since it was made. */ readonly stale?: string }
  | { readonly usable: false; readonly why: string };

const snapshotsOff = (): boolean => process.env[SNAPSHOT_SWITCH] === "off";

function nodeIdentity(): NodeIdentity {
  const { size, mtimeMs } = statSync(process.execPath);
  return { version: process.version, execPath: process.execPath, size, mtimeMs, options: process.env["NODE_OPTIONS"] ?? "" };
}

/** Where the manifest of the snapshot for kernels in `cwd` lives. */
export function manifestFile(cwd: string): string {
  return path.join(kernelSnapshotsDir, `${createHash("sha256").update(path.resolve(cwd)).digest("hex").slice(0, 16)}.json`);
}

function readManifest(file: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as Partial<Manifest> | null;
    const isObject = (v: unknown): boolean => typeof v === "object" && v !== null;
    const wellFormed = m?.format === FORMAT && typeof m.cwd === "string" && typeof m.blob === "string" && typeof m.blobBytes === "number" &&
      isObject(m.node) && isObject(m.code) && isObject(m.probes);
    return wellFormed ? (m as Manifest) : undefined;
  } catch {
    return undefined; // none yet, or cut short: either way, build one
  }
}

/** Why a snapshot cannot be used at all, if it cannot. */
function unusable(manifest: Manifest, cwd: string): string | undefined {
  if (manifest.cwd !== path.resolve(cwd)) return "was made for another folder";
  const node = nodeIdentity();
  if (manifest.node.options !== node.options) return `was made with NODE_OPTIONS="${manifest.node.options}", not "${node.options}"`;
  if (JSON.stringify(manifest.node) !== JSON.stringify(node)) return `was made by another Node (${manifest.node.version} at ${manifest.node.execPath}, as it was then)`;
  const changedCode = firstChange(manifest.code);
  if (changedCode !== undefined) return `holds code that has changed since (${changedCode})`;
  if (statSync(path.join(kernelSnapshotsDir, manifest.blob), { throwIfNoEntry: false })?.size !== manifest.blobBytes) return "has lost its blob, or part of it";
  return undefined;
}

/** The snapshot a kernel in `cwd` can start from, or why there is none; its program's files are not looked at. */
function fittingSnapshot(cwd: string): { readonly manifest: Manifest; readonly blob: string } | { readonly why: string } {
  if (snapshotsOff()) return { why: `kernel snapshots are off (${SNAPSHOT_SWITCH}=off)` };
  const manifest = readManifest(manifestFile(cwd));
  if (!manifest) return { why: `no kernel snapshot for ${cwd} yet` };
  const why = unusable(manifest, cwd);
  return why ? { why: `the kernel snapshot for ${cwd} ${why}` } : { manifest, blob: path.join(kernelSnapshotsDir, manifest.blob) };
}

/** Whether a kernel in `cwd` can start from a snapshot, and if not, why. */
export function findKernelSnapshot(cwd: string): SnapshotState {
  const found = fittingSnapshot(cwd);
  if ("why" in found) return { usable: false, why: found.why };
  const stale = firstChange(found.manifest.probes);
  return stale === undefined ? { usable: true, blob: found.blob } : { usable: true, blob: found.blob, stale };
}

/**
 * tslab for a kernel working in `cwd`: from its snapshot when there is one that
 * fits, with plain tslab as the fallback. Whether the snapshot is stale the
 * kernel checks for itself (a stale one still saves loading TypeScript).
 */
export function kernelCommandFor(cwd: string): KernelCommand {
  const plain = tslabCommand(projectRoot);
  const found = fittingSnapshot(cwd);
  if ("why" in found) return plain;
  // NODE_OPTIONS pinned as the snapshot was made: other V8 flags would make Node refuse it, and Jupyter cannot fall back.
  const env = { NODE_OPTIONS: process.env["NODE_OPTIONS"] ?? "" };
  return { ...plain, argv: [process.execPath, "--snapshot-blob", found.blob, ...plain.argv.slice(2)], fallback: plain, env };
}

/** The builder's stderr, without its routine notices. */
function tail(stderr: string): string {
  return stderr.split("\n").filter((l) => l.trim() && !/stackTraceLimit|not yet fully verified|trace-warnings|issue tracker|may still work/.test(l)).slice(-6).join("\n");
}

function runBuilder(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr = (stderr + chunk).slice(-20_000); });
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(tail(stderr) || `the snapshot builder ${signal ? `was stopped by ${signal}` : `exited with code ${String(code)}`}`))));
  });
}

/** Builds (or rebuilds) the snapshot for kernels working in `cwd`; returns the blob's path. Takes a few seconds. */
export async function buildKernelSnapshot(cwd: string): Promise<Result<string>> {
  const folder = path.resolve(cwd);
  const manifest = manifestFile(folder);
  const name = `${path.basename(manifest, ".json")}-${randomUUID().slice(0, 8)}`;
  const blob = path.join(kernelSnapshotsDir, `${name}.blob`);
  const temp = path.join(kernelSnapshotsDir, `${name}.tmp`);
  await mkdir(kernelSnapshotsDir, { recursive: true });
  const entry = path.join(__dirname, "kernel-snapshot-entry.js");
  // The builder gives a script no `exports`, which TypeScript's CommonJS output needs.
  await writeFile(`${temp}.js`, `new Function("exports", "require", "__filename", "__dirname", require("node:fs").readFileSync(${JSON.stringify(entry)}, "utf8") + ${JSON.stringify(`\n//# sourceURL=${entry}`)})({}, require, ${JSON.stringify(entry)}, ${JSON.stringify(path.dirname(entry))});\n`);
  try {
    await runBuilder(["--snapshot-blob", `${temp}.blob`, "--build-snapshot", `${temp}.js`], folder, { ...process.env, ROLLCALL_SNAPSHOT_PROBES: `${temp}.probes` });
    const built = JSON.parse(await readFile(`${temp}.probes`, "utf8")) as Pick<Manifest, "code" | "probes">;
    const written: Manifest = {
      format: FORMAT, cwd: folder, blob: path.basename(blob), blobBytes: (await stat(`${temp}.blob`)).size,
      node: nodeIdentity(), code: built.code, probes: built.probes,
    };
    const replaced = readManifest(manifest)?.blob;
    await rename(`${temp}.blob`, blob);
    await writeFile(`${temp}.json`, JSON.stringify(written));
    await rename(`${temp}.json`, manifest);
    await pruneKernelSnapshots((name) => name === replaced);
    return ok(blob);
  } catch (error) {
    return failed([{ file: folder, message: `could not make a kernel snapshot, so kernels there start in the usual 1–2 s: ${(error as Error).message}` }]);
  } finally {
    await Promise.all(["js", "blob", "probes", "json"].map((ext) => rm(`${temp}.${ext}`, { force: true })));
  }
}

/**
 * Makes sure kernels in `cwd` start fast: builds the snapshot when it is missing,
 * stale or made by another Node, first telling `onBuild` why. Does nothing when
 * snapshots are off.
 */
export async function ensureKernelSnapshot(cwd: string, onBuild: (why: string) => void = () => {}): Promise<Result<string | undefined>> {
  if (snapshotsOff()) return ok(undefined);
  const found = findKernelSnapshot(cwd);
  if (found.usable && !found.stale) return ok(found.blob);
  onBuild(found.usable ? `${found.stale} changed` : found.why);
  return buildKernelSnapshot(cwd);
}

/** Removes the folder's snapshot, every blob made for it included (unless the kernelspec names one). */
export async function removeKernelSnapshot(cwd: string): Promise<void> {
  const manifest = manifestFile(cwd);
  await rm(manifest, { force: true });
  await pruneKernelSnapshots((blob) => blob.startsWith(`${path.basename(manifest, ".json")}-`));
}

/**
 * Removes what no one will start from (~50 MB a blob): manifests of folders
 * that are gone, blobs that neither a manifest nor this project's kernelspec
 * names (those `done` says at once, others after a minute), and what builds stopped
 * midway left behind.
 */
async function pruneKernelSnapshots(done: (blob: string) => boolean = () => false): Promise<void> {
  const names = await readdir(kernelSnapshotsDir).catch(() => [] as string[]);
  const kept = new Set<string>();
  const kernelspec = await readFile(kernelSpecFile(jupyterDataDir), "utf8").catch(() => "");
  for (const name of names.filter((n) => n.endsWith(".json") && !n.includes(".tmp"))) {
    const file = path.join(kernelSnapshotsDir, name);
    const manifest = readManifest(file);
    if (manifest && existsSync(manifest.cwd)) kept.add(manifest.blob);
    else await rm(file, { force: true });
  }
  for (const name of names) {
    const file = path.join(kernelSnapshotsDir, name);
    const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0);
    const abandoned = name.includes(".tmp") && age > ABANDONED_MS;
    // A minute's grace: a build running alongside renames its blob just before its manifest.
    const unnamed = name.endsWith(".blob") && !kept.has(name) && !kernelspec.includes(file) && (done(name) || age > 60_000);
    if (abandoned || unnamed) await rm(file, { force: true });
  }
}
