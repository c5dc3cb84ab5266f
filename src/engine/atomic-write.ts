/** Files the kit writes for others to read (the grader's reports, the pulse's address), written whole or not at all. */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * A writer killed mid-write leaves only a temporary file (`.NAME.PID.tmp`), which the next
 * grader run removes. `mode` holds from the first byte (0600 for a file with a secret in it).
 */
export async function writeAtomically(file: string, content: string | Uint8Array, mode = 0o666): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temporary, content, { mode });
  await rename(temporary, file);
}
