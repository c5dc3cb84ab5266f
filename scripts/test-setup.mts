#!/usr/bin/env node
/**
 * Runs before `npm test` (npm's pretest): the Debian packages the tests need, installed
 * the way `npm start` installs Jupyter (apt-get as root), or the exact command to run,
 * and no test run at all until they are there; and the kit kernel's start-up snapshot.
 */
import { chalk } from "zx";
import { installMissing, TEST_PACKAGES } from "../src/engine/debian-packages.js";
import { projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { ensureTslabSnapshot } from "../src/engine/tslab-snapshot.js";
import { runMain } from "./run-main.mjs";

runMain("test-setup", async () => {
  const result = installMissing(TEST_PACKAGES, (line) => console.log(`rollcall: ${line}`));
  // The kit's kernel starts from a snapshot, as it does after npm start; the tests run that kernel.
  const snapshot = await ensureTslabSnapshot(projectRoot);
  if (!snapshot.ok) console.log(chalk.yellow(`rollcall: ${snapshot.problems.map(formatProblem).join("\n")}`));
  if (result.ok) return 0;
  console.error(chalk.red(`rollcall: npm test needs ${result.problems.map(formatProblem).join("\n")}`));
  return 1;
});
