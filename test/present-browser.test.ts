/**
 * `npm run present` end to end, as an instructor meets it: the present script
 * serves lesson 02 on loopback with the real tslab kernel, a real Chromium shows
 * the deck; cells are edited and run, outputs render as in Jupyter, Stop stops an
 * endless loop, Restart restarts, the Pick button picks from a class file, and
 * Ctrl-C stops the presenter and its kernel. One presenter, one browser, in
 * order, to keep it lean.
 *
 * Needs /usr/bin/chromium (CI installs it); without it, it fails and says so.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { openClass } from "../src/engine/class-file.js";
import { projectRoot } from "../src/engine/paths.js";
import { pulseSourceFile } from "../src/engine/pulse-presenter.js";
import { pulseFileFor, openPulseStore } from "../src/engine/pulse-store.js";
import { parseRoster } from "../src/engine/roster-csv.js";
import { ARTIFACTS, exitWithin, launchChromium, requireChromium } from "./support/browser.js";
import { freePort } from "../src/engine/free-ports.js";

const PRESENT = path.join(projectRoot, "dist", "scripts", "present.mjs");
const LESSON = "02-random-picks";
const URL_LINE = /rollcall: presenting (\S+) at (\S+)/;
const ROSTER =
  "name,email\nAda Lovelace,ada@example.org\nZoë O'Brien,zoe@example.org\nAlan Turing,alan@example.org\nGrace Hopper,grace@example.org\n";

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
}

function present(args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [PRESENT, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return { child, output: () => output };
}

async function waitForUrl({ child, output }: Running, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const match = URL_LINE.exec(output());
    if (match?.[2]) return match[2];
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no "rollcall: presenting … at …" line. Output:\n${output()}`);
}

/** The processes whose parent is `pid` (Linux's /proc), with their command lines. */
function childrenOf(pid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ") });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));

/** Ctrl-C: the presenter says "stopped", exits 0, and leaves no tslab behind. */
async function stopWithCtrlC(running: Running): Promise<void> {
  const pid = running.child.pid ?? 0;
  const kernels = childrenOf(pid).filter((c) => c.command.includes("tslab"));
  assert.equal(kernels.length, 1, `one tslab kernel runs under the presenter: ${JSON.stringify(childrenOf(pid))}`);
  running.child.kill("SIGINT");
  assert.equal(await exitWithin(running.child, 10_000), 0, running.output());
  assert.match(running.output(), /rollcall: stopped/);
  for (const kernel of kernels) assert.ok(!alive(kernel.pid), `tslab (pid ${kernel.pid}) outlived the presenter`);
}

/** After a failure: Ctrl-C, then SIGKILL for the presenter and any kernel it left, so that no test leaves a process behind. */
async function stopAnyway(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  const kernels = childrenOf(running.child.pid ?? 0);
  running.child.kill("SIGINT");
  if ((await exitWithin(running.child, 10_000)) === undefined) running.child.kill("SIGKILL");
  for (const kernel of kernels) if (alive(kernel.pid)) process.kill(kernel.pid, "SIGKILL");
}

/** What the page and the presenter showed when a test failed, kept in test/artifacts/ to look at. */
async function keepFailure(page: Page, running: Running): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "present-failure.png") }).catch(() => undefined);
  await writeFile(path.join(ARTIFACTS, "present-failure.log"), running.output()).catch(() => undefined);
}

/** Shows the slide that holds cell `id`. */
async function goTo(page: Page, id: string): Promise<void> {
  await page.evaluate((cellId) => {
    const reveal = (
      globalThis as unknown as { Reveal: { getIndices(s: unknown): { h: number; v?: number }; slide(h: number, v?: number): void } }
    ).Reveal;
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { closest(s: string): unknown } | null } }).document;
    const indices = reveal.getIndices(doc.querySelector(`[data-cell-id="${cellId}"]`)?.closest("section"));
    reveal.slide(indices.h, indices.v ?? 0);
  }, id);
  await page.locator(`[data-cell-id="${id}"] textarea`).waitFor({ state: "visible" });
}

const cell = (page: Page, id: string) => page.locator(`[data-cell-id="${id}"]`);

/** Shows the cell's slide, lets its demos run (they run on first show), then types new code into it. */
async function edit(page: Page, id: string, code: string): Promise<void> {
  await goTo(page, id);
  await page.locator('[data-state="running"]').first().waitFor({ state: "detached", timeout: 60_000 });
  await cell(page, id).locator("textarea").fill(code);
}

