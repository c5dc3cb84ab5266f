/**
 * Hand-out: the course notebooks into a learner's home (`~/course/`), by nbgitpuller's rule: a
 * notebook the learner changed is never overwritten; the new version arrives beside it, named so
 * they see why. "Changed" means: differs from what was handed out last, whose digests a manifest
 * in the course folder remembers. The decision is `planHandOut` (pure); the writing is done with
 * the learner's own uid and gid (a child process when we are root), so that a link the learner
 * planted can never make us write where they could not, and every file is theirs.
 */
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { asLearner, type LearnerTask } from "./as-learner.js";
import { readUntrusted } from "./untrusted-file.js";
import { failed, ok, type Problem, type Result } from "./problem.js";
import { eachAtOnce } from "./at-once.js";

/** The folder, inside a home, the notebooks go to. */
export const COURSE_FOLDER = "course";
/** Digests of what was handed out last, by notebook name; the learner may delete it (then every differing file counts as changed). */
export const MANIFEST_FILE = ".rollcall-handed-out.json";

/** What one home got. */
export interface HandOutReport {
  readonly home: string;
  /** Notebooks written under their own name (new, or updated where the learner had not changed them). */
  readonly copied: readonly string[];
  /** Notebooks the learner changed: the new version was put beside, under this name. */
  readonly beside: readonly { readonly name: string; readonly besideName: string }[];
  /** Notebooks left as they are (already current, or deleted by the learner and not changed since). */
  readonly kept: readonly string[];
}

/** One learner's account, as the hub knows it. */
export interface HandOutAccount {
  readonly learner: string;
  readonly home: string;
  readonly uid: number;
  readonly gid: number;
}

/** Name → sha256 of the bytes. */
export type Digests = ReadonlyMap<string, string>;

/** One thing to do for one offered notebook; `record` is what the manifest remembers for it afterwards. */
export type HandOutStep =
  | { readonly kind: "copy"; readonly name: string; readonly why: "new" | "updated" | "restored" }
  | { readonly kind: "beside"; readonly name: string; readonly besideName: string }
  | { readonly kind: "keep"; readonly name: string; readonly why: "current" | "deleted" | "no-new-version" };

export interface HandOutPlan {
  readonly steps: readonly HandOutStep[];
  /** The manifest to write once the steps are done. */
  readonly manifest: ReadonlyMap<string, string>;
}

/** `01-arrays.ipynb` → `01-arrays (new version 2026-12-02).ipynb`, numbered when that name is taken. */
export function besideName(name: string, day: string, taken: (candidate: string) => boolean): string {
  const stem = name.replace(/\.ipynb$/, "");
  for (let n = 1; ; n += 1) {
    const candidate = `${stem} (new version ${day}${n === 1 ? "" : ` ${n}`}).ipynb`;
    if (!taken(candidate)) return candidate;
  }
}

/**
 * What to copy, what to put beside, what to leave, for each offered notebook:
 * - never handed out and absent: copied (new lesson);
 * - never handed out but present (no manifest, or a file of the learner's own): the same bytes are
 *   adopted; other bytes are the learner's, so the new one goes beside;
 * - handed out and unchanged by the learner: replaced by the new version (nothing lost);
 * - handed out and changed by the learner: kept; a new version, if any, goes beside;
 * - handed out and deleted by the learner: stays deleted, unless the instructor has changed the
 *   lesson since (then it is restored: it is news, and there is no edit to lose).
 * A notebook no longer offered (a renamed or withdrawn lesson) is not touched: its file stays, and
 * the new name arrives as a new lesson.
 */
