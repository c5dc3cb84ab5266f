/**
 * The class pulse end to end, as an instructor meets it: the dashboard open in a
 * real Chromium, a learner's notebook (lesson 01, the learner's copy) run cell by
 * cell on the real tslab kernel with the pulse settings set, and the counts on the
 * dashboard changing as the checks run: first "trying" (the stub), then "passed".
 *
 * Needs /usr/bin/chromium (CI installs it); without it, it fails and says so.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { buildLesson } from "../src/engine/build.js";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { tslabCommand } from "../src/engine/kernel-seam.js";
import { loadLesson } from "../src/engine/lesson-files.js";
import { parseNotebook } from "../src/engine/notebook.js";
import { notebooksDir, projectRoot } from "../src/engine/paths.js";
import { startPulseServer } from "../src/engine/pulse-server.js";
import { openPulseStore } from "../src/engine/pulse-store.js";
import { courseCatalogue } from "../src/engine/pulse-validate.js";
import { launchChromium } from "./support/browser.js";

const LESSON = "01-arrays";

test("the dashboard's counts change as a learner's notebook runs its checks", { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-pulse-browser-"));
  const store = openPulseStore(path.join(dir, "p3-pulse.db"));
  const [ada] = store.issueLearnerTokens([
    { email: "ada@example.org", name: "Ada Lovelace" },
    { email: "mei@example.org", name: "Mei Chen" },
  ]);
  const server = await startPulseServer({ className: "p3", store, catalogue: await courseCatalogue() });
  const browser = await launchChromium();
  // The kernel runs where Jupyter runs it, in notebooks/: that is how a check finds its lesson.
  const kernel = await JupyterKernel.start(tslabCommand(projectRoot), {
    cwd: notebooksDir,
    env: {
      ...process.env,
      ROLLCALL_PULSE_URL: server.url,
      ROLLCALL_PULSE_TOKEN: ada?.token ?? "",
      ROLLCALL_PULSE_QUEUE: path.join(dir, "queue"),
    },
  });
  try {
    const { page } = browser;
    await page.goto(`${server.dashboardUrl(store.issueInstructorToken())}&lesson=${LESSON}`);
    await page.locator("#state", { hasText: "live" }).waitFor();
    assert.ok(!page.url().includes("token="), "the token left the address bar");
    const count = (exercise: string, which: string): Promise<string> =>
      page.locator(`[data-exercise="${exercise}"] [data-count="${which}"]`).innerText();
    const waitFor = async (exercise: string, which: string, value: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while ((await count(exercise, which)) !== value) {
        assert.ok(Date.now() < deadline, `${exercise} ${which} stayed ${await count(exercise, which)}, not ${value}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    assert.equal(await count("enroll", "not-started"), "2");
    assert.equal(await count("enroll", "trying"), "0");

    const parsed = parseNotebook(readFileSync(path.join(notebooksDir, `${LESSON}.ipynb`), "utf8"), `${LESSON}.ipynb`);
    assert.ok(parsed.ok);
    const learner = parsed.value;
    const upToCheck = learner.cells
      .slice(0, learner.cells.findIndex((c) => c.id === "enroll-check") + 1)
      .filter((c) => c.cell_type === "code");
    const outputs: string[][] = [];
    for (const cell of upToCheck) {
      const run = await kernel.execute(cell.source, { timeoutMs: 60_000 });
      outputs.push(run.outputs.map((output) => JSON.stringify(output)));
    }
    const saying = outputs.map((cell) => cell.filter((o) => o.includes("Class pulse is on")).length);
    assert.deepEqual(
      saying,
      [1, ...saying.slice(1).map(() => 0)],
      `the first cell, and only it, says what is shared: ${outputs.flat().join("\n")}`,
    );
    await waitFor("enroll", "trying", "1");
    assert.equal(await count("enroll", "not-started"), "1");
    assert.equal(await count("enroll", "passed"), "0");

    const lesson = await loadLesson(LESSON);
    assert.ok(lesson.ok);
    const solution = buildLesson(lesson.value).instructor.cells.find((c) => c.id === "enroll")?.source ?? "";
    await kernel.execute(solution, { timeoutMs: 60_000 });
    await kernel.execute(learner.cells.find((c) => c.id === "enroll-check")?.source ?? "", { timeoutMs: 60_000 });
    await waitFor("enroll", "passed", "1");
    const again = await kernel.execute(learner.cells.find((c) => c.id === "enroll-check")?.source ?? "", { timeoutMs: 60_000 });
    assert.ok(!JSON.stringify(again.outputs).includes("Class pulse is on"), "a check says nothing about the pulse");
    assert.equal(await count("enroll", "trying"), "0");
    assert.ok(store.posts(LESSON).every((p) => p.name === "Ada Lovelace"));
  } finally {
    await kernel.stop();
    await browser.close();
    await server.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
