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
 * file (with no other name, when `singleLink`), and reads at most `maxBytes`; throws an Error
 * saying which of these it is not.
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
    // sized by the cap, not by fstat: the file may grow while it is read
    const buffer = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (let read = -1; read !== 0 && total < buffer.length;) {
      ({ bytesRead: read } = await handle.read(buffer, total, buffer.length - total, total));
      total += read;
    }
    if (total > maxBytes) throw new Error(`it is over ${maxBytes} bytes`);
    return { bytes: buffer.subarray(0, total), info };
  } finally {
    await handle.close();
  }
}
