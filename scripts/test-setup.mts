#!/usr/bin/env node
/**
 * Runs before `npm test` (npm's pretest): the Debian packages the tests need, installed
 * the way `npm start` installs Jupyter (apt-get as root), or the exact command to run,
 * and no test run at all until they are there.
 */
import { chalk } from "zx";
import { installMissing, TEST_PACKAGES } from "../src/engine/debian-packages.js";

const result = installMissing(TEST_PACKAGES, (line) => console.log(`rollcall: ${line}`));
if (!result.ok) {
  console.error(chalk.red(`rollcall: npm test needs ${result.message}`));
  process.exitCode = 1;
}
