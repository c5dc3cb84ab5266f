/**
 * Every notebook, learner and instructor copy, in the Jupyters learners install with
 * pip (Notebook 7 and JupyterLab 4), in a real Chromium: open it, Run All in the real
 * tslab kernel, and read what the page shows. One server per UI serves them all.
 *
 * For each notebook, in each UI:
 * - opening it does not mark it modified (once the kernel is ready, before running);
 * - Run All reaches every code cell;
 * - an instructor copy shows no error and no stderr, and every self-check passes;
 * - a learner copy shows only the kit's own "not done yet" (see LEARNER_RULE);
 * - a locked cell (metadata editable: false) keeps its text when someone types into it.
 * Then lesson 02's chart and a failing check's hint must be readable in the light and
 * the dark theme (contrast ratio at least 3); screenshots go to test/artifacts/.
 *
 * Needs /usr/bin/chromium and Debian's python3-venv; pip installs the UIs once into
 * build/jupyter-venv (see test/support/jupyter-venv.ts). Without them it fails and says why.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { buildLesson } from "../src/engine/build.js";
import type { Lesson } from "../src/engine/lesson.js";
import { serializeNotebook, type Output } from "../src/engine/notebook.js";
import { buildDir, notebooksDir } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { ARTIFACTS, launchChromium, type Browser } from "./support/browser.js";
import { contrastRatio, over, parseCssColour, seenBackground, type Rgba } from "./support/contrast.js";
import { installProbe, probe, type DirtyMarks, type PageCell, type TextColour } from "./support/jupyter-app.js";
import { startJupyterServer, type JupyterServer, type JupyterUi } from "./support/jupyter-server.js";
import { jupyterVenv, type JupyterVenv } from "./support/jupyter-venv.js";
import { allLessons, CHECK_MIME } from "./support/notebooks.js";

const UIS: readonly { readonly ui: JupyterUi; readonly name: string }[] = [
  { ui: "notebook", name: "Notebook 7" },
  { ui: "jupyterlab", name: "JupyterLab 4" },
];
/** The lesson with the chart, and the exercise whose failing check shows a hint. */
const CHART_LESSON = "02-random-picks";
const CHART_CELL = /barChart\(fairCounts/;
const HINT_EXERCISE = "count-picks";
const DARK = "JupyterLab Dark";
const LIGHT = "JupyterLab Light";
/** WCAG's least contrast for graphics and large text. */
const MIN_CONTRAST = 3;
/** What someone types into a locked cell: letters only, so that a cell in command mode gets no shortcut that changes it. */
const TYPED = "qqq";

const PAGE_TIMEOUT = { timeout: 60_000, polling: 250 } as const;
const RUN_TIMEOUT = { timeout: 120_000, polling: 250 } as const;
/** How long a page gets, after its kernel is ready, to mark itself modified if it is going to. */
const SETTLE_MS = 1000;

interface Copy {
  readonly kind: "learner" | "instructor";
  /** Path under the server's root, e.g. learner/01-arrays.ipynb. */
  readonly file: string;
  /** The lesson it was built from; none for the glossary. */
  readonly lesson: Lesson | undefined;
}

let venv: JupyterVenv;
let browser: Browser;
let scratch: string;
let lessons: Lesson[];
const fileStarted = Date.now();

before(async () => {
  const made = await jupyterVenv((line) => console.log(`rollcall: ${line}`));
  assert.ok(made.ok, made.ok ? "" : made.problems.map(formatProblem).join("\n"));
  venv = made.value;
  console.log(`rollcall: Notebook ${venv.notebook}, JupyterLab ${venv.jupyterlab} (${venv.python})`);
  lessons = await allLessons();
  // Under the project, so the kernel finds the "rollcall" module; a copy, so runs and
  // files the lessons write (lesson 05's roll-call.sqlite) never touch notebooks/.
  await mkdir(buildDir, { recursive: true });
  scratch = await mkdtemp(path.join(buildDir, "jupyters-"));
  browser = await launchChromium();
  await installProbe(browser.page);
});

after(async () => {
  await browser?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
  console.log(`rollcall: browser-jupyters took ${((Date.now() - fileStarted) / 1000).toFixed(1)} s`);
});

/** A fresh root for one UI: notebooks/ as the learner copies, and every lesson's instructor copy, built now. */
async function copiesFor(root: string): Promise<Copy[]> {
  await mkdir(path.join(root, "learner"), { recursive: true });
  await mkdir(path.join(root, "instructor"), { recursive: true });
  const byId = new Map(lessons.map((lesson) => [lesson.id, lesson]));
  const learner: Copy[] = [];
  // ROLLCALL_LESSONS (see allLessons) narrows the learner copies too, while working on one lesson.
  const only = process.env.ROLLCALL_LESSONS ? new Set(lessons.map((l) => `${l.id}.ipynb`)) : undefined;
  for (const name of (await readdir(notebooksDir)).filter((f) => f.endsWith(".ipynb") && (!only || only.has(f))).sort()) {
    await copyFile(path.join(notebooksDir, name), path.join(root, "learner", name));
    learner.push({ kind: "learner", file: `learner/${name}`, lesson: byId.get(name.replace(/\.ipynb$/, "")) });
  }
  const instructor: Copy[] = [];
  for (const lesson of lessons) {
    await writeFile(path.join(root, "instructor", `${lesson.id}.ipynb`), serializeNotebook(buildLesson(lesson).instructor));
    instructor.push({ kind: "instructor", file: `instructor/${lesson.id}.ipynb`, lesson });
  }
  return [...learner, ...instructor];
}

/** Opens a notebook in the reused page and waits until its kernel is ready; other kernels are shut down. */
async function open(page: Page, server: JupyterServer, ui: JupyterUi, file: string): Promise<void> {
  // JupyterLab would reopen the last notebook from its workspace as well: ?reset starts from none.
  const url = server.notebookUrl(file) + (ui === "jupyterlab" ? "&reset" : "");
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(`window.rollcallProbe.ready(${JSON.stringify(file)})`, undefined, PAGE_TIMEOUT);
  assert.deepEqual(await probe<string[]>(page, "openNotebooks()"), [file], "only this notebook should be open");
  // The notebooks opened before keep their kernels on the server: two cores do not run seven tslabs.
  const sessions = (await (await server.api("GET", "/api/sessions")).json()) as { id: string; path: string }[];
  for (const session of sessions.filter((s) => s.path !== file)) await server.api("DELETE", `/api/sessions/${session.id}`);
}

/** Run → Run All Cells, from the menu as a learner does it, and wait until it is done. */
async function runAll(page: Page): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
  await page.waitForFunction("window.rollcallProbe.finished()", undefined, RUN_TIMEOUT);
}

