/**
 * The class-wide files of a graded folder, made from its results folder alone:
 * whatever wrote the results (one run, a resumed run, merged shards), the same
 * results give the same files, byte for byte.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { writeAtomically } from "./atomic-write.js";
import { renderCanvasGradebook } from "./canvas-gradebook.js";
import { renderGradebook } from "./gradebook.js";
import type { LearnerResults } from "./results.js";

export async function readResults(folder: string, lessonId: string): Promise<LearnerResults[]> {
  const files = (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith(".json") && !f.startsWith(".")).sort();
  const all = await Promise.all(
    files.map(async (f) => {
      try {
        return JSON.parse(await readFile(path.join(folder, f), "utf8")) as LearnerResults;
      } catch {
        return undefined;
      }
    }),
  );
  return all.filter((r): r is LearnerResults => r?.lesson === lessonId);
}

/** Writes `out/gradebook.csv` and `out/gradebook-canvas.csv` (for Canvas's grade import) from `out/results/`; returns how many learners they hold. */
export async function writeClassReports(
  out: string,
  lessonId: string,
  exercises: readonly { id: string; points: number }[],
): Promise<number> {
  const all = await readResults(path.join(out, "results"), lessonId);
  await writeAtomically(path.join(out, "gradebook.csv"), renderGradebook(all, exercises));
  const possible = exercises.reduce((sum, e) => sum + e.points, 0);
  await writeAtomically(path.join(out, "gradebook-canvas.csv"), renderCanvasGradebook(all, lessonId, possible));
  return all.length;
}
