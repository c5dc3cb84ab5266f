/** Which Debian packages are missing, and what a user runs to get them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { installCommand, isDebianLike, missingPackages, TEST_PACKAGES } from "../src/engine/debian-packages.js";

test("an installed package is not missing; one that does not exist is", { skip: !isDebianLike() && "not a Debian machine" }, () => {
  assert.deepEqual(missingPackages(["dpkg", "rollcall-no-such-package"]), ["rollcall-no-such-package"]);
});

test("the tests' packages are all installed once npm test's set-up has run", { skip: !isDebianLike() && "not a Debian machine" }, () => {
  assert.deepEqual(missingPackages(TEST_PACKAGES), []);
});

test("the command to run names exactly the missing packages", () => {
  assert.equal(installCommand(["chromium", "python3-nbformat"]), "sudo apt-get install -y chromium python3-nbformat");
});
