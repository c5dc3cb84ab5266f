/** Shared by the browser tests: the system's Chromium driven by playwright-core, free loopback ports, and child processes that stop. */
import assert from "node:assert/strict";
import { type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { projectRoot } from "../../src/engine/paths.js";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
/** Screenshots land here (ignored by git), so a failure can be looked at. */
export const ARTIFACTS = path.join(projectRoot, "test", "artifacts");

/** Fails, saying how to get it, when the system's Chromium is missing: Playwright must never download one. */
export function requireChromium(): void {
  assert.ok(
    existsSync(CHROMIUM),
    `this test needs Chromium at ${CHROMIUM}: install it with sudo apt-get install -y chromium (never let Playwright download one)`,
  );
}

/** A headless Chromium with a throwaway profile; `close` also removes the profile. */
export interface Browser {
  readonly context: BrowserContext;
  /** The browser's first page, to reuse for every notebook. */
  readonly page: Page;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  requireChromium();
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), "rollcall-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the child's exit code, or undefined if it has not exited within `ms`. */
export function exitWithin(child: ChildProcess, ms: number): Promise<number | null | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** All the inner texts of the elements `selector` matches. */
export async function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allInnerTexts();
}
