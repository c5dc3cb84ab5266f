/**
 * The disk side of merging shards (the decisions are `planMerge`'s): read what each
 * out folder holds, copy the results and pages the plan names, each atomically,
 * then write the class files from the merged results as one run would.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { writeAtomically } from "./atomic-write.js";
import { writeClassReports } from "./class-reports.js";
import { planMerge, type FolderContents, type FoundFile, type FoundResult } from "./grade-merge.js";
import { parseMarker, SHARD_MARKER } from "./grade-shard.js";
import { loadGradableLesson } from "./lesson-files.js";
import { failed, ok, type Result } from "./problem.js";
import { eachAtOnce } from "./at-once.js";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Files are read and written this many at a time: a class of ten thousand is mostly waiting on the disk. */
const AT_ONCE = 16;

/** What a result file says it is of: a grader's result names its version, learner and lesson. */
function lessonOf(bytes: Buffer): string | undefined {
  try {
    const r = JSON.parse(bytes.toString("utf8")) as { version?: unknown; learner?: unknown; lesson?: unknown };
    return r.version === 3 && typeof r.learner === "string" && typeof r.lesson === "string" ? r.lesson : undefined;
  } catch {
    return undefined;
  }
}

/** An out folder as `planMerge` needs to see it; only digests are kept, so ten thousand learners stay small. */
export async function readFolder(folder: string): Promise<FolderContents> {
  const empty = { folder, hasGradebook: false, marker: undefined, results: [], feedback: [], strangers: [] };
  if (!(await lstat(folder).catch(() => undefined))?.isDirectory()) return { ...empty, exists: false };
  const hasGradebook = (await lstat(path.join(folder, "gradebook.csv")).catch(() => undefined))?.isFile() ?? false;
  const markerText = await readFile(path.join(folder, SHARD_MARKER), "utf8").catch(() => undefined);
  const marker = markerText === undefined ? undefined : (parseMarker(markerText) ?? "unreadable");
  const results: FoundResult[] = [];
  const feedback: FoundFile[] = [];
  const strangers: string[] = [];
  for (const [kind, suffix] of [
    ["results", ".json"],
    ["feedback", ".html"],
  ] as const) {
    const entries = (await readdir(path.join(folder, kind), { withFileTypes: true }).catch(() => []))
      .filter((e) => !(e.name.startsWith(".") && e.name.endsWith(".tmp"))) // a killed run's half-written file
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const theirs = entries.filter((e) => e.isFile() && !e.name.startsWith(".") && e.name.endsWith(suffix));
    const kept = new Set(theirs);
    strangers.push(...entries.filter((e) => !kept.has(e)).map((e) => `${kind}/${e.name}`));
    const found = await eachAtOnce(theirs, AT_ONCE, async (e) => {
      const bytes = await readFile(path.join(folder, kind, e.name));
      return { name: e.name, sha256: sha256(bytes), lesson: kind === "results" ? lessonOf(bytes) : undefined };
    });
    if (kind === "results") results.push(...found);
    else feedback.push(...found.map(({ name, sha256 }) => ({ name, sha256 })));
  }
  return { folder, exists: true, hasGradebook, marker, results, feedback, strangers };
}

export interface Merged {
  readonly lesson: string;
  readonly learners: number;
  readonly copied: number;
}

/**
 * Merges the shards' out folders into `out`, or writes nothing and says why. The
 * gradebook's columns and points come from the lesson itself, loaded as a grading
 * run loads it, never from the results being merged.
 */
export async function mergeShards(out: string, folders: readonly string[], lesson?: string): Promise<Result<Merged>> {
  const sources = await Promise.all(folders.map(readFolder));
  const plan = planMerge(out, sources, await readFolder(out), lesson);
  if (!plan.ok) return plan;
  const grading = await loadGradableLesson(plan.value.lesson);
  if (!grading.ok) return failed(grading.problems);
  await eachAtOnce(plan.value.copies, AT_ONCE, async (copy) =>
    writeAtomically(path.join(out, copy.kind, copy.name), await readFile(copy.from, "utf8")),
  );
  const learners = await writeClassReports(out, plan.value.lesson, grading.value.tests.exercises);
  return ok({ lesson: plan.value.lesson, learners, copied: plan.value.copies.length });
}
