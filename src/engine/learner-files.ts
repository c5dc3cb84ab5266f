/**
 * One file written into, or taken out of, a learner's home, run as the learner (`as-learner.ts`):
 * the pulse settings (`pulse-hub.ts`), a returned feedback page (`exchange.ts`). On top of the
 * learner's own rights, neither ever goes through a link at the name: a write makes a new file
 * beside it (O_EXCL) and renames it over the name, so a link there is replaced, never followed; a
 * remove opens the name with O_NOFOLLOW and unlinks only a plain file with the bytes the kit wrote.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, mkdir, open, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LearnerTask } from "./as-learner.js";

export type LearnerFileOperation =
  /** `file` whole with these bytes and this mode (the folder made first when `makeFolder`). */
  | { readonly op: "write"; readonly file: string; readonly base64: string; readonly mode: number; readonly makeFolder?: boolean }
  /** `file` unlinked only when it is a plain file whose sha256 is `digest`. */
  | { readonly op: "remove"; readonly file: string; readonly digest: string };

/** "written"; or for a remove: "removed", "absent" (nothing there), "changed" (not what the kit wrote: left alone). */
export type LearnerFileOutcome = "written" | "removed" | "absent" | "changed";

export const sha256Hex = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** Does the operation with this process's rights (the learner's: run it through `asLearner`). */
export async function runLearnerFileOperation(operation: LearnerFileOperation): Promise<LearnerFileOutcome> {
  if (!path.isAbsolute(operation.file)) throw new Error(`"${operation.file}" is not an absolute path`);
  if (operation.op === "write") {
    await writeReplacing(operation.file, Buffer.from(operation.base64, "base64"), operation.mode, operation.makeFolder === true);
    return "written";
  }
  return removeIfUnchanged(operation.file, operation.digest);
}

/** A new file beside the name (O_EXCL: never through a link), its mode set past the umask, renamed over the name. */
async function writeReplacing(file: string, bytes: Uint8Array, mode: number, makeFolder: boolean): Promise<void> {
  const folder = path.dirname(file);
  if (makeFolder) await mkdir(folder, { recursive: true });
  const temporary = path.join(folder, `.${path.basename(file)}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, bytes, { flag: "wx", mode });
    await chmod(temporary, mode);
    await rename(temporary, file);
  } catch (error) {
    // EEXIST: that name was not ours to take away
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

async function removeIfUnchanged(file: string, digest: string): Promise<"removed" | "absent" | "changed"> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO planted at the name must not hang the hub
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : "changed";
  }
  let same: boolean;
  try {
    same = (await handle.stat()).isFile() && sha256Hex(await handle.readFile()) === digest;
  } finally {
    await handle.close();
  }
  if (!same) return "changed";
  await unlink(file);
  return "removed";
}

/** The task for `asLearner`: the operation in a child with the learner's uid and gid, or in this process when it is theirs. */
export const LEARNER_FILES: LearnerTask<LearnerFileOperation, LearnerFileOutcome> = {
  worker: path.join(__dirname, "learner-files-worker.js"),
  run: runLearnerFileOperation,
};
