#!/usr/bin/env node
/**
 * npm run return -- CLASS LESSON MARKS [--to DIR]
 *
 * Puts each learner's feedback page (`MARKS/feedback/<account>.html`, as `npm run grade` wrote
 * it) into that learner's home as `feedback/LESSON.html`, written with their own rights so it is
 * theirs. A page that names no account of the class is reported and written nowhere. Run it as
 * root on the hub. `--to DIR` is an exchange's outbound folder kept as one folder per learner
 * (Kubernetes, deploy/z2jh/): each page goes into its learner's existing folder.
 */
import { classAccounts, returnFeedback, returnToFolders } from "../src/engine/exchange.js";
import { fromUserFolder } from "../src/engine/class-file.js";
import { formatProblem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run return -- CLASS LESSON MARKS [--to DIR]";

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, { allowPositionals: true, options: { to: { type: "string" } } });
  if (!parsed) return 2;
  const [className, lesson, marks] = parsed.positionals;
  if (parsed.positionals.length !== 3 || !className || !lesson || !marks) {
    console.error(USAGE);
    return 2;
  }
  const to = parsed.values.to;
  const accounts = to === undefined ? classAccounts(className) : [];
  if (to === undefined && accounts.length === 0) {
    console.error(`no learner accounts of class ${className} on this machine; set them up with \`npm run hub -- --class ${className}\``);
    return 1;
  }
  // each page is written as its learner, which only root may become: said once, not once per learner
  if (to === undefined && process.getuid?.() !== 0) {
    console.error(
      `return writes into each learner's home as that learner: run it as root (sudo npm run return -- ${className} ${lesson} ${marks})`,
    );
    return 1;
  }
  const result =
    to !== undefined
      ? await returnToFolders(fromUserFolder(marks), fromUserFolder(to), lesson)
      : await returnFeedback(fromUserFolder(marks), accounts, lesson);
  if (!result.ok) {
    for (const p of result.problems) console.error(formatProblem(p));
    return 1;
  }
  for (const p of result.value.problems) console.error(formatProblem(p));
  console.log(
    `returned ${lesson} feedback to ${result.value.delivered.length}${to === undefined ? ` of ${accounts.length}` : ""} learners`,
  );
  return result.value.problems.length > 0 ? 1 : 0;
}

runMain("return", main);