export function planHandOut(offered: Digests, handedOut: Digests, present: Digests, day: string): HandOutPlan {
  const steps: HandOutStep[] = [];
  const manifest = new Map<string, string>();
  const takenNames = new Set(present.keys());
  const presentDigests = new Set(present.values());
  for (const [name, digest] of [...offered].sort(([a], [b]) => a.localeCompare(b))) {
    const last = handedOut.get(name);
    const now = present.get(name);
    const beside = (): HandOutStep => {
      const besideAs = besideName(name, day, (candidate) => takenNames.has(candidate));
      takenNames.add(besideAs);
      return { kind: "beside", name, besideName: besideAs };
    };
    let step: HandOutStep;
    if (now === undefined) {
      if (last === undefined) step = { kind: "copy", name, why: "new" };
      else if (last !== digest) step = { kind: "copy", name, why: "restored" };
      else step = { kind: "keep", name, why: "deleted" };
    } else if (now === digest) {
      step = { kind: "keep", name, why: "current" };
    } else if (last !== undefined && now === last) {
      step = { kind: "copy", name, why: "updated" };
    } else if (last === digest) {
      step = { kind: "keep", name, why: "no-new-version" };
    } else if (presentDigests.has(digest)) {
      // This version is already beside it (a second run the same day, or a copy the learner made).
      step = { kind: "keep", name, why: "current" };
    } else {
      step = beside();
    }
    steps.push(step);
    manifest.set(name, step.kind === "keep" && step.why === "deleted" && last !== undefined ? last : digest);
  }
  return { steps, manifest };
}

export const digestOf = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** The course notebooks: `*.ipynb` directly in `notebooksDir`, regular files only. */
async function readOffered(notebooksDir: string): Promise<Result<Map<string, Buffer>>> {
  const names = await readdir(notebooksDir).catch(() => undefined);
  if (!names)
    return failed([
      {
        file: notebooksDir,
        message: "cannot read the course notebooks here; run `npm run build` first, or pass the folder that holds them",
      },
    ]);
  const files = new Map<string, Buffer>();
  for (const name of names.filter((n) => n.endsWith(".ipynb")).sort()) {
    const file = path.join(notebooksDir, name);
    if ((await lstat(file)).isFile()) files.set(name, await readFile(file));
  }
  if (files.size === 0) return failed([{ file: notebooksDir, message: "holds no notebooks (*.ipynb); run `npm run build` first" }]);
  return ok(files);
}

/** Past this, a learner's file is no notebook the kit handed out (the course's are well under it). */
const PRESENT_MAX_BYTES = 20 * 1024 * 1024;

/** What the learner has: regular files by digest; anything else (a link, a folder, a FIFO, a huge file) under a digest no notebook has, so it counts as theirs. */
async function readPresent(course: string): Promise<Map<string, string>> {
  const present = new Map<string, string>();
  for (const name of await readdir(course).catch(() => [] as string[])) {
    if (name === MANIFEST_FILE) continue;
    // by descriptor: a FIFO the learner put there must not hang the hand-out
    const read = await readUntrusted(path.join(course, name), PRESENT_MAX_BYTES).catch(() => undefined);
    present.set(name, read ? digestOf(read.bytes) : `not a notebook: ${name}`);
  }
  return present;
}

async function readManifest(course: string): Promise<Map<string, string>> {
  const read = await readUntrusted(path.join(course, MANIFEST_FILE), PRESENT_MAX_BYTES).catch(() => undefined);
  const text = read?.bytes.toString("utf8") ?? "{}";
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null) return new Map();
    return new Map(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
  } catch {
    return new Map(); // a manifest the learner mangled: every differing file counts as theirs
  }
}

/** A new file, then a rename over the old one: a link in its place is replaced, never followed. */
async function writeWhole(file: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temporary, bytes, { flag: "wx" });
  await rename(temporary, file);
}

/** Runs the plan in `home/course/` with this process's own rights (the learner's, see `handOut`). */
export async function applyHandOut(home: string, offered: ReadonlyMap<string, Uint8Array>, day: string): Promise<HandOutReport> {
  const course = path.join(home, COURSE_FOLDER);
  await mkdir(course, { recursive: true });
  const plan = planHandOut(
    new Map([...offered].map(([name, bytes]) => [name, digestOf(bytes)])),
    await readManifest(course),
    await readPresent(course),
    day,
  );
  const copied: string[] = [];
  const beside: { name: string; besideName: string }[] = [];
  const kept: string[] = [];
  for (const step of plan.steps) {
    const bytes = offered.get(step.name) as Uint8Array;
    if (step.kind === "copy") {
      await writeWhole(path.join(course, step.name), bytes);
      copied.push(step.name);
    } else if (step.kind === "beside") {
      await writeWhole(path.join(course, step.besideName), bytes);
      beside.push({ name: step.name, besideName: step.besideName });
    } else kept.push(step.name);
  }
  await writeWhole(path.join(course, MANIFEST_FILE), `${JSON.stringify(Object.fromEntries(plan.manifest), null, 2)}\n`);
  return { home, copied, beside, kept };
}