const firstLine = (text: string): string => text.split("\n")[0] ?? "";
const streamText = (output: Output & { output_type: "stream" }): string =>
  Array.isArray(output.text) ? (output.text as string[]).join("") : output.text;

/**
 * What a learner copy may show that looks like something went wrong, and nothing else:
 * - a self-check's report that says "not done yet" (status "todo": the exercise is still its stub);
 * - the error a stub throws when a cell calls it, NotDoneYet "not done yet: <exercise>", for an exercise of this lesson.
 * No other error, no stderr, no check that fails. An instructor copy shows none of these: every check passes.
 */
function troubles(cells: readonly PageCell[], copy: Copy): string[] {
  const exercises = new Set(copy.lesson?.exercises.map((e) => e.id) ?? []);
  const found: string[] = [];
  cells.forEach((cell, index) => {
    if (cell.type !== "code") return;
    const where = `cell ${index} (${firstLine(cell.source).slice(0, 50)})`;
    if (cell.executionCount === null) found.push(`${where}: Run All did not run it`);
    for (const output of cell.outputs) {
      if (output.output_type === "stream" && output.name === "stderr") found.push(`${where}: stderr: ${streamText(output)}`);
      if (output.output_type === "error") {
        const friendly =
          copy.kind === "learner" && output.ename === "NotDoneYet" && exercises.has(output.evalue.replace(/^not done yet: /, ""));
        if (!friendly) found.push(`${where}: ${output.ename}: ${output.evalue}`);
      }
      if (output.output_type === "display_data" && CHECK_MIME in output.data) {
        const report = output.data[CHECK_MIME] as { exercise: string; status: string };
        const allowed = copy.kind === "learner" ? "todo" : "pass";
        if (report.status !== allowed)
          found.push(
            `${where}: check ${report.exercise} is "${report.status}", not "${allowed}": ${firstLine(String(output.data["text/plain"]))}`,
          );
      }
    }
  });
  return found;
}

