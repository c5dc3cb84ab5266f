/**
 * The class's exchange on one server: a drop folder learners submit into (root's, mode 1733 like
 * nbgrader's: anyone can add a file, nobody can list the folder or touch another's file), collect
 * (each learner's latest submission of a lesson, into the folder `npm run grade` takes) and return
 * (each learner's feedback page into their own home). Who a file is from is its owner's uid, never
 * its name; when it was handed in is its ctime, which a learner cannot set back.
 */
import { chmod, chown, lstat, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { asLearner } from "./as-learner.js";
import { writeAtomically } from "./atomic-write.js";
import { LEARNER_FILES } from "./learner-files.js";
import { failed, ok, type Problem, type Result } from "./problem.js";
import { markedAccounts } from "./unix-accounts.js";
import { readUntrusted } from "./untrusted-file.js";

/** Every class's exchange lives under here: `/srv/rollcall/CLASS/inbound`. */
export const EXCHANGE_ROOT = "/srv/rollcall";
/** The variable the hub's spawner sets in each learner's server, which `submit()` reads. */
export const SUBMIT_DIR_VARIABLE = "ROLLCALL_SUBMIT_DIR";
/** The largest submission collected or kept: a notebook with outputs is well under it. */
export const SUBMISSION_MAX_BYTES = 5 * 1024 * 1024;

/** A lesson's id as a file name may hold it: no folders, no leading dot. */
export const LESSON_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const badLesson = (lesson: string): Problem => ({
  message: `"${lesson}" is no lesson id (letters, digits, ".", "-", "_"), e.g. 01-arrays`,
});

export const dropFolderOf = (className: string, root = EXCHANGE_ROOT): string => path.join(root, className, "inbound");

/** A learner's account, as `getent passwd` tells it. */
export interface Account {
  /** The Unix name (`rc-ada`): the learner's name in collected folders and feedback pages. */
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** The class's accounts, as the hub made and marked them (`unix-accounts.ts`): nothing else is ever read or written. */
export const classAccounts = (className: string): Account[] =>
  markedAccounts(className).map((e) => ({ name: e.user, uid: e.uid, gid: e.gid, home: e.home }));

/** The drop folder, made (or made right): root's, mode 1733. For the hub, which then sets `ROLLCALL_SUBMIT_DIR` to it. */
export async function makeDropFolder(className: string, root = EXCHANGE_ROOT): Promise<string> {
  const drop = dropFolderOf(className, root);
  await mkdir(drop, { recursive: true, mode: 0o755 });
  await chown(drop, 0, 0);
  await chmod(drop, 0o1733);
  return drop;
}

/** `rc-ada+01-arrays+20261202T104213123Z-9f3ac01b.ipynb`, as `submit()` names it (the random tail is optional: older kits wrote none). */
export function parseSubmissionName(file: string): { readonly user: string; readonly lesson: string } | undefined {
  // a hub's name for a learner may hold "+" (an email); a lesson id and the time cannot, so the last two "+" split it
  const match = /^([^/]+)\+([A-Za-z0-9][A-Za-z0-9._-]*)\+(\d{8}T\d{9}Z)(?:-[0-9a-f]{8})?\.ipynb$/.exec(file);
  return match ? { user: match[1] as string, lesson: match[2] as string } : undefined;
}

/**
 * The due time `--due` gives, in ms: an ISO date and time (`2026-12-02T23:59`, local unless it
 * ends in `Z` or an offset such as `+01:00`), or a date alone for the end of that day (local).
 * Anything else, including what `Date.parse` would guess at ("Dec 2", "2026-13-45"), is undefined.
 */
export function parseDueTime(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = match;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h ?? 23), Number(mi ?? 59), Number(sec ?? (h ? 0 : 59))] as const;
  const ms = frac !== undefined ? Number(frac.padEnd(3, "0")) : h ? 0 : 999;
  // a field out of range rolls over in Date (Feb 30 → Mar 2): not a time anyone meant. A zoned
  // time is checked as UTC (the local clock may skip that hour), a local one as local
  const time =
    zone === undefined ? new Date(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], ms) : new Date(Date.UTC(...parts, ms));
  const fields =
    zone === undefined
      ? [time.getFullYear(), time.getMonth(), time.getDate(), time.getHours(), time.getMinutes(), time.getSeconds()]
      : [time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate(), time.getUTCHours(), time.getUTCMinutes(), time.getUTCSeconds()];
  if (fields.some((field, i) => field !== parts[i])) return undefined;
  if (zone === undefined || zone === "Z") return time.getTime();
  const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
  if (hours > 14 || minutes > 59) return undefined; // no zone is further from UTC
  return time.getTime() - (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** One file in the drop folder, as `lstat` saw it. */
export interface DroppedFile {
  /** The file's name (what `submit()` named it) and where it is. */
  readonly file: string;
  readonly path: string;
  readonly ownerUid: number;
  /** Last change of the inode (ms): a learner can set mtime, not ctime. The file copied must still have it. */
  readonly changedMs: number;
  /** When it was handed in (ms), for `--due` and which is latest: its ctime, or what `--remove` recorded when it moved the file. */
  readonly handedInMs: number;
  readonly regular: boolean;
  readonly links: number;
  readonly size: number;
  /** The inode looked at: the file copied must be this one, not what the name points to by then. */
  readonly ino: number;
}

export interface CollectPlan {
  /** Account name → the file to take. */
  readonly latest: ReadonlyMap<string, DroppedFile>;
  /** Files passed over, and why (a forged name, a link, past the due time). */
  readonly notes: readonly string[];
}

/**
 * KubeSpawner's `{username}` for a hub's name for a learner (its escape scheme, chart 2.0.0):
 * a-z and 0-9 kept, every other byte of the name in UTF-8 as "-" and its hex, lowercased
 * (`ada.lovelace` → `ada-2elovelace`). The learner's folder on a Kubernetes exchange has this name.
 */
export const kubeSpawnerName = (user: string): string =>
  [...Buffer.from(user, "utf8")]
    .map((b) => (/^[a-z0-9]$/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `-${b.toString(16)}`))
    .join("");

/**
 * Each learner's latest submission of `lesson` at or before `dueMs`. Who it is from: on one
 * machine the file's owner, and a file whose name says another user is passed over with a note,
 * never credited to anyone; on Kubernetes (`by: "folder"`) the folder, which only that learner's
 * server can write into, whatever the file's name says (a name that is not the folder's is noted).
 */
export function planCollect(
  files: readonly DroppedFile[],
  accounts: readonly Account[],
  lesson: string,
  dueMs?: number,
  by: "owner" | "folder" = "owner",
): CollectPlan {
  const byUid = new Map(accounts.map((a) => [a.uid, a]));
  const latest = new Map<string, DroppedFile>();
  const notes: string[] = [];
  let late = 0;
  for (const f of [...files].sort((a, b) => a.file.localeCompare(b.file))) {
    const named = parseSubmissionName(f.file);
    if (!named || named.lesson !== lesson) continue;
    const owner = byUid.get(f.ownerUid);
    if (!owner) notes.push(`${f.file}: owned by uid ${f.ownerUid}, no account of this class: skipped`);
    else if (by === "owner" && named.user !== owner.name)
      notes.push(`${f.file}: named for ${named.user} but owned by ${owner.name}: rejected (a submission is its owner's)`);
    else if (!f.regular || f.links !== 1) notes.push(`${f.file}: not a plain file (a link?): skipped`);
    else if (f.size > SUBMISSION_MAX_BYTES) notes.push(`${f.file}: ${f.size} bytes, over 5 MB: skipped`);
    else if (dueMs !== undefined && f.handedInMs > dueMs) late += 1;
    else {
      if (by === "folder" && named.user !== owner.name && kubeSpawnerName(named.user) !== owner.name)
        notes.push(`${f.file}: named for ${named.user}, in ${owner.name}'s folder: taken as ${owner.name}'s (the folder says who)`);
      const kept = latest.get(owner.name);
      if (!kept || f.handedInMs > kept.handedInMs || (f.handedInMs === kept.handedInMs && f.file > kept.file)) latest.set(owner.name, f);
    }
  }
  if (late > 0) notes.push(`${late} submission(s) after the due time were left out`);
  return { latest, notes };
}

export interface Collected {
  readonly learners: readonly string[];
  readonly notes: readonly string[];
}

/** The files in a drop folder as `lstat` sees them (owned by `ownerUid` when the folder, not the owner, says who). */
export async function droppedFiles(dir: string, ownerUid?: number): Promise<DroppedFile[]> {
  const files: DroppedFile[] = [];
  for (const file of await readdir(dir)) {
    const info = await lstat(path.join(dir, file)).catch(() => undefined);
    if (!info) continue;
    const uid = ownerUid ?? info.uid;
    files.push({
      file,
      path: path.join(dir, file),
      ownerUid: uid,
      changedMs: info.ctimeMs,
      handedInMs: info.ctimeMs,
      regular: info.isFile(),
      links: info.nlink,
      size: info.size,
      ino: info.ino,
    });
  }
  return files;
}

/** The file that marks a folder collect wrote: only there are an earlier collect's copies removed. */
const COLLECT_MARK = ".rollcall-collected";

/**
 * Copies the planned files into `out` (0700, each copy 0600: the class's work is not for other
 * learners on this machine). Each is read by descriptor (`untrusted-file.ts`) and must still be
 * the inode planned: a learner who swaps their file for a link, a FIFO or a growing file between
 * the look and the copy gets a note, and no one else's work.
 */
export async function copyCollected(plan: CollectPlan, lesson: string, out: string): Promise<Result<Collected>> {
  const made = await mkdir(out, { recursive: true, mode: 0o700 }).then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error,
  );
  if (made) return failed([{ file: out, message: `cannot be made a folder here (${made.code ?? made.message}): choose another OUT` }]);
  // an earlier collect's copies are removed below, so OUT must be collect's own: new, empty, or marked
  const present = await readdir(out);
  if (present.length && !present.includes(COLLECT_MARK))
    return failed([
      {
        file: out,
        message: "holds files an earlier collect did not write: choose a new or empty folder for OUT (or one collect wrote before)",
      },
    ]);
  // made private even when it was there already (mkdir's mode is only for a folder it makes): its names are the class's accounts
  await chmod(out, 0o700);
  if (!present.length)
    await writeAtomically(path.join(out, COLLECT_MARK), "written by npm run collect (npm run grade takes this folder)\n", 0o600);
  const learners: string[] = [];
  const notes = [...plan.notes];
  for (const [learner, f] of plan.latest) {
    const read = await readUntrusted(f.path, SUBMISSION_MAX_BYTES, { singleLink: true }).catch((error: Error) => error);
    // the file planned, as it was planned: a rewrite in place after the due time keeps the inode, not the ctime
    const same = !(read instanceof Error) && read.info.ino === f.ino && read.info.ctimeMs === f.changedMs && read.info.size === f.size;
    if (!same) {
      notes.push(`${f.file}: changed while being collected (${read instanceof Error ? read.message : "written again since"}): skipped`);
      continue;
    }
    const target = path.join(out, learner, `${lesson}.ipynb`);
    try {
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await writeAtomically(target, read.bytes, 0o600);
    } catch (error) {
      return failed([
        {
          file: target,
          message: `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): choose another OUT`,
        },
      ]);
    }
    learners.push(learner);
  }
  // a copy from an earlier collect would be graded as if handed in this time
  for (const entry of await readdir(out, { withFileTypes: true })) {
    if (!entry.isDirectory() || learners.includes(entry.name)) continue;
    const stale = path.join(out, entry.name, `${lesson}.ipynb`);
    if (
      await rm(stale).then(
        () => true,
        () => false,
      )
    )
      notes.push(`${stale}: from an earlier collect, with nothing from ${entry.name} this time: removed`);
  }
  return ok({ learners: learners.sort(), notes });
}

