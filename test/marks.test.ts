/**
 * What the kit shows uses no emoji: on a machine without an emoji font (Debian's
 * default images have none) an emoji is an empty box. Marks come from the common
 * fonts' own symbols (✓ ✗ ○), and the HTML draws its icons as SVG.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { projectRoot } from "../src/engine/paths.js";

/** Emoji and the other pictographs fonts other than emoji fonts leave out. */
const PICTOGRAPH = /\p{Extended_Pictographic}/gu;

test("nothing a learner or an instructor sees holds an emoji: helpers, engine, scripts, lessons, built notebooks", () => {
  const shown = execFileSync("git", ["ls-files", "src", "scripts", "lessons", "notebooks"], { cwd: projectRoot, encoding: "utf8" })
    .split("\n")
    .filter((file) => /\.(ts|mts|js|css|html|md|ipynb)$/.test(file));
  assert.ok(shown.length > 20, `expected the kit's files, found ${shown.length}`);
  const found = shown.flatMap((file) => {
    const marks = [...new Set(readFileSync(path.join(projectRoot, file), "utf8").match(PICTOGRAPH) ?? [])];
    return marks.length ? [`${file}: ${marks.join(" ")}`] : [];
  });
  assert.deepEqual(found, []);
});