const checkReports = (cells: readonly PageCell[]): number =>
  cells.reduce((n, c) => n + c.outputs.filter((o) => o.output_type === "display_data" && CHECK_MIME in o.data).length, 0);

const renderedChecks = (cells: readonly PageCell[]): number => cells.reduce((n, c) => n + c.renderedChecks, 0);
/** How long a check's report may take to be drawn after Run All has ended. */
const RENDER_WAIT_MS = 10_000;

/** Clicks into cell i's editor and types; returns the cell's text after. */
async function typeInto(page: Page, index: number): Promise<string> {
  await probe(page, `mark(${index}, "typing")`);
  const editor = page.locator("[data-rollcall-probe='typing'] .cm-content");
  await editor.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(TYPED);
  await page.waitForTimeout(200);
  return (await probe<PageCell[]>(page, "cells()"))[index]?.source ?? "";
}

async function checkNotebook(page: Page, server: JupyterServer, ui: JupyterUi, copy: Copy): Promise<void> {
  await open(page, server, ui, copy.file);
  await page.waitForTimeout(SETTLE_MS);
  const dirty = await probe<DirtyMarks>(page, "dirty()");
  // Run All first, so that a notebook wrongly marked modified still has its outputs checked.
  const opened = await probe<PageCell[]>(page, "cells()");
  const code = opened.filter((c) => c.type === "code").length;
  if (code > 0) await runAll(page);
  let cells = await probe<PageCell[]>(page, "cells()");
  // A report is drawn a moment after its output arrives, and Run All can end within that moment: wait for the drawing.
  for (let waited = 0; waited < RENDER_WAIT_MS && renderedChecks(cells) < checkReports(cells); waited += 200) {
    await page.waitForTimeout(200);
    cells = await probe<PageCell[]>(page, "cells()");
  }

  assert.deepEqual(troubles(cells, copy), [], `${copy.file}: what Run All showed`);
  const reports = checkReports(cells);
  assert.equal(renderedChecks(cells), reports, "every self-check report should be drawn as the kit's HTML (.rollcall-check)");
  if (copy.lesson) assert.equal(reports, copy.lesson.exercises.length, "one self-check report per exercise");

  const locked = opened.findIndex((c) => c.type === "code" && c.editable === false);
  if (locked >= 0) {
    const before = opened[locked]?.source;
    assert.equal(await typeInto(page, locked), before, `typing into locked cell ${locked} must not change it`);
    assert.equal(
      (await probe<PageCell[]>(page, "cells()")).length,
      opened.length,
      "typing into a locked cell must not add or delete cells",
    );
  }
  // The same typing does reach a cell that may be edited: the check above can fail.
  const editable = opened.findIndex((c) => c.type === "code" && c.editable !== false);
  if (editable >= 0) {
    assert.equal(await typeInto(page, editable), `${opened[editable]?.source}${TYPED}`, "typing into an editable cell should change it");
  }
  assert.deepEqual(dirty, { model: false, title: false, tabs: 0 }, "opening a notebook must not mark it modified");
}

/** The contrast of each coloured text against what is behind it. */
function contrasts(colours: readonly TextColour[]): { what: string; text: string; ratio: number }[] {
  return colours.map((c) => {
    const background = seenBackground(c.backgrounds.map((b) => parseCssColour(b)).filter((b): b is Rgba => b !== undefined));
    const colour = parseCssColour(c.colour);
    return { what: c.what, text: c.text, ratio: colour ? contrastRatio(over(colour, background), background) : 0 };
  });
}

async function setTheme(page: Page, theme: string): Promise<void> {
  const wanted = JSON.stringify(theme);
  const before = await probe<{ name: string; background: string }>(page, "theme()");
  if (before.name === theme) return;
  // Not awaited: the command's promise may never settle; the page says when the theme is on.
  await page.evaluate(`void window.jupyterapp.commands.execute("apputils:change-theme", { theme: ${wanted} })`);
  // The name is set before the theme's CSS has loaded: wait for its colours too.
  const applied = `(() => { const now = window.rollcallProbe.theme(); return now.name === ${wanted} && now.background !== ${JSON.stringify(before.background)}; })()`;
  await page.waitForFunction(applied, undefined, PAGE_TIMEOUT);
  await page.waitForTimeout(300);
}

