#!/usr/bin/env node
/**
 * npm run collect -- CLASS LESSON OUT [--due TIME] [--drop DIR | --folders DIR]
 *
 * Gathers each learner's latest submission of LESSON (at or before `--due`, an ISO time, when
 * given) from the class's drop folder (`/srv/rollcall/CLASS/inbound`, or `--drop DIR`) into
 * `OUT/<account>/LESSON.ipynb`, the folder `npm run grade` takes. A file counts as the learner's
 * who owns it; one named for somebody else is rejected with a note. Run it as root on the hub.
 * `--folders DIR` is an exchange kept as one folder per learner (Kubernetes, deploy/z2jh/): there
 * the folder says who, and no account is looked up. It also takes the folder `npm run hub --
 * --remove` kept, whose folders are the owners, by the one machine's rules.
 */
import { classAccounts, collect, collectFolders, dropFolderOf, parseDueTime } from "../src/engine/exchange.js";
import { lessonIds } from "../src/engine/lesson-files.js";
import { fromUserFolder } from "../src/engine/class-file.js";
import { formatProblem } from "../src/engine/problem.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run collect -- CLASS LESSON OUT [--due 2026-12-02T23:59] [--drop DIR | --folders DIR]";

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    allowPositionals: true,
    options: { due: { type: "string" }, drop: { type: "string" }, folders: { type: "string" } },
  });
  if (!parsed) return 2;
  const [className, lesson, out] = parsed.positionals;
  if (parsed.positionals.length !== 3 || !className || !lesson || !out) {
    console.error(USAGE);
    return 2;
  }
  const dueMs = parsed.values.due !== undefined ? parseDueTime(parsed.values.due) : undefined;
  if (parsed.values.due !== undefined && dueMs === undefined) {
    console.error(
      `--due "${parsed.values.due}" is no time; write it as ISO, e.g. 2026-12-02T23:59 (local), 2026-12-02T23:59Z (UTC), or 2026-12-02 (the end of that day)`,
    );
    return 2;
  }
  const folders = parsed.values.folders;
  if (folders !== undefined && parsed.values.drop !== undefined) {
    console.error(`--drop and --folders are two kinds of exchange: give one\n${USAGE}`);
    return 2;
  }
  const lessons = await lessonIds();
  if (!lessons.includes(lesson)) {
    console.error(`there is no lesson "${lesson}" in this course: choose one of ${lessons.join(", ")}`);
    return 1;
  }
  const accounts = folders === undefined ? classAccounts(className) : [];
  if (folders === undefined && accounts.length === 0) {
    console.error(`no learner accounts of class ${className} on this machine; set them up with \`npm run hub -- --class ${className}\``);
    return 1;
  }
  const drop = parsed.values.drop !== undefined ? fromUserFolder(parsed.values.drop) : dropFolderOf(className);
  const result =
    folders !== undefined
      ? await collectFolders(fromUserFolder(folders), lesson, fromUserFolder(out), dueMs)
      : await collect(drop, accounts, lesson, fromUserFolder(out), dueMs);
  if (!result.ok) {
    for (const p of result.problems) console.error(formatProblem(p));
    return 1;
  }
  if (dueMs !== undefined) console.log(`due ${new Date(dueMs).toString()}: later submissions are left out`);
  for (const note of result.value.notes) console.error(`note: ${note}`);
  const missing = accounts.filter((a) => !result.value.learners.includes(a.name)).map((a) => a.name);
  const of = folders === undefined ? ` of ${accounts.length}` : "";
  console.log(`collected ${lesson} from ${result.value.learners.length}${of} learners into ${out}`);
  if (missing.length > 0) console.log(`nothing from: ${missing.join(", ")}`);
  if (result.value.learners.length === 0) {
    console.log("nothing to grade yet: collect again once learners have submitted (submit() in their notebook)");
    return 0;
  }
  // the same words the instructor runs here: npm run on one machine; on Kubernetes the instructor's pod's node commands, with --to;
  // from what --remove kept, the accounts are gone, so there is nobody's home to return to
  const kept = "kept" in result.value && result.value.kept;
  console.log(
    folders === undefined
      ? `next: npm run grade -- --lesson ${lesson} --out MARKS ${out}   then: npm run return -- ${className} ${lesson} MARKS`
      : kept
        ? `next: npm run grade -- --lesson ${lesson} --out MARKS ${out}   (the class's accounts were removed: its feedback pages stay in MARKS)`
        : `next: node dist/scripts/grade.mjs --lesson ${lesson} --out MARKS ${out}   then: node dist/scripts/return.mjs ${className} ${lesson} MARKS --to OUTBOUND`,
  );
  return 0;
}

runMain("collect", main);