/** Copies each learner's latest submission to `out/<account>/<lesson>.ipynb`. */
export async function collect(
  drop: string,
  accounts: readonly Account[],
  lesson: string,
  out: string,
  dueMs?: number,
): Promise<Result<Collected>> {
  if (!LESSON_ID.test(lesson)) return failed([badLesson(lesson)]);
  const files = await droppedFiles(drop).catch(() => undefined);
  if (!files) return failed([{ file: drop, message: "cannot read the class's drop folder; is this the hub's machine, and are you root?" }]);
  return copyCollected(planCollect(files, accounts, lesson, dueMs), lesson, out);
}

/**
 * A learner's folder name on an exchange: KubeSpawner's escaped `{username}` (which starts with
 * "-" when the name starts with neither a letter nor a digit), or an account name `--remove` kept.
 */
const FOLDER_NAME = /^[A-Za-z0-9-][A-Za-z0-9._-]*$/;
/** The folder `--remove` keeps a file in whose owner was no account of the class (hub-setup.ts). */
const NO_ACCOUNT_FOLDER = /^uid-(\d+)$/;

/** The learners of an exchange kept as one folder per learner, with the folders' paths; what is no learner's folder is noted. */
async function learnerFolders(root: string, kept: boolean): Promise<{ folders: Account[]; notes: string[] } | undefined> {
  const names = await readdir(root).catch(() => undefined);
  if (!names) return undefined;
  const folders: Account[] = [];
  const notes: string[] = [];
  for (const name of names.sort()) {
    const info = await lstat(path.join(root, name));
    const uid = NO_ACCOUNT_FOLDER.exec(name)?.[1];
    if (!info.isDirectory()) continue;
    if (name === "lost+found") continue; // a volume's own
    if (!FOLDER_NAME.test(name)) notes.push(`${name}/: no learner's folder name: skipped`);
    else if (kept && uid !== undefined) notes.push(`${name}/: files of uid ${uid}, no account of this class: skipped`);
    else {
      if (uid !== undefined)
        notes.push(
          `${name}/: taken as a learner's folder; were it one --remove kept, its ${KEPT_INDEX} is not beside it (collect from where --remove put it)`,
        );
      folders.push({ name, uid: folders.length, gid: -1, home: path.join(root, name) });
    }
  }
  return { folders, notes };
}