/** A class file of the four learners of ROSTER in `dir`; their names and emails. */
async function classOfFour(dir: string, name: string): Promise<{ name: string; email: string }[]> {
  const opened = await openClass(name, { dir, create: true });
  assert.ok(opened.ok, opened.ok ? "" : JSON.stringify(opened.problems));
  const roster = parseRoster(ROSTER, "roster.csv");
  assert.ok(roster.ok);
  assert.ok(opened.value.importRoster(roster.value, "roster.csv").ok);
  const learners = opened.value.learners().map((l) => ({ name: l.name, email: l.email }));
  opened.value.close();
  return learners;
}

test("npm run present alone lists the lessons; a taken port is a clear message", async () => {
  const list = present([]);
  assert.equal(await exitWithin(list.child, 20_000), 0, list.output());
  assert.match(list.output(), /02-random-picks {2}Picking a student at random, fairly \(60 min\)/);

  const port = await freePort();
  const first = present([LESSON, "--no-browser", "--port", String(port)]);
  try {
    await waitForUrl(first);
    const second = present([LESSON, "--no-browser", "--port", String(port)]);
    assert.equal(await exitWithin(second.child, 20_000), 1, second.output());
    assert.match(second.output(), new RegExp(`port ${port} is taken .*--port ${port + 1}`));
    assert.deepEqual(
      childrenOf(second.child.pid ?? 0).filter((c) => c.command.includes("tslab")),
      [],
      "no kernel for a presenter that could not listen",
    );
  } finally {
    await stopAnyway(first);
  }
});

test("presenting a lesson: navigate, run and edit cells, errors, stop, restart, all on loopback; Ctrl-C stops its kernel", async () => {
  requireChromium();
  const port = await freePort();
  const running = present([LESSON, "--no-browser", "--port", String(port)]);
  const browser = await launchChromium();
  const { page } = browser;
  const requests: string[] = [];
  page.on("request", (request) => void requests.push(request.url()));
  try {
    const url = await waitForUrl(running);
    assert.ok(url.startsWith(`http://127.0.0.1:${port}/${LESSON}?token=`), url);
    await page.goto(url);
    await page.locator("body[data-ready]").waitFor({ timeout: 20_000 });

    // Navigate: right is the next section, and the first code slide runs its demo on first show.
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    const indices = await page.evaluate(() => (globalThis as unknown as { Reveal: { getIndices(): { h: number } } }).Reveal.getIndices());
    assert.equal(indices.h, 2);

    // An HTML table, from show(): every earlier cell runs first, in lesson order.
    await goTo(page, "code-6");
    await cell(page, "code-6").locator('[data-action="run"]').click();
    await cell(page, "code-6").locator("[data-output] table").waitFor({ timeout: 30_000 });
    assert.match(await cell(page, "code-4").locator("[data-status]").innerText(), /^\[\d+\]/, "the earlier cell ran too");

    // Restart: a fresh kernel, and the next run catches up the cells it needs again.
    await page.locator('[data-action="restart"]').click();
    await page
      .locator("[data-kernel-status]", { hasText: "new kernel" })
      .waitFor({ timeout: 30_000 })
      .catch(async (error: Error) => {
        throw new Error(`${error.message}\nthe kernel status said: "${await page.locator("[data-kernel-status]").innerText()}"`);
      });
    assert.equal(await cell(page, "code-4").locator("[data-output]").innerText(), "", "outputs of the old kernel are cleared");
    await goTo(page, "code-7");
    await cell(page, "code-7").locator('[data-action="run"]').click();
    await cell(page, "code-7").locator("[data-output]", { hasText: "undefined" }).waitFor({ timeout: 30_000 });
    const count = Number(/^\[(\d+)\]/.exec(await cell(page, "code-4").locator("[data-status]").innerText())?.[1]);
    assert.ok(count >= 1 && count <= 7, `code-4 ran again in the new kernel (execution count ${count})`);

    // An exercise: the stub shows, the instructor reveals the solution; its check renders its report.
    await goTo(page, "pick-student");
    assert.match(await cell(page, "pick-student").locator("textarea").inputValue(), /todo\("pick-student"\)/);
    await cell(page, "pick-student").locator('[data-action="reveal"]').click();
    assert.doesNotMatch(await cell(page, "pick-student").locator("textarea").inputValue(), /todo\(/);
    await goTo(page, "pick-student-check");
    await cell(page, "pick-student-check").locator('[data-action="run"]').click();
    await cell(page, "pick-student-check").locator("[data-output] .html-output").waitFor({ timeout: 30_000 });

    // Edit and run (Shift-Enter): an SVG chart.
    await edit(page, "code-17", "barChart({ Ada: 3, Grace: 5, Alan: 4 })");
    await cell(page, "code-17").locator("textarea").press("Shift+Enter");
    await cell(page, "code-17").locator("[data-output] svg", { hasText: "Grace" }).waitFor({ timeout: 60_000 });

    // A thrown error, kindly: its message, no terminal colours, no kernel internals in sight.
    await edit(page, "code-18", 'throw new Error("kaputt on purpose")');
    await cell(page, "code-18").locator('[data-action="run"]').click();
    const headline = cell(page, "code-18").locator(".error-headline");
    await headline.waitFor({ timeout: 30_000 });
    assert.equal(await headline.innerText(), "Error: kaputt on purpose");
    const shown = await cell(page, "code-18").locator("[data-output]").innerText();
    assert.ok(!shown.includes(String.fromCharCode(27)), "no terminal escape codes");
    assert.doesNotMatch(shown, /\[0m|node_modules|evalmachine/);

    // An endless loop: Stop interrupts it, and the kernel goes on.
    await edit(page, "code-19", "while (true) {}");
    await cell(page, "code-19").locator('[data-action="run"]').click();
    await cell(page, "code-19").locator("[data-status]", { hasText: "running" }).waitFor();
    await page.waitForTimeout(300);
    await cell(page, "code-19").locator('[data-action="stop"]').click();
    await cell(page, "code-19").locator(".error-headline", { hasText: "Stopped" }).waitFor({ timeout: 15_000 });
    await edit(page, "code-20", "40 + 2");
    await cell(page, "code-20").locator('[data-action="run"]').click();
    await cell(page, "code-20").locator("[data-output]", { hasText: "42" }).waitFor({ timeout: 15_000 });

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "present-02.png") });
    const outside = requests.filter((u) => !u.startsWith(`http://127.0.0.1:${port}/`) && !u.startsWith("data:"));
    assert.deepEqual(outside, [], "every request stays on the presenter's own server");

    await stopWithCtrlC(running);
  } catch (error) {
    await keepFailure(page, running);
    throw error;
  } finally {
    await browser.close();
    await stopAnyway(running);
  }
});

