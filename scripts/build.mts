#!/usr/bin/env node
/**
 * npm run build            lessons/*.md → notebooks/, build/instructor/, build/tests/,
 *                          and kernel snapshots for those notebook folders (build/kernels/)
 * npm run build -- --check fail if a committed notebook is out of date
 * (--lessons DIR, --notebooks DIR and --out DIR point elsewhere, for tests)
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { chalk, fs } from "zx";
import { buildLesson } from "../src/engine/build.js";
import { ensureKernelSnapshot } from "../src/engine/kernel-snapshot.js";
import { gradableLesson } from "../src/engine/grade.js";
import * as helpers from "../src/index.js";
import { serializeNotebook } from "../src/engine/notebook.js";
import { buildDir, lessonsDir as defaultLessons, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";

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
  const files = (await fs.readdir(lessonsDir)).filter((f: string) => f.endsWith(".md")).sort();
  let failures = 0;
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
    const learnerText = serializeNotebook(built.learner);
    if (values.check) {
      const committed = await fs.readFile(learnerFile, "utf8").catch(() => "");
      if (committed !== learnerText) {
        console.error(chalk.red(`${path.relative(projectRoot, learnerFile)} is out of date with ${file}: run npm run build and commit the notebook`));
        failures++;
      }
      continue;
    }
    await fs.outputFile(learnerFile, learnerText);
    await fs.outputFile(path.join(values.out, "instructor", `${lesson.id}.ipynb`), serializeNotebook(built.instructor));
    await fs.outputJson(path.join(values.out, "tests", `${lesson.id}.json`), built.tests, { spaces: 1 });
    console.log(`${chalk.green("built")} ${file} → ${path.relative(projectRoot, learnerFile)} (+ instructor copy and tests in ${path.relative(projectRoot, values.out)}/)`);
  }
  if (values.check) {
    if (failures === 0) console.log(`${files.length} notebook${files.length === 1 ? " is" : "s are"} up to date with lessons/`);
    return failures ? 1 : 0;
  }
  // Kernels started in these folders skip tslab's second of TypeScript set-up (see kernel-snapshot.ts).
  const folders = [values.notebooks, path.join(values.out, "instructor")];
  const snapshots = await Promise.all(folders.map((folder) => ensureKernelSnapshot(folder, (why) => console.log(`${chalk.dim("kernel snapshot")} ${path.relative(projectRoot, folder)}/ (${why})`))));
  for (const built of snapshots) if (!built.ok) built.problems.forEach((p) => console.error(chalk.yellow(formatProblem(p))));
  return failures ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(chalk.red(`rollcall failed (a bug, please report it): ${(error as Error).stack ?? String(error)}`));
  process.exitCode = 1;
});