/**
 * Collect from one folder per learner. On Kubernetes each learner's server mounts only its own
 * subfolder (`{username}`) of the exchange volume, so the folder says who; all pods share one
 * uid there, so ownership says nothing. A folder `--remove` kept (its index beside it) was
 * sorted by owner, so the folder is the owner, and the one-machine rules hold as they did
 * before the move: a file named for someone else is rejected, and one of no account is skipped.
 */
export async function collectFolders(
  root: string,
  lesson: string,
  out: string,
  dueMs?: number,
): Promise<Result<Collected & { readonly kept: boolean }>> {
  if (!LESSON_ID.test(lesson)) return failed([badLesson(lesson)]);
  const handedIn = await recordedHandIns(root);
  const found = await learnerFolders(root, handedIn !== undefined);
  if (!found) return failed([{ file: root, message: "cannot read the exchange's inbound folder; mount the exchange volume here" }]);
  const { folders, notes } = found;
  const files = (await Promise.all(folders.map((f) => droppedFiles(f.home, f.uid)))).flat().map((f) => {
    const at = handedIn?.get(path.relative(root, f.path));
    return at === undefined ? f : { ...f, handedInMs: at };
  });
  const plan = planCollect(files, folders, lesson, dueMs, handedIn ? "owner" : "folder");
  const copied = await copyCollected({ ...plan, notes: [...notes, ...plan.notes] }, lesson, out);
  return copied.ok ? ok({ ...copied.value, kept: handedIn !== undefined }) : copied;
}

