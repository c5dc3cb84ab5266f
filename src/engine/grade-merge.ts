/**
 * What merging the out folders of shards means, decided without touching the
 * disk: which results and feedback pages go into the merged folder, and every
 * reason to refuse (a folder the grader did not write, lessons or splits that
 * differ, a missing shard, one learner with two different results). A refused
 * merge writes nothing.
 */
import path from "node:path";
import { formatShard, SHARD_MARKER, type ShardMarker } from "./grade-shard.js";
import { failed, ok, type Problem, type Result } from "./problem.js";

/** A file of an out folder, as the edge found it: its name and the SHA-256 of its bytes. */
export interface FoundFile {
  readonly name: string;
  readonly sha256: string;
}

/** A results file, with the lesson it says it is of; undefined when it is not a result the grader writes. */
export interface FoundResult extends FoundFile {
  readonly lesson: string | undefined;
}

/** What one folder holds, as the edge read it. */
export interface FolderContents {
  readonly folder: string;
  /** Whether it is a folder at all. */
  readonly exists: boolean;
  readonly hasGradebook: boolean;
  readonly marker: ShardMarker | "unreadable" | undefined;
  readonly results: readonly FoundResult[];
  readonly feedback: readonly FoundFile[];
  /** Entries of results/ or feedback/ the grader never writes there (temporaries of a killed run are not listed). */
  readonly strangers: readonly string[];
}

export type Kind = "results" | "feedback";

/** One file to copy: from `from`, to `out/kind/name`. */
export interface Copy {
  readonly kind: Kind;
  readonly name: string;
  readonly from: string;
}

