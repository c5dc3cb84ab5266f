#!/usr/bin/env node
/**
 * Runs before `npm test` (npm's pretest): the Debian packages the tests need, installed
 * the way `npm start` installs Jupyter (apt-get as root), or the exact command to run,
 * and no test run at all until they are there.
 */
import { chalk } from "zx";
import { installMissing, TEST_PACKAGES } from "../src/engine/debian-packages.js";
import { formatProblem } from "../src/engine/problem.js";
import { runMain } from "./run-main.mjs";

runMain("test-setup", async () => {
  const result = installMissing(TEST_PACKAGES, (line) => console.log(`rollcall: ${line}`));
  if (result.ok) return 0;
  console.error(chalk.red(`rollcall: npm test needs ${result.problems.map(formatProblem).join("\n")}`));
  return 1;
});
