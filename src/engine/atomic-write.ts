/** Files the grader writes, written whole or not at all. */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/** A grader killed mid-write leaves only a temporary file (`.NAME.PID.tmp`), which the next run removes. */
export async function writeAtomically(file: string, content: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temporary, content);
  await rename(temporary, file);
}
