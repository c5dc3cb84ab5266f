/**
 * The Gradescope autograder of one lesson: a zip with `setup.sh` and
 * `run_autograder` (deploy/gradescope/) at its root, beside what the grader needs
 * to install and run there: package files, the TypeScript of src/ and scripts/,
 * and the lesson's source with its hidden tests (Gradescope never shows the zip to
 * learners). Never build/, dist/, node_modules/, tests or other lessons.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { zipSync, type Zippable } from "fflate";
import { projectRoot } from "./paths.js";

export interface ZipEntry {
  /** Path inside the zip, `/`-separated. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly executable: boolean;
}

/** The lesson the zip grades, read by run_autograder. */
export const LESSON_FILE = "LESSON";
const ROOT_FILES = ["package.json", "package-lock.json", "tsconfig.json"];
const SOURCE_FOLDERS = ["src", "scripts"];
const DEPLOY = path.join("deploy", "gradescope");
const SCRIPTS = ["setup.sh", "run_autograder"];

/** A fixed time for every entry, so that the same files make the same zip, byte for byte. */
const MTIME = new Date("2000-01-01T00:00:00Z");

/** Unix mode bits in a zip entry's external attributes (made on Unix, so that unzip keeps them). */
const UNIX = 3;
const mode = (executable: boolean): number => ((executable ? 0o100755 : 0o100644) << 16) >>> 0;

/** The zip's bytes: entries sorted by path, each with its Unix mode. Pure. */
export function zipEntries(entries: readonly ZipEntry[]): Uint8Array {
  const tree: Zippable = {};
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    tree[e.path] = [e.bytes, { os: UNIX, attrs: mode(e.executable), mtime: MTIME, level: 9 }];
  return zipSync(tree);
}

async function filesUnder(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(projectRoot, folder), { withFileTypes: true })) {
    const relative = path.posix.join(folder, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(relative)));
    else if (entry.isFile() && /\.m?ts$/.test(entry.name)) found.push(relative);
  }
  return found;
}

/** Everything the zip of `lessonId` holds, read from the project. */
export async function autograderEntries(lessonId: string): Promise<ZipEntry[]> {
  const read = async (from: string, to: string, executable = false): Promise<ZipEntry> => ({
    path: to,
    bytes: await readFile(path.join(projectRoot, from)),
    executable,
  });
  const sources = (await Promise.all(SOURCE_FOLDERS.map(filesUnder))).flat();
  return [
    ...(await Promise.all(SCRIPTS.map((s) => read(path.join(DEPLOY, s), s, true)))),
    { path: LESSON_FILE, bytes: new TextEncoder().encode(`${lessonId}\n`), executable: false },
    ...(await Promise.all([...ROOT_FILES, ...sources].map((f) => read(f, f)))),
    await read(path.join("lessons", `${lessonId}.md`), `lessons/${lessonId}.md`),
  ];
}
