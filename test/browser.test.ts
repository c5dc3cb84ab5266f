/**
 * `npm start` end to end, the way a learner meets it: the start script opens Jupyter
 * Notebook 6, a real Chromium opens lesson 01, "Cell → Run All" runs it in the real
 * tslab kernel, and Ctrl-C (SIGINT) stops everything cleanly.
 *
 * Needs /usr/bin/chromium and Jupyter (CI installs both); without them it fails and says so.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { findJupyter } from "../src/engine/jupyter-setup.js";
import { notebooksDir, projectRoot } from "../src/engine/paths.js";
import { ARTIFACTS, exitWithin, launchChromium, requireChromium, texts, type Browser } from "./support/browser.js";
import { freePort } from "../src/engine/free-ports.js";

const NOTEBOOK = "01-arrays.ipynb";
const START_SCRIPT = path.join(projectRoot, "dist", "scripts", "start.mjs");
const SCREENSHOT = path.join(ARTIFACTS, "01-arrays.png");
const URL_LINE = /rollcall: the course is open at (\S+)/;

/** Waits for the "course is open" line on the child's stdout. */
function waitForUrl(child: ChildProcess, output: () => string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "rollcall: the course is open at …" line within ${ms / 1000} s. Output so far:\n${output()}`));
    }, ms);
    const onData = (): void => {
      const match = URL_LINE.exec(output());
      if (match?.[1]) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`npm start exited (code ${code}) before the course was open. Its output:\n${output()}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
    onData();
  });
}

/** Notebook 6's kernel is connected and its indicator shows idle. */
const KERNEL_IDLE = `(() => {
  const kernel = window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel;
  const icon = document.querySelector("#kernel_indicator_icon");
  return !!(kernel && kernel.is_connected() && icon && icon.classList.contains("kernel_idle_icon"));
})()`;

/** No cell is running or queued (`In [*]`), at least one has run, and the kernel is idle. */
const RUN_FINISHED = `(() => {
  const prompts = [...document.querySelectorAll(".code_cell .input_prompt")].map((p) => p.textContent || "");
  return document.querySelectorAll(".cell.running").length === 0
    && !prompts.some((p) => p.includes("[*]"))
    && prompts.some((p) => /\\[\\d+\\]/.test(p))
    && ${KERNEL_IDLE};
})()`;

test("npm start opens lesson 01 in Jupyter, Run All renders it without errors, Ctrl-C stops it", { timeout: 180_000 }, async (t) => {
  const jupyter = await findJupyter();
  assert.ok(jupyter.ok, `this test needs Jupyter Notebook: ${jupyter.ok ? "" : jupyter.problems.map((p) => p.message).join("; ")}`);
  requireChromium();
  const notebookFile = path.join(notebooksDir, NOTEBOOK);
  assert.ok(existsSync(notebookFile), `notebooks/${NOTEBOOK} is missing: run npm run build`);
  assert.ok(existsSync(START_SCRIPT), `${START_SCRIPT} is missing: run npx tsc -b`);
  const committed = await readFile(notebookFile, "utf8");

  const port = await freePort();
  let output = "";
  const start = spawn(process.execPath, [START_SCRIPT, "--no-browser", "--port", String(port)], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  start.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  start.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));

  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    if (start.exitCode === null && start.signalCode === null) {
      start.kill("SIGINT");
      if ((await exitWithin(start, 10_000)) === undefined) start.kill("SIGKILL");
    }
    // Jupyter must not have saved outputs into the committed learner copy.
    if ((await readFile(notebookFile, "utf8")) !== committed) await writeFile(notebookFile, committed);
  });

  const courseUrl = new URL(await waitForUrl(start, () => output, 60_000));
  const token = courseUrl.searchParams.get("token");
  assert.ok(token, `the course URL has no token: ${courseUrl.href}`);

  browser = await launchChromium();
  const { page } = browser;
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));

  await page.goto(`${courseUrl.origin}/notebooks/${NOTEBOOK}?token=${encodeURIComponent(token)}`, { waitUntil: "load" });
  await page.waitForFunction(KERNEL_IDLE, undefined, { timeout: 60_000, polling: 250 });
  // A test must not write outputs into the committed notebook: no autosave while it runs.
  await page.evaluate("Jupyter.notebook.set_autosave_interval(0)");

  // Cell → Run All, as a learner does it.
  await page.click("#celllink");
  await page.click("#run_all_cells");
  await page.waitForFunction(RUN_FINISHED, undefined, { timeout: 90_000, polling: 250 });

  const errors = await texts(page, ".output_error");
  const stderr = await texts(page, ".output_stderr");
  const outputs = (await texts(page, ".output_area")).join("\n");
  const prompts = await texts(page, ".code_cell .input_prompt");

  // Save the picture before asserting, so a failure can be looked at.
  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  // Notebook 6 scrolls inside #site, not the page: let the page grow so fullPage shows every cell.
  await page.addStyleTag({
    content:
      "body, html { position: static !important; height: auto !important; overflow: visible !important; } #site { height: auto !important; overflow: visible !important; }",
  });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  assert.deepEqual(errors, [], "no cell may show an error traceback");
  assert.deepEqual(stderr, [], "no cell may write to stderr");
  assert.ok((await page.locator(".output_html table").count()) >= 1, "show() should render at least one HTML table");
  assert.ok((await page.locator(".output_html table.rollcall-table").count()) >= 1, 'the tables should carry class "rollcall-table"');
  assert.match(outputs, /not done yet: last-student/, "the unfinished exercise's check should say so");
  assert.match(prompts.at(-1) ?? "", /\[\d+\]/, "Run All should reach the last code cell");
  assert.deepEqual(pageErrors, [], "the notebook page should have no JavaScript errors");

  await browser.close();
  browser = undefined;

  start.kill("SIGINT");
  const code = await exitWithin(start, 10_000);
  assert.notEqual(code, undefined, `npm start did not stop within 10 s of Ctrl-C. Its output:\n${output}`);
  assert.equal(code, 0, `npm start should exit 0 on Ctrl-C. Its output:\n${output}`);
  assert.match(output, /rollcall: stopped/);
});