/** The index `--remove` writes beside the submissions it keeps (hub-setup.ts): `file,account,uid,handedIn`. */
export const KEPT_INDEX = "submissions.csv";

/** Where the index of a folder `--remove` kept is: beside it. A folder with none there is a Kubernetes exchange. */
const keptIndexOf = (root: string): string => path.join(path.dirname(path.resolve(root)), KEPT_INDEX);

/**
 * When each file of a folder `--remove` kept was handed in, from its index beside it (file → ms):
 * the copies' ctimes are the time of the move. Undefined for any other folder (a Kubernetes exchange
 * has no index, and a learner's pod cannot write one there: it mounts its own folder alone).
 */
async function recordedHandIns(root: string): Promise<Map<string, number> | undefined> {
  const times = new Map<string, number>();
  const text = await readFile(keptIndexOf(root), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    for (const row of parse(text, { columns: true, skip_empty_lines: true }) as { file?: string; handedIn?: string }[]) {
      const at = Date.parse(row.handedIn ?? "");
      if (row.file && Number.isFinite(at)) times.set(row.file, at);
    }
  } catch {
    // a damaged index: the files' own times, as for any folder
  }
  return times;
}

/** Which feedback page goes to which home; a name that is no account of the class is reported, never written. */
export function planReturn(
  pages: readonly string[],
  accounts: readonly Account[],
): { readonly deliver: ReadonlyMap<string, Account>; readonly unknown: readonly string[] } {
  const byName = new Map(accounts.map((a) => [a.name, a]));
  const deliver = new Map<string, Account>();
  const unknown: string[] = [];
  for (const page of [...pages].sort()) {
    if (!page.endsWith(".html")) continue;
    const account = byName.get(page.slice(0, -".html".length));
    if (account) deliver.set(page, account);
    else unknown.push(page);
  }
  return { deliver, unknown };
}

