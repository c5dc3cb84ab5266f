/** `npm start` marks the course's notebooks trusted in the project's own Jupyter, without changing them. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { findJupyter, jupyterEnv, trustNotebooks } from "../src/engine/jupyter-setup.js";
import { notebooksDir } from "../src/engine/paths.js";

/** What Jupyter itself decides when it opens the file: nbformat's notary, reading the same signature database. */
const trusted = (python: string, dataDir: string, file: string): boolean =>
  execFileSync(
    python,
    [
      "-c",
      "import sys, nbformat; from nbformat.sign import NotebookNotary as N; print(N().check_signature(nbformat.read(sys.argv[1], 4)))",
      file,
    ],
    { env: jupyterEnv(dataDir), encoding: "utf8" },
  ).trim() === "True";

test("the course's notebooks are trusted after trustNotebooks, byte for byte unchanged; another notebook is not", async () => {
  const jupyter = await findJupyter();
  assert.ok(jupyter.ok, "this test needs Jupyter (npm test installs it)");
  const { python } = jupyter.value;
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-trust-"));
  try {
    const dataDir = path.join(folder, "jupyter");
    const lesson = path.join(folder, "01-arrays.ipynb");
    const other = path.join(folder, "someone-elses.ipynb");
    await copyFile(path.join(notebooksDir, "01-arrays.ipynb"), lesson);
    await copyFile(path.join(notebooksDir, "02-random-picks.ipynb"), other);
    const before = await readFile(lesson, "utf8");
    assert.equal(trusted(python, dataDir, lesson), false, "a fresh Jupyter trusts nothing");

    assert.equal(await trustNotebooks(python, dataDir, [lesson]), undefined);
    assert.equal(trusted(python, dataDir, lesson), true);
    assert.equal(trusted(python, dataDir, other), false, "only the notebooks named are trusted");
    assert.equal(await readFile(lesson, "utf8"), before, "signing keeps the file as it is");
    assert.match((await trustNotebooks(python, dataDir, [path.join(folder, "missing.ipynb")])) ?? "", /No such file|missing/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
