#!/usr/bin/env node
/**
 * npm run class -- import CLASS ROSTER.csv [--classes DIR]
 * npm run class -- report CLASS [--classes DIR]
 * npm run class -- list [--classes DIR]
 *
 * `import` checks the whole roster (columns name, email, optional cohort) and writes
 * nothing when any row is wrong; a re-import adds new learners, updates known ones by
 * email and marks the missing ones as left (kept, with their picks). `report` shows
 * who answered how often.
 */
import { readFile } from "node:fs/promises";
import { chalk } from "zx";
import { renderTable } from "../src/display.js";
import { classesDir, fromUserFolder, listClasses, openClass } from "../src/engine/class-file.js";
import { formatProblem, type Problem } from "../src/engine/problem.js";
import { parseRoster } from "../src/engine/roster-csv.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = [
  "usage: npm run class -- import CLASS ROSTER.csv [--classes DIR]",
  "       npm run class -- report CLASS [--classes DIR]",
  "       npm run class -- list [--classes DIR]",
].join("\n");

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, { allowPositionals: true, options: { classes: { type: "string" } } });
  if (!parsed) return 2;
  const dir = parsed.values.classes !== undefined ? fromUserFolder(parsed.values.classes) : classesDir();
  const [command, name, file, ...rest] = parsed.positionals;
  if (command === "import" && name !== undefined && file !== undefined && rest.length === 0) return importRoster(dir, name, file);
  if (command === "report" && name !== undefined && file === undefined) return report(dir, name);
  if (command === "list" && name === undefined) {
    const classes = listClasses(dir);
    console.log(classes.length ? classes.join("\n") : `no classes in ${dir} yet`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

async function importRoster(dir: string, name: string, file: string): Promise<number> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await readFile(fromUserFolder(file)));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") return fail([{ file, message: "no such file" }]);
    if (code === "ERR_ENCODING_INVALID_ENCODED_DATA") return fail([{ file, message: "is not UTF-8 text: save it as CSV UTF-8" }]);
    throw error;
  }
  const roster = parseRoster(text, file);
  if (!roster.ok) return fail(roster.problems, "nothing was imported: fix the rows above and import again");
  const opened = await openClass(name, { dir, create: true });
  if (!opened.ok) return fail(opened.problems);
  const classFile = opened.value;
  try {
    const done = classFile.importRoster(roster.value, file);
    if (!done.ok) return fail(done.problems, "nothing was imported");
    const s = done.value;
    const back = s.returned ? `, ${s.returned} back` : "";
    console.log(
      `rollcall: class ${name}: ${s.added} added, ${s.updated} updated, ${s.unchanged} unchanged, ${s.left} marked as left${back} (${classFile.file})`,
    );
    return 0;
  } finally {
    classFile.close();
  }
}

async function report(dir: string, name: string): Promise<number> {
  const opened = await openClass(name, { dir });
  if (!opened.ok) return fail(opened.problems);
  const classFile = opened.value;
  try {
    const counts = classFile.answerCounts();
    if (counts.length === 0) return fail([{ file: classFile.file, message: `class ${name} has no learners: import a roster first` }]);
    const rows = counts.map((c) => ({ name: c.name, email: c.email, answers: c.count, ...(c.left ? { roster: "left" } : {}) }));
    console.log(renderTable(rows).text);
    const total = counts.reduce((n, c) => n + c.count, 0);
    console.log(`${total} answer${total === 1 ? "" : "s"} from ${counts.filter((c) => c.count > 0).length} of ${counts.length} learners`);
    return 0;
  } finally {
    classFile.close();
  }
}

function fail(problems: readonly Problem[], after?: string): number {
  problems.forEach((p) => console.error(chalk.red(formatProblem(p))));
  if (after !== undefined) console.error(after);
  return 1;
}

runMain("class", main);
