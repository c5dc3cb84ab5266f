/** Lessons by id, read from lessons/: the one place that turns "01-arrays" into a lesson, or says which ids there are. */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import * as helpers from "../index.js";
import { gradableLesson, type GradableLesson } from "./grade.js";
import { isLessonFile, parseLesson, type Lesson } from "./lesson.js";
import { lessonsDir } from "./paths.js";
import { failed, type Result } from "./problem.js";

/** The ids of every lesson, in order. */
export async function lessonIds(): Promise<string[]> {
  return (await readdir(lessonsDir))
    .filter(isLessonFile)
    .map((f) => f.replace(/\.md$/, ""))
    .sort();
}

async function lessonText(id: string): Promise<Result<{ text: string; file: string }>> {
  const file = `lessons/${id}.md`;
  const text = /^[\w-]+$/.test(id) ? await readFile(path.join(lessonsDir, `${id}.md`), "utf8").catch(() => undefined) : undefined;
  if (text === undefined) return failed([{ file, message: `there is no lesson '${id}': choose one of ${(await lessonIds()).join(", ")}` }]);
  return { ok: true, value: { text, file } };
}

export async function loadLesson(id: string): Promise<Result<Lesson>> {
  const found = await lessonText(id);
  return found.ok ? parseLesson(found.value.text, found.value.file) : found;
}

/** A lesson with its checks compiled for grading. */
export async function loadGradableLesson(id: string): Promise<Result<GradableLesson>> {
  const found = await lessonText(id);
  return found.ok ? gradableLesson(found.value.text, found.value.file, Object.keys(helpers)) : found;
}
