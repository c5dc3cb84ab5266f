#!/usr/bin/env node
/**
 * npm run build            lessons/*.md → notebooks/ and build/instructor/
 * npm run build -- --check fail if a committed notebook is out of date
 * (--lessons DIR, --notebooks DIR and --out DIR point elsewhere, for tests)
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { chalk, fs } from "zx";
import { buildLesson, glossaryNotebook, GLOSSARY } from "../src/engine/build.js";
import { gradableLesson } from "../src/engine/grade.js";
import { isLessonFile } from "../src/engine/lesson.js";
import * as helpers from "../src/index.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { buildDir, lessonsDir as defaultLessons, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { runMain } from "./run-main.mjs";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      check: { type: "boolean", default: false },
      lessons: { type: "string", default: defaultLessons },
      notebooks: { type: "string", default: notebooksDir },
      out: { type: "string", default: buildDir },
    },
  });
  const lessonsDir = values.lessons;
  const files = (await fs.readdir(lessonsDir)).filter(isLessonFile).sort();
  let failures = 0;
  /** Writes a built notebook, or with --check says when the committed one differs. */
  const emit = async (notebookFile: string, text: string, from: string): Promise<void> => {
    if (!values.check) return fs.outputFile(notebookFile, text);
    const committed = await fs.readFile(notebookFile, "utf8").catch(() => "");
    if (committed === text) return;
    console.error(
      chalk.red(`${path.relative(projectRoot, notebookFile)} is out of date with ${from}: run npm run build and commit the notebook`),
    );
    failures++;
  };
  for (const name of files) {
    const file = path.relative(projectRoot, path.join(lessonsDir, name));
    // Read as the grader reads it, so that a check the grader could not trust fails the build too.
    const grading = gradableLesson(await fs.readFile(path.join(lessonsDir, name), "utf8"), file, Object.keys(helpers));
    if (!grading.ok) {
      grading.problems.forEach((p) => console.error(chalk.red(formatProblem(p))));
      failures++;
      continue;
    }
    const { lesson } = grading.value;
    const built = buildLesson(lesson);
    const learnerFile = path.join(values.notebooks, `${lesson.id}.ipynb`);
    await emit(learnerFile, serializeNotebook(built.learner), file);
    if (values.check) continue;
    await fs.outputFile(path.join(values.out, "instructor", `${lesson.id}.ipynb`), serializeNotebook(built.instructor));
    console.log(
      `${chalk.green("built")} ${file} → ${path.relative(projectRoot, learnerFile)} (+ instructor copy in ${path.relative(projectRoot, values.out)}/instructor/)`,
    );
  }
  const glossary = await fs.readFile(path.join(lessonsDir, GLOSSARY), "utf8").catch(() => undefined);
  if (glossary !== undefined) {
    const text = serializeNotebook(glossaryNotebook(glossary));
    await emit(path.join(values.notebooks, GLOSSARY.replace(/\.md$/, ".ipynb")), text, GLOSSARY);
    if (!values.check) await fs.outputFile(path.join(values.out, "instructor", GLOSSARY.replace(/\.md$/, ".ipynb")), text); // the lessons link to it
  }
  // A notebook whose lesson was renamed or split would linger, and learners would open the old one.
  const wanted = new Set([...files, ...(glossary === undefined ? [] : [GLOSSARY])].map((f) => f.replace(/\.md$/, ".ipynb")));
  for (const orphan of (await fs.readdir(values.notebooks).catch(() => [] as string[])).filter(
    (f: string) => f.endsWith(".ipynb") && !wanted.has(f),
  )) {
    console.error(
      chalk.red(
        `${path.join(path.relative(projectRoot, values.notebooks), orphan)} has no lesson in ${path.relative(projectRoot, lessonsDir)}/: delete it (git rm) or restore its lesson`,
      ),
    );
    failures++;
  }
  if (values.check) {
    if (failures === 0) console.log(`${files.length} notebook${files.length === 1 ? " is" : "s are"} up to date with lessons/`);
    return failures ? 1 : 0;
  }
  return failures ? 1 : 0;
}

runMain("build", main);
