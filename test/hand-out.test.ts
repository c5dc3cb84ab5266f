/** The hand-out's rule (nbgitpuller's: an edit is never lost), as a plan, and applied to a home in a temporary folder. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { applyHandOut, besideName, handOut, MANIFEST_FILE, planHandOut, type Digests } from "../src/engine/hand-out";

const DAY = "2026-12-02";
const m = (entries: Record<string, string>): Digests => new Map(Object.entries(entries));
const plan = (offered: Record<string, string>, handedOut: Record<string, string>, present: Record<string, string>) =>
  planHandOut(m(offered), m(handedOut), m(present), DAY);

test("a new lesson is copied; one the learner has as handed out is replaced by its new version", () => {
  const p = plan({ "01.ipynb": "v2", "02.ipynb": "n1" }, { "01.ipynb": "v1" }, { "01.ipynb": "v1" });
  assert.deepEqual(p.steps, [
    { kind: "copy", name: "01.ipynb", why: "updated" },
    { kind: "copy", name: "02.ipynb", why: "new" },
  ]);
  assert.deepEqual(Object.fromEntries(p.manifest), { "01.ipynb": "v2", "02.ipynb": "n1" });
});

test("a notebook the learner edited is kept, and a new version goes beside it, under a name that says why", () => {
  const p = plan({ "01.ipynb": "v2" }, { "01.ipynb": "v1" }, { "01.ipynb": "edited" });
  assert.deepEqual(p.steps, [{ kind: "beside", name: "01.ipynb", besideName: "01 (new version 2026-12-02).ipynb" }]);
  assert.equal(p.manifest.get("01.ipynb"), "v2", "the next hand-out of the same version must not put it beside again");
});

test("an edited notebook with no new version is left alone, and so is one already current", () => {
  assert.deepEqual(plan({ "01.ipynb": "v1" }, { "01.ipynb": "v1" }, { "01.ipynb": "edited" }).steps, [
    { kind: "keep", name: "01.ipynb", why: "no-new-version" },
  ]);
  assert.deepEqual(plan({ "01.ipynb": "v1" }, { "01.ipynb": "v1" }, { "01.ipynb": "v1" }).steps, [
    { kind: "keep", name: "01.ipynb", why: "current" },
  ]);
});

test("a notebook the learner deleted stays deleted, unless the lesson has a new version since", () => {
  const same = plan({ "01.ipynb": "v1" }, { "01.ipynb": "v1" }, {});
  assert.deepEqual(same.steps, [{ kind: "keep", name: "01.ipynb", why: "deleted" }]);
  assert.equal(same.manifest.get("01.ipynb"), "v1");
  assert.deepEqual(plan({ "01.ipynb": "v2" }, { "01.ipynb": "v1" }, {}).steps, [{ kind: "copy", name: "01.ipynb", why: "restored" }]);
});

test("with no manifest (first hand-out, or the learner deleted it), a differing file is the learner's: the new one goes beside", () => {
  assert.deepEqual(plan({ "01.ipynb": "v1" }, {}, { "01.ipynb": "mine" }).steps, [
    { kind: "beside", name: "01.ipynb", besideName: "01 (new version 2026-12-02).ipynb" },
  ]);
  assert.deepEqual(plan({ "01.ipynb": "v1" }, {}, { "01.ipynb": "v1" }).steps, [{ kind: "keep", name: "01.ipynb", why: "current" }]);
});

test("a renamed lesson arrives under its new name; the old file is not touched nor forgotten on disk", () => {
  const p = plan({ "01-lists.ipynb": "v1" }, { "01-arrays.ipynb": "v0" }, { "01-arrays.ipynb": "edited" });
  assert.deepEqual(p.steps, [{ kind: "copy", name: "01-lists.ipynb", why: "new" }]);
  assert.deepEqual([...p.manifest.keys()], ["01-lists.ipynb"]);
});

test("a version already beside (a second run the same day) is not put beside again; taken names are numbered", () => {
  const present = { "01.ipynb": "edited", "01 (new version 2026-12-02).ipynb": "v2" };
  assert.deepEqual(plan({ "01.ipynb": "v2" }, { "01.ipynb": "v1" }, present).steps, [{ kind: "keep", name: "01.ipynb", why: "current" }]);
  const taken = new Set(["01 (new version 2026-12-02).ipynb"]);
  assert.equal(
    besideName("01.ipynb", DAY, (n) => taken.has(n)),
    "01 (new version 2026-12-02 2).ipynb",
  );
  const p = plan({ "01.ipynb": "v3" }, { "01.ipynb": "v2" }, { "01.ipynb": "edited", "01 (new version 2026-12-02).ipynb": "v2" });
  assert.deepEqual(p.steps, [{ kind: "beside", name: "01.ipynb", besideName: "01 (new version 2026-12-02 2).ipynb" }]);
});

const scratch = mkdtemp(path.join(os.tmpdir(), "rollcall-hand-out-"));
after(async () => rm(await scratch, { recursive: true, force: true }));

test("applied to a home: first hand-out, an edit, a new version: the edit is kept and the new one is beside it", async () => {
  const home = path.join(await scratch, "home");
  await mkdir(home);
  const v1 = new Map([["01-arrays.ipynb", Buffer.from('{"v":1}')]]);
  const first = await applyHandOut(home, v1, DAY);
  assert.deepEqual(first.copied, ["01-arrays.ipynb"]);
  const course = path.join(home, "course");
  await writeFile(path.join(course, "01-arrays.ipynb"), '{"v":"mine"}');
  const second = await applyHandOut(home, new Map([["01-arrays.ipynb", Buffer.from('{"v":2}')]]), DAY);
  assert.deepEqual(second.beside, [{ name: "01-arrays.ipynb", besideName: "01-arrays (new version 2026-12-02).ipynb" }]);
  assert.equal(await readFile(path.join(course, "01-arrays.ipynb"), "utf8"), '{"v":"mine"}');
  assert.equal(await readFile(path.join(course, "01-arrays (new version 2026-12-02).ipynb"), "utf8"), '{"v":2}');
  assert.deepEqual((await readdir(course)).sort(), [MANIFEST_FILE, "01-arrays (new version 2026-12-02).ipynb", "01-arrays.ipynb"]);
});

test("a link the learner put in a notebook's place is replaced, never written through", async () => {
  const home = path.join(await scratch, "linked");
  const outside = path.join(await scratch, "outside.txt");
  await writeFile(outside, "do not touch");
  await mkdir(path.join(home, "course"), { recursive: true });
  await writeFile(path.join(home, "course", MANIFEST_FILE), JSON.stringify({ "01.ipynb": "x" }));
  await symlink(outside, path.join(home, "course", "01.ipynb"));
  const report = await applyHandOut(home, new Map([["01.ipynb", Buffer.from("new")]]), DAY);
  assert.equal(report.beside.length, 1, "a link is not a notebook the learner left unchanged");
  assert.equal(await readFile(outside, "utf8"), "do not touch");
});

test("handOut says what to do when there is nothing to hand out, or the home is not the account's", async () => {
  const empty = path.join(await scratch, "empty");
  await mkdir(empty);
  const none = await handOut(empty, process.getuid?.() ?? 0, 0, empty);
  assert.ok(!none.ok && /npm run build/.test(none.problems[0]?.message ?? ""));
  const notebooks = path.join(await scratch, "notebooks");
  await mkdir(notebooks);
  await writeFile(path.join(notebooks, "01.ipynb"), "{}");
  const wrong = await handOut(empty, 4242, 4242, notebooks);
  assert.ok(!wrong.ok && /refusing/.test(wrong.problems[0]?.message ?? ""));
});
