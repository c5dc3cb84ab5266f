// Handing your work in, from the notebook: `submit("01-arrays")` sends the SAVED file
// `01-arrays.ipynb` (from the notebook's own folder, or ~/course/) to your instructor, with
// the time. Submitting again keeps every earlier one: the instructor grades the latest.
//
// It only works on a class hub: the hub tells your kernel where the class's drop folder is
// (the ROLLCALL_SUBMIT_DIR variable, or the file ~/.rollcall-submit-dir). In that folder you
// can add files but not see anyone's, and nobody can see yours.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A lesson's id: letters, digits, dot, dash, underscore (no folders). Collect's LESSON_ID (exchange.ts) is the same: src/ imports nothing of the engine. */
const LESSON = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Far more than any lesson's notebook: a bigger file is not a notebook (collect's SUBMISSION_MAX_BYTES, the same). */
const MAX_BYTES = 5 * 1024 * 1024;

/** Where the class's drop folder is, if this machine is a class hub. */
function dropFolder(): string | undefined {
  const fromEnv = process.env.ROLLCALL_SUBMIT_DIR;
  if (fromEnv) return fromEnv;
  const file = path.join(os.homedir(), ".rollcall-submit-dir");
  return existsSync(file) ? readFileSync(file, "utf8").trim() || undefined : undefined;
}

/** `01-arrays (new version 2026-12-02 2)`, as the hand-out names a newer lesson put beside a learner's own: the lesson's id first. */
const NEW_VERSION = /^(.+) \(new version [0-9-]+(?: \d+)?\)$/;

/** When `file` was last saved; -Infinity when it cannot be looked at. */
function savedAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/**
 * The newest version of the lesson the hand-out put beside `notebook`, saved after `savedMs`: the
 * file a learner may have meant. By time saved, not by name (`… 2026-12-02 2).ipynb` sorts before
 * `… 2026-12-02).ipynb`); a name that cannot be looked at (a dangling link, a loop) is no version.
 */
function newerVersionBeside(notebook: string, id: string, savedMs: number): string | undefined {
  const folder = path.dirname(notebook);
  return readdirSync(folder)
    .filter((file) => file.endsWith(".ipynb") && NEW_VERSION.exec(file.slice(0, -".ipynb".length))?.[1] === id)
    .map((file) => ({ file, saved: savedAt(path.join(folder, file)) }))
    .filter(({ file, saved }) => path.join(folder, file) !== notebook && saved > savedMs)
    .sort((a, b) => a.saved - b.saved)
    .at(-1)?.file;
}

/** The saved notebook: next to the running notebook first (Jupyter starts the kernel there), then ~/course/. */
function findNotebook(lesson: string): string | undefined {
  const name = `${lesson}.ipynb`;
  return [path.join(process.cwd(), name), path.join(os.homedir(), "course", name)].find((file) => existsSync(file));
}

/** `20261202T104213123Z`: sorts by time, and has no character a file name minds. */
const stamp = (at: Date): string => at.toISOString().replace(/[-:.]/g, "");
const clock = (at: Date): string => at.toTimeString().slice(0, 5);

/**
 * Sends your saved notebook for `lesson` to the instructor and says when, e.g.
 * "submitted 01-arrays at 10:42". Save first (Ctrl-S): what is sent is the file on disk, and the
 * message says when it was last saved so that you can tell.
 *
 * @example
 * submit("01-arrays"); // submitted 01-arrays at 10:42 (saved 10:41)
 */
export function submit(lesson: string): void {
  const name = lesson.replace(/\.ipynb$/, "");
  // the hand-out's "01-arrays (new version 2026-12-02)" is the lesson 01-arrays too
  const id = NEW_VERSION.exec(name)?.[1] ?? name;
  if (!LESSON.test(id)) {
    console.log(`"${lesson}" is no lesson name: write it as the notebook's name without .ipynb, e.g. submit("01-arrays").`);
    return;
  }
  const drop = dropFolder();
  if (!drop) {
    console.log(
      "This machine has no class hub to submit to. Save the notebook (Ctrl-S), then File → Download, and send the file to your instructor.",
    );
    return;
  }
  const notebook = findNotebook(name);
  if (!notebook) {
    console.log(`There is no ${name}.ipynb here nor in ~/course/. Check the lesson's name (the notebook's file name, without .ipynb).`);
    return;
  }
  const saved = statSync(notebook);
  if (saved.size > MAX_BYTES) {
    console.log(
      `${notebook} is over 5 MB, too big for a lesson's notebook: clear large outputs (Edit → Clear All Outputs), save, and try again.`,
    );
    return;
  }
  const bytes = readFileSync(notebook);
  const at = new Date();
  // On a Kubernetes hub every server runs as the same Unix user; the hub's name for you is JUPYTERHUB_USER.
  const user = process.env.JUPYTERHUB_USER ?? os.userInfo().username;
  // Only you can read it (0600); the name says who, what and when, but the instructor trusts the file's owner, not its name.
  // Anyone may add a file to the drop folder, so a classmate could take the names of your next
  // submissions first: a random tail makes a name nobody can guess, and another is tried if taken.
  const failed = writeUnderNewName(() => path.join(drop, `${user}+${id}+${stamp(at)}-${randomBytes(4).toString("hex")}.ipynb`), bytes);
  if (failed) {
    console.log(`Could not submit ${id} to ${drop} (${failed.message}). Try again; if it persists, tell your instructor.`);
    return;
  }
  const ageMinutes = Math.round((at.getTime() - saved.mtimeMs) / 60000);
  const note = ageMinutes >= 2 ? ` If you changed it since, save (Ctrl-S) and submit again.` : "";
  console.log(`submitted ${id} at ${clock(at)} (saved ${clock(saved.mtime)}).${note}`);
  const later = newerVersionBeside(notebook, id, saved.mtimeMs);
  if (later)
    console.log(
      `The file sent is ${path.basename(notebook)}, but ${later} beside it was saved later. If you worked in that one, submit("${later.replace(/\.ipynb$/, "")}").`,
    );
}

/** Writes `bytes` to a file of its own (0600) at a fresh `name()`, trying another name when one is taken; the error if it could not. */
function writeUnderNewName(name: () => string, bytes: Buffer, attempts = 5): Error | undefined {
  for (let attempt = 1; ; attempt++) {
    try {
      const fd = openSync(name(), "wx", 0o600);
      try {
        writeSync(fd, bytes);
        if (fstatSync(fd).size !== bytes.length) throw new Error("the drop folder did not take the whole notebook");
      } finally {
        closeSync(fd);
      }
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt === attempts) return error as Error;
    }
  }
}