async function checkThemes(page: Page, server: JupyterServer, ui: JupyterUi, name: string): Promise<void> {
  const lesson = lessons.find((l) => l.id === CHART_LESSON);
  const exercise = lesson?.exercises.find((e) => e.id === HINT_EXERCISE);
  assert.ok(
    lesson && exercise?.wrongAnswers[0]?.source,
    `lesson ${CHART_LESSON} should have exercise ${HINT_EXERCISE} with a wrong answer`,
  );
  const file = `learner/${CHART_LESSON}.ipynb`;
  await open(page, server, ui, file);
  await setTheme(page, LIGHT);
  const opened = await probe<PageCell[]>(page, "cells()");
  const chart = opened.findIndex((c) => CHART_CELL.test(c.source));
  const answer = opened.findIndex((c) => c.type === "code" && c.source.includes("function countPicks"));
  const checkCell = opened.findIndex((c) => c.type === "code" && c.source.includes(`check("${HINT_EXERCISE}"`));
  assert.ok(chart >= 0 && answer >= 0 && checkCell > answer, `${file}: the chart, ${HINT_EXERCISE}'s answer and its check`);
  // A learner's plausible mistake, so that the check fails and shows its first hint.
  await probe(page, `setSource(${answer}, ${JSON.stringify(exercise.wrongAnswers[0].source)})`);
  await runAll(page);
  const cells = await probe<PageCell[]>(page, "cells()");
  const report = cells[checkCell]?.outputs.find((o) => o.output_type === "display_data" && CHECK_MIME in o.data);
  const hints = report?.output_type === "display_data" ? ((report.data[CHECK_MIME] as { hints?: string[] }).hints ?? []) : [];
  assert.ok(hints.length >= 1, `${HINT_EXERCISE}'s check should fail and show a hint with the wrong answer`);

  const unreadable: string[] = [];
  for (const [theme, label] of [
    [LIGHT, "light"],
    [DARK, "dark"],
  ] as const) {
    await setTheme(page, theme);
    const colours = [
      ...(await probe<TextColour[]>(page, `chartColours(${chart})`)),
      ...(await probe<TextColour[]>(page, `textColours(${checkCell}, ${JSON.stringify(hints)}, "hint")`)),
    ];
    await mkdir(ARTIFACTS, { recursive: true });
    for (const [index, part] of [
      [chart, "chart"],
      [checkCell, "hint"],
    ] as const) {
      await probe(page, `mark(${index}, "shot")`);
      await page
        .locator("[data-rollcall-probe='shot']")
        .screenshot({ path: path.join(ARTIFACTS, `${ui}-${CHART_LESSON}-${part}-${label}.png`) });
    }
    assert.ok(
      colours.some((c) => c.what.startsWith("chart")),
      `${name}: the chart's text was not found in the page`,
    );
    for (const c of contrasts(colours)) {
      if (!(c.ratio >= MIN_CONTRAST)) unreadable.push(`${label} theme: ${c.what} "${c.text}" has contrast ${c.ratio.toFixed(2)}`);
    }
  }
  await setTheme(page, LIGHT);
  assert.deepEqual(unreadable, [], `${name}: text must contrast at least ${MIN_CONTRAST}:1 with its background`);
}

for (const { ui, name } of UIS) {
  test(
    `${name}: every notebook opens unmodified, runs all without errors, keeps locked cells locked; the chart and hints read in both themes`,
    { timeout: 900_000 },
    async (t) => {
      const started = Date.now();
      const root = path.join(scratch, ui);
      const copies = await copiesFor(root);
      const server = await startJupyterServer({ python: venv.python, ui, root, dataDir: path.join(root, ".jupyter-data") });
      t.after(() => server.stop());
      const page = browser.page;
      // Leaving a notebook with outputs asks "leave the page?": yes.
      const onDialog = (dialog: { accept(): Promise<void> }): void => void dialog.accept().catch(() => undefined);
      page.on("dialog", onDialog);
      t.after(() => page.off("dialog", onDialog));

      for (const copy of copies) {
        await t.test(copy.file, async (sub) => {
          const notebookStarted = Date.now();
          await checkNotebook(page, server, ui, copy);
          sub.diagnostic(`${((Date.now() - notebookStarted) / 1000).toFixed(1)} s`);
        });
      }
      await t.test(`lesson ${CHART_LESSON}'s chart and a failing check's hint contrast with the page, light and dark`, () =>
        checkThemes(page, server, ui, name),
      );
      t.diagnostic(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  );
}
