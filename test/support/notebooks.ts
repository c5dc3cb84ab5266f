/** Shared by the tests that run notebooks: the lessons, built fresh, and ways to read check results. */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildLesson, type BuiltLesson } from "../../src/engine/build.js";
import { isLessonFile, parseLesson, type Lesson } from "../../src/engine/lesson.js";
import { serializeNotebook, TSLAB_KERNELSPEC, type Notebook, type Output } from "../../src/engine/notebook.js";
import { instructorDir, lessonsDir } from "../../src/engine/paths.js";

export const CHECK_MIME = "application/vnd.rollcall.check+json";

export interface CheckReport {
  readonly exercise: string;
  readonly status: "pass" | "fail" | "todo";
  readonly tests: readonly { readonly name: string; readonly status: string; readonly message: string }[];
  readonly hints: readonly string[];
  readonly text: string;
}

/** Every lesson, or only those named in ROLLCALL_LESSONS (e.g. "02-random-picks,03-storing-student-data") while writing one. */
export async function allLessons(): Promise<Lesson[]> {
  const only = process.env.ROLLCALL_LESSONS?.split(",").map((s) => `${s.trim()}.md`);
  const files = (await readdir(lessonsDir)).filter((f) => isLessonFile(f) && (!only || only.includes(f))).sort();
  return Promise.all(
    files.map(async (f) => {
      const result = parseLesson(await readFile(path.join(lessonsDir, f), "utf8"), `lessons/${f}`);
      assert.ok(result.ok, `lessons/${f} does not parse: ${JSON.stringify(!result.ok && result.problems)}`);
      return result.value;
    }),
  );
}

/** Builds a lesson and writes its instructor copy where the kernel can import "rollcall" (build/instructor/). */
export async function writeInstructorCopy(lesson: Lesson): Promise<{ built: BuiltLesson; file: string }> {
  const built = buildLesson(lesson);
  await mkdir(instructorDir, { recursive: true });
  const file = path.join(instructorDir, `${lesson.id}.ipynb`);
  await writeFile(file, serializeNotebook(built.instructor));
  return { built, file };
}

/** Every self-check report a run printed, in order. */
export function checkReports(notebook: Notebook): CheckReport[] {
  const reports: CheckReport[] = [];
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    for (const output of cell.outputs) {
      if (output.output_type !== "display_data" || !(CHECK_MIME in output.data)) continue;
      const raw = output.data[CHECK_MIME];
      const report = raw as Omit<CheckReport, "text">;
      reports.push({ ...report, text: String(output.data["text/plain"] ?? "") });
    }
  }
  return reports;
}

/** Output a learner would read as something gone wrong: stderr text or an error. */
export function troubles(notebook: Notebook): string[] {
  return notebook.cells.flatMap((cell) =>
    cell.cell_type !== "code"
      ? []
      : cell.outputs.flatMap((o: Output) =>
          o.output_type === "error"
            ? [`${cell.id}: ${o.ename}: ${o.evalue}`]
            : o.output_type === "stream" && o.name === "stderr"
              ? [`${cell.id}: ${o.text}`]
              : [],
        ),
  );
}

/** A notebook of code cells c1, c2, … with these sources. */
export function notebookOf(...sources: string[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: TSLAB_KERNELSPEC },
    cells: sources.map((source, i) => ({ cell_type: "code", id: `c${i + 1}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
}

/** Each cell's outputs (null for text cells): what two runs of a notebook must agree on. */
export const codeOutputs = (notebook: Notebook): unknown[] => notebook.cells.map((c) => (c.cell_type === "code" ? c.outputs : null));

/** Runs `body`, then removes what it left in `folder` (a lesson's roll-call.sqlite, say): a test run leaves the learners' folder as it found it. */
export async function leavingNoFiles<T>(folder: string, body: () => Promise<T>): Promise<T> {
  await mkdir(folder, { recursive: true }); // a fresh clone has no build/ yet
  const before = new Set(await readdir(folder));
  try {
    return await body();
  } finally {
    for (const name of await readdir(folder)) if (!before.has(name)) await rm(path.join(folder, name), { recursive: true, force: true });
  }
}

/** A notebook cell as JSON on disk, loosely typed: the hostile tests write what no builder would. */
export interface RawCell {
  cell_type: string;
  id: string;
  metadata: { rollcall?: { role?: string; exercise?: string } } & Record<string, unknown>;
  source: string;
  outputs?: unknown[];
  execution_count?: null;
}
export interface RawNotebook {
  cells: RawCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}
