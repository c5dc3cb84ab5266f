/**
 * Logging in to a real class hub the way a learner does: Chromium on the hub's login page,
 * a Unix name and password from classes/NAME-logins.csv (PAM), then their own server listing
 * the course. A wrong password gets the hub's login error; another learner's /user/NAME/ URL
 * shows nothing of that learner's, whether their server runs or not. Everything is stopped
 * and the accounts removed after, even when a test fails.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { parse } from "csv-parse/sync";
import type { Page } from "playwright-core";
import { hubApi, startServer, type HubApi } from "../src/engine/hub-client.js";
import type { Login } from "../src/engine/hub-setup.js";
import { ARTIFACTS, launchChromium, requireChromium, type Browser } from "./support/browser.js";
import { hubClass, type HubClass } from "./support/hub-class.js";

const asRoot = process.getuid?.() === 0;
const TIMEOUT = 60_000;
let hub: HubClass | undefined;
let browser: Browser | undefined;
let url = "";
let admin: HubApi;
let ada: Login;
let bob: Login;
const BOBS_FILE = "bobs-private-notes.txt";

before(async () => {
  if (!asRoot) return;
  requireChromium();
  hub = await hubClass("login");
  await hub.addLearners([
    { name: "Ada", email: `ada${process.pid}@school.org` },
    { name: "Bob", email: `bob${process.pid}@school.org` },
  ]);
  const started = await hub.start();
  url = started.url;
  admin = hubApi(url, started.token);
  const logins = parse(await readFile(hub.loginsFile, "utf8"), { columns: true }) as Login[];
  [ada, bob] = logins.sort((a, b) => a.user.localeCompare(b.user)) as [Login, Login];
  assert.ok(ada && bob && ada.password && bob.password, "two logins on file");
  const planted = spawnSync("runuser", ["-u", bob.user, "--", "sh", "-c", `echo mine > ~/${BOBS_FILE}`]);
  assert.equal(planted.status, 0, String(planted.stderr));
  browser = await launchChromium();
  browser.page.setDefaultTimeout(TIMEOUT);
});

after(async () => {
  await browser?.close();
  await hub?.dispose();
});

/** Runs a test's steps in the browser; on a failure, a screenshot of where it was goes to test/artifacts/. */
async function inBrowser(name: string, steps: (page: Page) => Promise<void>): Promise<void> {
  assert.ok(browser);
  try {
    await steps(browser.page);
  } catch (error) {
    await mkdir(ARTIFACTS, { recursive: true });
    await browser.page.screenshot({ path: path.join(ARTIFACTS, `hub-login-${name}.png`) }).catch(() => undefined);
    throw error;
  }
}

async function logIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto(new URL("hub/login", url).href);
  await page.fill("#username_input", user);
  await page.fill("#password_input", password);
  await Promise.all([page.waitForNavigation(), page.click("#login_submit")]);
}

/** The names the Notebook file list shows. */
const listed = (page: Page): Promise<string[]> => page.locator("#notebook_list .item_name").allInnerTexts();

test("a wrong password is refused with the hub's login error", { skip: !asRoot }, () =>
  inBrowser("wrong-password", async (page) => {
    await logIn(page, ada.user, `${ada.password}x`);
    assert.match(new URL(page.url()).pathname, /\/hub\/login/);
    assert.match(await page.locator(".login_error").innerText(), /Invalid username or password/);
    const model = (await admin.call("GET", `users/${ada.user}`)).body as { servers: Record<string, unknown> };
    assert.deepEqual(model.servers, {}, "no server was started for the failed login");
  }),
);

test("a learner logs in with the logins file and lands on their own server, the course listed", { skip: !asRoot }, () =>
  inBrowser("own-server", async (page) => {
    await logIn(page, ada.user, ada.password);
    await page.waitForURL(new RegExp(`/user/${ada.user}/tree`), { timeout: TIMEOUT });
    await page.locator("#notebook_list .item_name").first().waitFor();
    assert.ok((await listed(page)).includes("course"), "the home holds the course folder");
    await page.goto(new URL(`user/${ada.user}/tree/course`, url).href);
    await page.locator("#notebook_list .item_name", { hasText: "01-arrays.ipynb" }).waitFor();
    assert.ok((await listed(page)).includes("01-arrays.ipynb"));
  }),
);

/** Opens another learner's URL as the logged-in learner: what the page says, and that none of Bob's files is in it. */
async function othersUrl(page: Page): Promise<{ path: string; status: number | undefined; text: string }> {
  const response = await page.goto(new URL(`user/${bob.user}/tree`, url).href);
  await page.waitForLoadState("networkidle").catch(() => undefined);
  const text = await page.locator("body").innerText();
  return { path: new URL(page.url()).pathname, status: response?.status(), text };
}

test("another learner's URL shows nothing of theirs, whether their server runs or not", { skip: !asRoot }, () =>
  inBrowser("other-learner", async (page) => {
    const stopped = await othersUrl(page);
    assert.equal(stopped.status, 404, `Bob's server stopped: the hub says there is nothing (${stopped.path})`);
    assert.doesNotMatch(stopped.text, new RegExp(BOBS_FILE));

    await startServer(admin, bob.user);
    const running = await othersUrl(page);
    assert.equal(running.status, 403, `Bob's server running: the hub refuses Ada its login (${running.path})`);
    assert.match(running.text, new RegExp(`You do not have permission to access Server at /user/${bob.user}/`));
    assert.doesNotMatch(running.text, new RegExp(BOBS_FILE));
    assert.equal(await page.locator("#notebook_list").count(), 0, "no file list of Bob's");
  }),
);

test("the same page, logged in as that learner, does show their file (the check above can see a leak)", { skip: !asRoot }, () =>
  inBrowser("positive-control", async (page) => {
    await page.context().clearCookies();
    await logIn(page, bob.user, bob.password);
    await page.goto(new URL(`user/${bob.user}/tree`, url).href);
    await page.locator("#notebook_list .item_name", { hasText: BOBS_FILE }).waitFor();
    assert.ok((await listed(page)).includes(BOBS_FILE));
  }),
);