/** Writes `file` whole as the learner (their rights, their file, `as-learner.ts`): a link they planted cannot send it elsewhere. */
async function writeAsLearner(account: Account, file: string, bytes: Buffer): Promise<string | undefined> {
  const done = await asLearner(account, LEARNER_FILES, {
    op: "write",
    file,
    base64: bytes.toString("base64"),
    mode: 0o644,
    makeFolder: true,
  });
  return done.ok ? undefined : done.error;
}

export interface Returned {
  readonly delivered: readonly string[];
  readonly problems: readonly Problem[];
}

/**
 * The pages `npm run grade` wrote into `marks/feedback/`, or why they are not for `lesson`: no
 * such folder, or marks of another lesson (each result names its lesson; a grade folder holds one).
 */
async function feedbackPages(marks: string, lesson: string): Promise<Result<{ folder: string; pages: string[] }>> {
  const folder = path.join(marks, "feedback");
  const pages = await readdir(folder).catch(() => undefined);
  if (!pages) return failed([{ file: folder, message: "holds no feedback pages; pass the folder `npm run grade` wrote (its --out)" }]);
  const results = path.join(marks, "results");
  const first = (await readdir(results).catch(() => [] as string[])).find((f) => f.endsWith(".json"));
  let graded: unknown;
  try {
    if (first) graded = (JSON.parse(await readFile(path.join(results, first), "utf8")) as { lesson?: unknown }).lesson;
  } catch {
    // a damaged result says nothing of the lesson; the pages are still the grader's
  }
  if (typeof graded === "string" && graded !== lesson)
    return failed([
      {
        file: marks,
        message: `holds the marks of ${graded}, not ${lesson}: return them as ${graded}, or pass the folder graded for ${lesson}`,
      },
    ]);
  return ok({ folder, pages });
}

/** Puts `marks/feedback/<account>.html` into that account's home as `feedback/<lesson>.html`, and nowhere else. */
export async function returnFeedback(marks: string, accounts: readonly Account[], lesson: string): Promise<Result<Returned>> {
  if (!LESSON_ID.test(lesson)) return failed([badLesson(lesson)]);
  const found = await feedbackPages(marks, lesson);
  if (!found.ok) return found;
  const { folder, pages } = found.value;
  const plan = planReturn(pages, accounts);
  const problems: Problem[] = plan.unknown.map((page) => ({
    file: path.join(folder, page),
    message: "names no learner of this class: not returned",
  }));
  const delivered: string[] = [];
  for (const [page, account] of plan.deliver) {
    const source = path.join(folder, page);
    const info = await lstat(source);
    if (!info.isFile()) {
      problems.push({ file: source, message: "is not a regular file: not returned" });
      continue;
    }
    const error = await writeAsLearner(account, path.join(account.home, "feedback", `${lesson}.html`), await readFile(source));
    if (error) problems.push({ file: source, message: `could not be put into ${account.home}/feedback: ${error}` });
    else delivered.push(account.name);
  }
  return ok({ delivered, problems });
}

/**
 * Return on Kubernetes: `marks/feedback/<learner>.html` into `root/<learner>/<lesson>.html`, the
 * folder that learner's server mounts (read-only) as `~/feedback`; only into folders that exist
 * (made when the learner's server first started), never a new one from a page's name.
 */
export async function returnToFolders(marks: string, root: string, lesson: string): Promise<Result<Returned>> {
  if (!LESSON_ID.test(lesson)) return failed([badLesson(lesson)]);
  const found = await feedbackPages(marks, lesson);
  if (!found.ok) return found;
  const { folder, pages } = found.value;
  const learners = (await learnerFolders(root, false))?.folders;
  if (!learners) return failed([{ file: root, message: "cannot read the exchange's outbound folder; mount the exchange volume here" }]);
  const plan = planReturn(pages, learners);
  const problems: Problem[] = plan.unknown.map((page) => ({
    file: path.join(folder, page),
    message: "names no learner's folder here: not returned",
  }));
  const delivered: string[] = [];
  for (const [page, learner] of plan.deliver) {
    const source = path.join(folder, page);
    if (!(await lstat(source)).isFile()) problems.push({ file: source, message: "is not a regular file: not returned" });
    else {
      await writeAtomically(path.join(learner.home, `${lesson}.html`), await readFile(source));
      delivered.push(learner.name);
    }
  }
  return ok({ delivered, problems });
}