test("the Pick button picks from the class file, and the class remembers across presenters", async () => {
  requireChromium();
  const classes = await mkdtemp(path.join(os.tmpdir(), "rollcall-present-classes-"));
  await classOfFour(classes, "period-1");

  const port = await freePort();
  const env = { ROLLCALL_CLASSES: classes };
  const args = [LESSON, "--no-browser", "--port", String(port), "--class", "period-1"];
  let running = present(args, env);
  const browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(await waitForUrl(running));
    await page.locator("body[data-ready]").waitFor({ timeout: 20_000 });

    // Three picks through the button, three different names, each shown large.
    const picked: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.locator('[data-action="pick"]').click();
      const name = page.locator("[data-picked]");
      await page.waitForFunction(() => {
        const shownName = (
          globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }
        ).document.querySelector("[data-picked]")?.textContent;
        return shownName !== undefined && shownName !== "…";
      });
      picked.push(await name.innerText());
      await page.locator("[data-picked-panel]").click(); // closes it
    }
    const everyone = ["Ada Lovelace", "Zoë O'Brien", "Alan Turing", "Grace Hopper"];
    assert.equal(new Set(picked).size, 3, picked.join());
    assert.ok(
      picked.every((n) => everyone.includes(n)),
      picked.join(),
    );

    // Ctrl-C, and again: the class remembers, so the fourth pick is the one not picked yet.
    await stopWithCtrlC(running);
    running = present(args, env);
    await page.goto(await waitForUrl(running));
    await page.locator("body[data-ready]").waitFor({ timeout: 20_000 });
    await page.locator('[data-action="pick"]').click();
    const fourth = everyone.find((n) => !picked.includes(n)) ?? "";
    await page.locator("[data-picked]", { hasText: fourth }).waitFor({ timeout: 10_000 });
    await stopWithCtrlC(running);
  } catch (error) {
    await keepFailure(page, running);
    throw error;
  } finally {
    await browser.close();
    await stopAnyway(running);
    await rm(classes, { recursive: true, force: true });
  }
});

