/**
 * Reading a file somebody else controls (a learner's submission, as root or as the grader):
 * checked by the descriptor that is read, never by its name, since the name can be swapped
 * between a look and a read (for a link to another learner's file, a FIFO that never
 * answers, or a file that keeps growing).
 */
import { constants, type Stats } from "node:fs";
import { open } from "node:fs/promises";

export interface UntrustedFile {
  readonly bytes: Buffer;
  /** What the descriptor read was: its inode, owner, links and ctime. */
  readonly info: Stats;
}

/**
 * Opens `file` without following a link and without waiting on a FIFO, requires a regular
 * file (with no other name, when `singleLink`), reads at most `maxBytes`, and requires the
 * file to be as it was when opened (same size and ctime: not written meanwhile); throws an
 * Error saying which of these it is not.
 */
export async function readUntrusted(file: string, maxBytes: number, options: { singleLink?: boolean } = {}): Promise<UntrustedFile> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (error: NodeJS.ErrnoException) => {
      throw new Error(error.code === "ELOOP" ? "it is a link" : `it cannot be opened (${error.code ?? error.message})`);
    },
  );
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error("it is not a regular file");
    if (options.singleLink && info.nlink !== 1) throw new Error("it has other names (a hard link)");
    if (info.size > maxBytes) throw new Error(`it is over ${maxBytes} bytes`);
    // one byte more than its size: a file that grows while it is read fills it
    const buffer = Buffer.allocUnsafe(info.size + 1);
    let total = 0;
    for (let read = -1; read !== 0 && total < buffer.length;) {
      ({ bytesRead: read } = await handle.read(buffer, total, buffer.length - total, total));
      total += read;
    }
    const now = await handle.stat();
    if (total !== info.size || now.size !== info.size || now.ctimeMs !== info.ctimeMs) throw new Error("it changed while being read");
    return { bytes: buffer.subarray(0, total), info };
  } finally {
    await handle.close();
  }
}
