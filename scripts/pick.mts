#!/usr/bin/env node
/**
 * npm run pick -- CLASS [--absent NAME]... [--times N] [--undo] [--classes DIR]
 *
 * Prints the next learner of the class, fairly over the term, once the pick is on
 * disk. `--absent` marks a learner (name or email) as away for the rest of today;
 * `--undo` takes back the latest pick. The class files are in `--classes DIR`, else
 * `$ROLLCALL_CLASSES`, else `classes/`.
 */
import { chalk } from "zx";
import { classesDir, fromUserFolder, listClasses, openClass, type Picked } from "../src/engine/class-file.js";
import { formatProblem, type Problem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run pick -- CLASS [--absent NAME]... [--times N] [--undo] [--classes DIR]";

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    allowPositionals: true,
    options: {
      absent: { type: "string", multiple: true, default: [] },
      times: { type: "string", default: "1" },
      undo: { type: "boolean", default: false },
      classes: { type: "string" },
    },
  });
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const dir = values.classes !== undefined ? fromUserFolder(values.classes) : classesDir();
  const times = Number(values.times);
  if (positionals.length !== 1 || !Number.isSafeInteger(times) || times < 1 || (values.undo && (times !== 1 || values.absent.length > 0))) {
    const classes = listClasses(dir);
    console.error(`${USAGE}\n${classes.length ? `classes in ${dir}: ${classes.join(", ")}` : `no classes in ${dir} yet`}`);
    return 2;
  }
  const opened = await openClass(positionals[0] ?? "", { dir });
  if (!opened.ok) return report(opened.problems);
  const classFile = opened.value;
  try {
    if (values.undo) {
      const undone = classFile.undo();
      if (!undone.ok) return report(undone.problems);
      console.log(`took back: ${describe(undone.value)}`);
      return 0;
    }
    for (let i = 0; i < times; i++) {
      // Absences are recorded with the first pick; they hold for the rest of the day.
      const picked = classFile.pick({ absent: i === 0 ? values.absent : [] });
      if (!picked.ok) return report(picked.problems);
      console.log(describe(picked.value));
    }
    return 0;
  } finally {
    classFile.close();
  }
}

/** The name first, large enough to read out; then where the pick sits in the term. */
function describe(p: Picked): string {
  return `${chalk.bold(p.name)}  (round ${p.round}, pick #${p.id})`;
}

function report(problems: readonly Problem[]): number {
  problems.forEach((p) => console.error(chalk.red(formatProblem(p))));
  return 1;
}

runMain("pick", main);