test("with --pulse, an exercise slide shows the class pulse live, numbers only, and Pick picks among the stuck or the done", async () => {
  requireChromium();
  const classes = await mkdtemp(path.join(os.tmpdir(), "rollcall-present-pulse-"));
  const learners = await classOfFour(classes, "period-2");
  const store = openPulseStore(pulseFileFor(classes, "period-2"));
  const tokens = new Map(store.issueLearnerTokens(learners).map(({ learner, token }) => [learner.email, token]));
  const env = { ROLLCALL_CLASSES: classes };

  // Without the pulse running, --pulse says what to do and starts nothing.
  const early = present(["01-arrays", "--no-browser", "--class", "period-2", "--pulse"], env);
  assert.equal(await exitWithin(early.child, 20_000), 1);
  assert.match(
    early.output(),
    /the class pulse of period-2 is not running: start the class pulse first \(npm run pulse -- --class period-2\)/,
  );

  const pulse = spawn(process.execPath, [path.join(projectRoot, "dist", "scripts", "pulse.mjs"), "--class", "period-2", "--port", "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let pulseOutput = "";
  pulse.stdout?.on("data", (chunk: Buffer) => (pulseOutput += chunk.toString("utf8")));
  pulse.stderr?.on("data", (chunk: Buffer) => (pulseOutput += chunk.toString("utf8")));
  const port = await freePort();
  let running: Running | undefined;
  const browser = await launchChromium();
  const { page } = browser;
  try {
    const deadline = Date.now() + 20_000;
    while (!/dashboard: (\S+)/.test(pulseOutput)) {
      assert.ok(Date.now() < deadline && pulse.exitCode === null, `the pulse did not start:\n${pulseOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pulseUrl = /is at (\S+)/.exec(pulseOutput)?.[1] ?? "";
    const sourceFile = pulseSourceFile(classes, "period-2");
    assert.equal(statSync(sourceFile).mode & 0o777, 0o600, "the instructor's token is for the instructor alone");
    // Ada has been failing enroll for ten minutes (stuck); Zoë passes it in a moment.
    const ada = { name: "Ada Lovelace", email: "ada@example.org" };
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    store.record(
      ada,
      { id: "ada-post-1", lesson: "01-arrays", exercise: "enroll", passed: 0, total: 3, status: "fail", at: tenMinutesAgo.toISOString() },
      tenMinutesAgo,
    );

    running = present(["01-arrays", "--no-browser", "--port", String(port), "--class", "period-2", "--pulse"], env);
    await page.goto(await waitForUrl(running));
    await page.locator("body[data-ready]").waitFor({ timeout: 20_000 });
    const panel = page.locator("[data-pulse-panel]");
    assert.ok(await panel.isHidden(), "no pulse on a slide without an exercise");
    assert.ok(await page.locator('[data-action="pick-stuck"]').isHidden());

    await goTo(page, "enroll");
    await panel.locator('[data-count="trying"]', { hasText: "1" }).waitFor({ timeout: 10_000 });
    assert.equal(await panel.locator('[data-count="stuck"]').innerText(), "1");
    assert.equal(await panel.locator('[data-count="not-started"]').innerText(), "3");
    assert.doesNotMatch(await panel.innerText(), /Ada|Lovelace/, "the projected panel names nobody");

    // Nobody has passed yet: Pick done says so.
    await page.locator('[data-action="pick-done"]').click();
    await page.locator("[data-picked]", { hasText: "nobody has passed enroll yet" }).waitFor({ timeout: 10_000 });
    await page.locator("[data-picked-panel]").click();

    // Zoë passes, through the pulse's own API with her token: the panel follows within a second or two.
    const sent = await fetch(`${pulseUrl}/api/checks`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${tokens.get("zoe@example.org")}` },
      body: JSON.stringify({
        id: "zoe-post-1",
        lesson: "01-arrays",
        exercise: "enroll",
        passed: 3,
        total: 3,
        status: "pass",
        at: new Date().toISOString(),
      }),
    });
    assert.equal(sent.status, 201);
    await panel.locator('[data-count="passed"]', { hasText: "1" }).waitFor({ timeout: 5_000 });

    await page.locator('[data-action="pick-stuck"]').click();
    await page.locator("[data-picked]", { hasText: "Ada Lovelace" }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator("[data-picked-caption]").innerText(), /among those stuck on enroll/);
    await page.locator("[data-picked-panel]").click();
    await page.locator('[data-action="pick-done"]').click();
    await page.locator("[data-picked]", { hasText: "Zoë O'Brien" }).waitFor({ timeout: 10_000 });
    await page.locator("[data-picked-panel]").click();

    // The picks are the roll call's: on file, and nobody else was marked absent (a plain pick still reaches them).
    const rest = new Set<string>();
    for (let i = 0; i < 2; i++) {
      await page.locator('[data-action="pick"]').click();
      await page.waitForFunction(() => {
        const shown = (
          globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }
        ).document.querySelector("[data-picked]")?.textContent;
        return shown !== undefined && shown !== "…";
      });
      rest.add(await page.locator("[data-picked]").innerText());
      await page.locator("[data-picked-panel]").click();
    }
    assert.deepEqual([...rest].sort(), ["Alan Turing", "Grace Hopper"]);
    await stopWithCtrlC(running);
  } catch (error) {
    if (running) await keepFailure(page, running);
    throw error;
  } finally {
    await browser.close();
    if (running) await stopAnyway(running);
    pulse.kill("SIGINT");
    await exitWithin(pulse, 10_000);
    assert.ok(!existsSync(pulseSourceFile(classes, "period-2")), "a stopped pulse leaves no token behind");
    store.close();
    await rm(classes, { recursive: true, force: true });
  }
});
