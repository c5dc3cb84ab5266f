/**
 * Issue figures for the presenter, measured side by side in one run:
 * - a warm cell's round trip through the presenter (HTTP request to its outputs,
 *   the way the page asks), beside the same cell through the plain kernel client,
 *   the peer (`npm run execute`'s; a notebook's own round trip), p50 and p95;
 * - building the deck (lesson text → slides page) for every lesson;
 * - a pick, from the click on the Pick button to the name on the screen, in Chromium.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildLesson } from "../src/engine/build.js";
import { openClass, type ClassFile } from "../src/engine/class-file.js";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { tslabCommand } from "../src/engine/kernel-seam.js";
import { parseLesson } from "../src/engine/lesson.js";
import { lessonIds } from "../src/engine/lesson-files.js";
import { lessonsDir, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { coursePresenter } from "../src/engine/present-course.js";
import { startPresenter, type Presenter } from "../src/engine/present-server.js";
import { formatProblem } from "../src/engine/problem.js";
import { parseRoster } from "../src/engine/roster-csv.js";
import { deckOf, renderDeckPage } from "../src/engine/slides.js";
import { launchChromium } from "../test/support/browser.js";

const ROUNDS = 200;
const PICKS = 20;
const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const sorted = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function presenterFor(lesson: string, classFile?: ClassFile): Promise<Presenter> {
  const started = await startPresenter({
    lesson,
    host: "127.0.0.1",
    port: 0,
    ...coursePresenter(lesson),
    ...(classFile ? { classFile } : {}),
  });
  if (!started.ok) throw new Error(started.problems.map(formatProblem).join("\n"));
  await started.value.kernel.ready();
  return started.value;
}

/** A warm cell through the presenter's HTTP API and through the kernel client, interleaved so that noise hits both alike. */
async function roundTrips(): Promise<Record<string, number>> {
  const presenter = await presenterFor("01-arrays");
  const peer = await JupyterKernel.start(tslabCommand(projectRoot), { cwd: notebooksDir });
  const token = new URL(presenter.url).searchParams.get("token") ?? "";
  const api = `http://127.0.0.1:${presenter.port}/api/run`;
  const viaPresenter = async (): Promise<void> => {
    const response = await fetch(api, {
      method: "POST",
      headers: { "content-type": "application/json", "x-rollcall-token": token },
      body: JSON.stringify({ chain: [{ id: "bench", code: "1" }] }),
    });
    const { results } = (await response.json()) as { results: { status: string }[] };
    if (results[0]?.status !== "ok") throw new Error(`the bench cell did not run: ${JSON.stringify(results)}`);
  };
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      await viaPresenter();
      await peer.execute("1");
    }
    for (let i = 0; i < ROUNDS; i++) {
      ours.push(await timed(viaPresenter));
      theirs.push(await timed(() => peer.execute("1")));
    }
  } finally {
    await presenter.close();
    await peer.stop();
  }
  const [o, t] = [sorted(ours), sorted(theirs)];
  return {
    "presenter cell round trip p50 (ms, goal ≤ 30)": quantile(o, 0.5),
    "presenter cell round trip p95 (ms)": quantile(o, 0.95),
    "same cell, plain kernel client p50 (ms)": quantile(t, 0.5),
    "same cell, plain kernel client p95 (ms)": quantile(t, 0.95),
    "presenter overhead at p50 (ms)": quantile(o, 0.5) - quantile(t, 0.5),
  };
}

/** Lesson text → deck page, the whole stage, per lesson (median of 20). */
async function deckBuilds(): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  for (const id of await lessonIds()) {
    const file = `lessons/${id}.md`;
    const text = await readFile(path.join(lessonsDir, `${id}.md`), "utf8");
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      times.push(
        await timed(async () => {
          const lesson = parseLesson(text, file);
          if (!lesson.ok) throw new Error(lesson.problems.map(formatProblem).join("\n"));
          renderDeckPage(deckOf(lesson.value, buildLesson(lesson.value), "instructor"), {
            revealBase: "/r",
            staticBase: "/s",
            startedAt: 0,
          });
        }),
      );
    }
    figures[`deck build ${id} (ms, median)`] = quantile(sorted(times), 0.5);
  }
  return figures;
}

/** Click on Pick → the picked name on the page, in the system's Chromium (median and p95 of 20). */
async function pickLatency(): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-class-"));
  const opened = await openClass("bench", { dir, create: true });
  if (!opened.ok) throw new Error(opened.problems.map(formatProblem).join("\n"));
  const roster = parseRoster(
    `name,email\n${Array.from({ length: 30 }, (_, i) => `Student ${i + 1},s${i + 1}@example.org`).join("\n")}\n`,
    "roster.csv",
  );
  if (!roster.ok || !opened.value.importRoster(roster.value, "roster.csv").ok) throw new Error("the bench roster did not import");
  const presenter = await presenterFor("05-roll-call", opened.value);
  const browser = await launchChromium();
  const times: number[] = [];
  try {
    const { page } = browser;
    await page.goto(presenter.url);
    await page.locator("body[data-ready]").waitFor({ timeout: 30_000 });
    for (let i = 0; i < PICKS; i++) {
      times.push(
        await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              interface Shown {
                textContent: string | null;
                click(): void;
              }
              const page = globalThis as unknown as {
                document: { querySelector(selector: string): Shown };
                MutationObserver: new (changed: () => void) => { observe(node: Shown, options: object): void; disconnect(): void };
              };
              const name = page.document.querySelector("[data-picked]");
              const started = performance.now();
              const observer = new page.MutationObserver(() => {
                if (name.textContent && name.textContent !== "…") {
                  observer.disconnect();
                  resolve(performance.now() - started);
                }
              });
              observer.observe(name, { childList: true, characterData: true, subtree: true });
              page.document.querySelector('[data-action="pick"]').click();
            }),
        ),
      );
    }
  } finally {
    await browser.close();
    await presenter.close();
    opened.value.close();
    await rm(dir, { recursive: true, force: true });
  }
  const s = sorted(times);
  return { "pick, click to name p50 (ms)": quantile(s, 0.5), "pick, click to name p95 (ms)": quantile(s, 0.95) };
}

export async function benchPresent(): Promise<Record<string, number>> {
  return { ...(await roundTrips()), ...(await deckBuilds()), ...(await pickLatency()) };
}