export interface MergePlan {
  readonly lesson: string;
  /** Sorted by kind, then name: the same folders always give the same plan. */
  readonly copies: readonly Copy[];
  readonly learners: number;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Problems with a folder taken on its own: it must be one that `npm run grade -- --out` wrote. */
function folderProblems(c: FolderContents): Problem[] {
  const notOut = (why: string): Problem => ({
    file: c.folder,
    message: `${why}: it is not a grader's out folder; merge the folders that npm run grade -- --out wrote`,
  });
  if (!c.exists) return [{ file: c.folder, message: "no such folder" }];
  if (!c.hasGradebook) return [notOut("it has no gradebook.csv")];
  return [
    ...(c.marker === "unreadable" ? [notOut(`its ${SHARD_MARKER} is not one the grader wrote`)] : []),
    ...c.strangers.map((s) => notOut(`${s} is not a file the grader writes`)),
    ...c.results.filter((r) => r.lesson === undefined).map((r) => notOut(`results/${r.name} is not a grader's result`)),
  ];
}

/** Every lesson the folders name (their markers and their results), with one folder that names each. */
function lessonsOf(sources: readonly FolderContents[]): Map<string, string> {
  const lessons = new Map<string, string>();
  for (const c of sources) {
    if (c.marker && c.marker !== "unreadable" && !lessons.has(c.marker.lesson)) lessons.set(c.marker.lesson, c.folder);
    for (const r of c.results) if (r.lesson !== undefined && !lessons.has(r.lesson)) lessons.set(r.lesson, c.folder);
  }
  return lessons;
}

/** The shards must be one split, each once and all of it (a missing shard would leave its learners out of the gradebook). */
function shardProblems(sources: readonly FolderContents[]): Problem[] {
  const shards = sources.flatMap((c) =>
    c.marker && c.marker !== "unreadable" ? [{ folder: c.folder, shard: c.marker.shard, finished: c.marker.finished }] : [],
  );
  if (!shards.length) return [];
  // A plain run's folder beside shards would bring learners no shard graded (or grade twice those one did).
  const unmarked = sources.filter((c) => !c.marker).map((c) => c.folder);
  if (unmarked.length)
    return [
      {
        message: `${unmarked.join(", ")} ${unmarked.length === 1 ? "is not a shard" : "are not shards"}: merge the out folders of one split's shards only`,
      },
    ];
  const totals = [...new Set(shards.map((s) => s.shard.total))];
  if (totals.length > 1)
    return [
      {
        message: `the folders are of different splits (${shards.map((s) => `${s.folder} is shard ${formatShard(s.shard)}`).join(", ")}): merge the shards of one split`,
      },
    ];
  const total = totals[0] ?? 0;
  const problems: Problem[] = shards
    .filter((s) => !s.finished)
    .map((s) => ({
      file: s.folder,
      message: `shard ${formatShard(s.shard)} has not finished grading: wait for it, or run it again (it picks up where it stopped), then merge`,
    }));
  for (let index = 1; index <= total; index++) {
    const holders = shards.filter((s) => s.shard.index === index).map((s) => s.folder);
    if (holders.length > 1) problems.push({ message: `${holders.join(" and ")} are all shard ${index}/${total}: merge each shard once` });
    if (!holders.length)
      problems.push({
        message: `shard ${index}/${total} is missing: merge the out folders of all ${total} shards, once each has finished`,
      });
  }
  return problems;
}

/**
 * Which file goes where, or why not: `sources` are the shards' out folders, `target`
 * what the merged folder holds already (it may hold only what the shards hold, so
 * that merging again is harmless), `lesson` the one the user named, if any.
 */
export function planMerge(
  out: string,
  sources: readonly FolderContents[],
  target: Pick<FolderContents, "exists" | "marker" | "results" | "feedback">,
  lesson?: string,
): Result<MergePlan> {
  const problems = sources.flatMap(folderProblems);
  if (target.marker) problems.push({ file: out, message: "this is a shard's out folder: merge into a folder of its own" });

  const lessons = lessonsOf(sources);
  if (lesson !== undefined && [...lessons.keys()].some((l) => l !== lesson))
    problems.push({
      message: `the folders are not all of lesson ${lesson}: ${[...lessons].map(([l, folder]) => `${folder} holds ${l}`).join(", ")}`,
    });
  else if (lessons.size > 1)
    problems.push({
      message: `the folders are of different lessons (${[...lessons].map(([l, folder]) => `${folder} holds ${l}`).join(", ")}): merge the shards of one lesson`,
    });
  const theLesson = lesson ?? [...lessons.keys()][0];
  if (theLesson === undefined)
    problems.push({ message: "the folders hold no results nor a shard marker to tell their lesson: pass --lesson LESSON" });
  problems.push(...shardProblems(sources));

  const copies: Copy[] = [];
  const learners = new Set<string>();
  for (const kind of ["results", "feedback"] as const) {
    const chosen = new Map<string, { folder: string; sha256: string }>();
    for (const c of sources) {
      for (const f of c[kind]) {
        // A page without a result is what a run killed between the two writes left: its rerun writes both.
        if (kind === "feedback" && !learners.has(f.name.replace(/\.html$/, ""))) continue;
        const earlier = chosen.get(f.name);
        if (!earlier) chosen.set(f.name, { folder: c.folder, sha256: f.sha256 });
        else if (earlier.sha256 !== f.sha256)
          problems.push({
            file: f.name,
            message: `${earlier.folder} and ${c.folder} hold different ${kind} of this learner: regrade it in one shard only, or leave one folder out`,
          });
      }
    }
    const there = new Map(target[kind].map((f) => [f.name, f.sha256]));
    for (const [name, { folder, sha256 }] of [...chosen].sort(([a], [b]) => byName({ name: a }, { name: b }))) {
      if (kind === "results") learners.add(name.replace(/\.json$/, ""));
      const existing = there.get(name);
      if (existing === undefined) copies.push({ kind, name, from: path.join(folder, kind, name) });
      else if (existing !== sha256)
        problems.push({ file: path.join(out, kind, name), message: `is not the one in ${folder}: merge into a new or empty folder` });
    }
    const extra = [...there.keys()].filter((name) => !chosen.has(name)).sort();
    if (extra.length)
      problems.push({
        file: path.join(out, kind),
        message: `holds ${extra.length} file${extra.length === 1 ? "" : "s"} none of the shards hold (${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ", …" : ""}): merge into a new or empty folder`,
      });
  }
  if (problems.length || theLesson === undefined) return failed(problems);
  return ok({ lesson: theLesson, copies, learners: learners.size });
}
