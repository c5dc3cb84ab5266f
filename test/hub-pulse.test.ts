/**
 * `npm run hub -- --class NAME --pulse URL` on real accounts: each learner gets
 * `~/.rollcall-pulse.json` with a token the class's pulse store takes as that learner
 * and nobody else, 0600 and theirs; a link a learner planted at that name is replaced,
 * never followed (not into a root-only file, not into another learner's); a start
 * without `--pulse` takes the kit's files away and leaves a learner's own.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { lstatSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { PULSE_SETTINGS_FILE } from "../src/pulse.js";
import { checkPulseUrl } from "../src/engine/hub-setup.js";
import { openPulseStore, pulseFileFor } from "../src/engine/pulse-store.js";
import type { PasswdEntry } from "../src/engine/unix-accounts.js";
import { hubClass, type HubClass } from "./support/hub-class.js";

const asRoot = process.getuid?.() === 0;
const PULSE_URL = "http://127.0.0.1:8765";
let hub: HubClass;
let ada: PasswdEntry;
let bob: PasswdEntry;
const emails = { ada: `ada${process.pid}@school.org`, bob: `bob${process.pid}@school.org` };

before(async () => {
  if (!asRoot) return;
  hub = await hubClass("pulse");
  await hub.addLearners([
    { name: "Ada", email: emails.ada },
    { name: "Bob", email: emails.bob },
  ]);
});

after(async () => {
  await hub?.dispose();
});

/** One start of the hub command with these options, stopped again once it is up; its output. */
async function startAndStop(extra: readonly string[]): Promise<string> {
  const started = await hub.start(extra);
  assert.equal(await hub.interrupt(), 0, started.output());
  return started.output();
}

const settingsOf = (account: PasswdEntry): string => path.join(account.home, PULSE_SETTINGS_FILE);
const tokenOf = (account: PasswdEntry): string => (JSON.parse(readFileSync(settingsOf(account), "utf8")) as { token: string }).token;

/** Who the class's pulse store says a token is. */
function learnerOfToken(token: string): string | undefined {
  const store = openPulseStore(pulseFileFor(hub.classesDir, hub.className));
  try {
    return store.learnerFor(token)?.email;
  } finally {
    store.close();
  }
}

test("--pulse gives each learner their own token, in a file only they can read", { skip: !asRoot }, async () => {
  const output = await startAndStop(["--pulse", `${PULSE_URL}/`]);
  assert.match(output, /the class pulse is on: 2 learners have ~\/\.rollcall-pulse\.json for http:\/\/127\.0\.0\.1:8765/);
  const accounts = hub.accounts().sort((a, b) => a.user.localeCompare(b.user));
  [ada, bob] = accounts as [PasswdEntry, PasswdEntry];
  for (const [account, email, other] of [
    [ada, emails.ada, emails.bob],
    [bob, emails.bob, emails.ada],
  ] as const) {
    const info = lstatSync(settingsOf(account));
    assert.ok(info.isFile());
    assert.equal(info.mode & 0o777, 0o600, `${account.user}'s file is 0600`);
    assert.equal(info.uid, account.uid, `${account.user} owns it`);
    assert.equal(info.gid, account.gid);
    const settings = JSON.parse(readFileSync(settingsOf(account), "utf8")) as { url: string; token: string };
    assert.equal(settings.url, PULSE_URL, "the URL as the notebooks read it");
    assert.equal(learnerOfToken(settings.token), email, "the store takes the token as this learner");
    assert.notEqual(learnerOfToken(settings.token), other, "and not as the other");
  }
  assert.notEqual(tokenOf(ada), tokenOf(bob));
});

test("a link a learner planted at the settings file's name is replaced, never followed", { skip: !asRoot }, async () => {
  // stand-ins for /etc/shadow (a root-only file) and for another learner's work
  const secret = path.join(hub.classesDir, "shadow-stand-in");
  writeFileSync(secret, "root:secret\n", { mode: 0o600 });
  const bobsWork = path.join(bob.home, "course", "01-arrays.ipynb");
  const bobsBytes = readFileSync(bobsWork, "utf8");
  const before = { ada: tokenOf(ada), bob: tokenOf(bob) };
  for (const [account, target] of [
    [ada, secret],
    [bob, bobsWork],
  ] as const) {
    unlinkSync(settingsOf(account));
    assert.equal(spawnSync("runuser", ["-u", account.user, "--", "ln", "-s", target, settingsOf(account)]).status, 0);
  }
  // Bob's link goes to his own notebook; Ada's to a file she may not read
  await startAndStop(["--pulse", PULSE_URL]);
  assert.equal(readFileSync(secret, "utf8"), "root:secret\n", "the root-only file is untouched");
  assert.equal(statSync(secret).uid, 0, "and still root's");
  assert.equal(readFileSync(bobsWork, "utf8"), bobsBytes, "the link's target is untouched");
  for (const account of [ada, bob]) {
    const info = lstatSync(settingsOf(account));
    assert.ok(info.isFile() && !info.isSymbolicLink(), `${account.user}: a plain file where the link was`);
    assert.equal(info.uid, account.uid);
    assert.equal(info.mode & 0o777, 0o600);
  }
  assert.equal(learnerOfToken(tokenOf(ada)), emails.ada);
  assert.equal(learnerOfToken(before.ada), undefined, "each start issues a new token; the earlier one stops working");
  assert.equal(learnerOfToken(before.bob), undefined);
});

test("a start without --pulse takes the kit's settings files away, and leaves a learner's own", { skip: !asRoot }, async () => {
  const bobsOwn = `{ "url": "http://10.0.0.5:8765", "token": "bobs-own-token-1234567890" }\n`;
  const wrote = spawnSync("runuser", [
    "-u",
    bob.user,
    "--",
    process.execPath,
    "-e",
    `require("fs").writeFileSync(${JSON.stringify(settingsOf(bob))}, ${JSON.stringify(bobsOwn)})`,
  ]);
  assert.equal(wrote.status, 0, String(wrote.stderr));
  const output = await startAndStop([]);
  assert.throws(() => lstatSync(settingsOf(ada)), { code: "ENOENT" }, "the kit's file is gone");
  assert.match(output, new RegExp(`the class pulse is off: removed ~/\\.rollcall-pulse\\.json of ${ada.user}`));
  assert.equal(readFileSync(settingsOf(bob), "utf8"), bobsOwn, "the file the learner wrote is theirs, and stays");
  assert.match(output, new RegExp(`${bob.user}: ~/\\.rollcall-pulse\\.json is not the one the kit wrote`));
  // and a second start says nothing more of it
  const again = await startAndStop([]);
  assert.doesNotMatch(again, /rollcall-pulse/);
});

test("--pulse takes only an http or https URL, and says what it wants", () => {
  for (const bad of ["ftp://127.0.0.1:8765", "127.0.0.1:8765", "http://", "http://user:pw@host:1", "javascript:alert(1)"]) {
    const checked = checkPulseUrl(bad);
    assert.equal(checked.ok, false, bad);
    if (!checked.ok) assert.match(checked.problems[0]?.message ?? "", /--pulse takes the URL of the class pulse, http:\/\/ or https:\/\//);
  }
  assert.deepEqual(checkPulseUrl("https://pulse.school.org/"), { ok: true, value: "https://pulse.school.org" });
});