const today = (): string => new Date().toISOString().slice(0, 10);

/** What the child that writes as the learner reads on stdin (`hand-out-worker.ts`). */
export interface WorkerInput {
  readonly home: string;
  readonly day: string;
  readonly files: Readonly<Record<string, string>>; // name → base64
}

/** `applyHandOut` for one `WorkerInput`: what the worker runs, and this process when it is the learner already. */
export const applyWorkerInput = (input: WorkerInput): Promise<HandOutReport> =>
  applyHandOut(input.home, new Map(Object.entries(input.files).map(([name, base64]) => [name, Buffer.from(base64, "base64")])), input.day);

const HAND_OUT: LearnerTask<WorkerInput, HandOutReport> = { worker: path.join(__dirname, "hand-out-worker.js"), run: applyWorkerInput };

/**
 * Hands the course out into one home. As root, the writing runs in a child with the learner's uid
 * and gid (`asLearner`), so the files are theirs and their links cannot send it elsewhere; as that
 * user already (a Kubernetes postStart hook), in this process.
 *
 * @example
 * const result = await handOut("/home/rc-ada", 1001, 1001, notebooksDir);
 * if (result.ok) console.log(result.value.beside); // [{ name: "01-arrays.ipynb", besideName: "01-arrays (new version 2026-12-02).ipynb" }]
 */
export async function handOut(home: string, uid: number, gid: number, notebooksDir: string): Promise<Result<HandOutReport>> {
  const offered = await readOffered(notebooksDir);
  if (!offered.ok) return offered;
  const info = await lstat(home).catch(() => undefined);
  if (!info?.isDirectory())
    return failed([{ file: home, message: "is no home folder; create the account first (`npm run hub -- --class NAME`)" }]);
  // As that user already, our rights are theirs (a Kubernetes home volume may well be root's, group-writable).
  if (process.getuid?.() !== uid && info.uid !== uid)
    return failed([{ file: home, message: `belongs to uid ${info.uid}, not ${uid}: refusing to hand out into another account's home` }]);
  const input: WorkerInput = {
    home,
    day: today(),
    files: Object.fromEntries([...offered.value].map(([name, bytes]) => [name, bytes.toString("base64")])),
  };
  const done = await asLearner({ uid, gid }, HAND_OUT, input);
  return done.ok ? ok(done.value) : failed([{ file: home, message: `hand-out as uid ${uid} stopped: ${done.error}` }]);
}

/** Every home's report, and the problems of the homes that failed (the rest went on). */
export interface ClassHandOut {
  readonly reports: readonly HandOutReport[];
  readonly problems: readonly Problem[];
}

/** Homes handed out to at once: each is a short-lived worker process, and a class server has few cores. */
const HAND_OUTS_AT_ONCE = 4;

/**
 * Hands out to every account, a few at a time; one home's failure is that home's problem, the rest go on.
 * Fails as a whole only when there is nothing to hand out.
 *
 * @example
 * const result = await handOutClass([{ learner: "ada", home: "/home/rc-ada", uid: 1001, gid: 1001 }], notebooksDir);
 * if (result.ok) for (const p of result.value.problems) console.error(formatProblem(p));
 */
export async function handOutClass(accounts: readonly HandOutAccount[], notebooksDir: string): Promise<Result<ClassHandOut>> {
  const offered = await readOffered(notebooksDir);
  if (!offered.ok) return offered;
  // a few homes at a time: one that holds its worker up (say, a course folder of a million files) delays no one else's
  const results = await eachAtOnce(accounts, HAND_OUTS_AT_ONCE, (a) => handOut(a.home, a.uid, a.gid, notebooksDir));
  const reports: HandOutReport[] = [];
  const problems: Problem[] = [];
  results.forEach((result, i) => {
    if (result.ok) reports.push(result.value);
    else problems.push(...result.problems.map((p) => ({ ...p, message: `${accounts[i]?.learner}: ${p.message}` })));
  });
  return ok({ reports, problems });
}

/** `01-arrays.ipynb: new version beside it, as …`: one line per notebook that changed, for the instructor. */
export function describeHandOut(report: HandOutReport): string[] {
  return [
    ...report.copied.map((name) => `${name}: copied`),
    ...report.beside.map((b) => `${b.name}: changed by the learner, new version beside it as "${b.besideName}"`),
  ];
}
