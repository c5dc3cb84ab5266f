/**
 * Hand-out, submit, collect and return with two real learner accounts (root only): made here
 * under a class name of this run, so the marker matches no other account, and removed in `after`
 * even when a test fails. Each learner's side runs as that learner (`runuser`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { handOutClass } from "../src/engine/hand-out";
import { classAccounts, collect, makeDropFolder, returnFeedback, type Account } from "../src/engine/exchange";
import { findSubmissions } from "../src/engine/grade-batch";
import { createAccount, removeAccounts } from "../src/engine/unix-accounts";
import { projectRoot } from "../src/engine/paths";

const asRoot = process.getuid?.() === 0 && spawnSync("useradd", ["--help"]).status === 0;
const CLASS = `t${randomBytes(3).toString("hex")}`;
const ADA = `rc-${CLASS}a`;
const BOB = `rc-${CLASS}b`;
const SUBMIT = path.join(projectRoot, "dist", "src", "submit.js");
let scratch = "";
let drop = "";
let notebooks = "";
const accounts = new Map<string, Account>();

/** Runs `code` in node as `user`, in `cwd`, with the drop folder in the environment a hub's spawner sets. */
function asLearner(user: string, cwd: string, code: string): { status: number | null; out: string } {
  const done = spawnSync("runuser", ["-u", user, "--", "env", `ROLLCALL_SUBMIT_DIR=${drop}`, process.execPath, "-e", code], {
    cwd,
    encoding: "utf8",
  });
  return { status: done.status, out: `${done.stdout}${done.stderr}` };
}
const submitAs = (user: string, lesson: string): string =>
  asLearner(
    user,
    path.join(accounts.get(user)?.home ?? "/", "course"),
    `require(${JSON.stringify(SUBMIT)}).submit(${JSON.stringify(lesson)})`,
  ).out;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  if (!asRoot) return;
  scratch = await mkdtemp(path.join(os.tmpdir(), "rollcall-exchange-"));
  await chmod(scratch, 0o755); // learners must reach the drop folder inside it
  notebooks = path.join(scratch, "notebooks");
  await mkdir(notebooks);
  await writeFile(path.join(notebooks, "01-arrays.ipynb"), '{"cells":[],"v":1}');
  for (const user of [ADA, BOB]) createAccount(CLASS, user);
  for (const a of classAccounts(CLASS)) accounts.set(a.name, a);
  drop = await makeDropFolder(CLASS, scratch);
});

after(async () => {
  if (!asRoot) return;
  await removeAccounts(CLASS);
  await rm(scratch, { recursive: true, force: true });
});

const home = (user: string): string => accounts.get(user)?.home ?? assert.fail(`no account ${user}`);

test(
  "hand-out into two homes; an edit survives a new version, which arrives beside it; files are the learner's",
  { skip: !asRoot },
  async () => {
    assert.deepEqual([...accounts.keys()].sort(), [ADA, BOB]);
    const first = await handOutClass(
      [...accounts.values()].map((a) => ({ learner: a.name, home: a.home, uid: a.uid, gid: a.gid })),
      notebooks,
    );
    assert.ok(first.ok && first.value.problems.length === 0, JSON.stringify(first));
    const adaNotebook = path.join(home(ADA), "course", "01-arrays.ipynb");
    assert.equal((await lstat(adaNotebook)).uid, accounts.get(ADA)?.uid);
    assert.equal(asLearner(ADA, "/", `require("fs").writeFileSync(${JSON.stringify(adaNotebook)}, '{"cells":[],"v":"ada"}')`).status, 0);
    await writeFile(path.join(notebooks, "01-arrays.ipynb"), '{"cells":[],"v":2}');
    const second = await handOutClass(
      [...accounts.values()].map((a) => ({ learner: a.name, home: a.home, uid: a.uid, gid: a.gid })),
      notebooks,
    );
    assert.ok(second.ok && second.value.problems.length === 0, JSON.stringify(second));
    assert.equal(await readFile(adaNotebook, "utf8"), '{"cells":[],"v":"ada"}', "the learner's edit was overwritten");
    const beside = (await readdir(path.join(home(ADA), "course"))).find((f) => f.startsWith("01-arrays (new version "));
    assert.ok(beside, "the new version is not beside the edited notebook");
    const besideFile = path.join(home(ADA), "course", beside);
    assert.equal(await readFile(besideFile, "utf8"), '{"cells":[],"v":2}');
    assert.equal((await lstat(besideFile)).uid, accounts.get(ADA)?.uid);
    assert.equal(
      await readFile(path.join(home(BOB), "course", "01-arrays.ipynb"), "utf8"),
      '{"cells":[],"v":2}',
      "an unedited notebook is updated",
    );
  },
);

let due = 0;

test(
  "submit as each learner: a receipt with the time; resubmitting keeps both; nobody can list or read another's",
  { skip: !asRoot },
  async () => {
    assert.match(submitAs(ADA, "01-arrays"), /^submitted 01-arrays at \d\d:\d\d/);
    await pause(30);
    due = Date.now();
    await pause(30);
    const notebook = path.join(home(ADA), "course", "01-arrays.ipynb");
    asLearner(ADA, "/", `require("fs").writeFileSync(${JSON.stringify(notebook)}, '{"cells":[],"v":"ada late"}')`);
    assert.match(submitAs(ADA, "01-arrays"), /^submitted 01-arrays at/);
    assert.match(submitAs(BOB, "01-arrays"), /^submitted 01-arrays at/);
    const files = await readdir(drop);
    assert.equal(files.filter((f) => f.startsWith(`${ADA}+01-arrays+`)).length, 2, "a resubmission replaced the first");
    const bobs = files.find((f) => f.startsWith(`${BOB}+`)) ?? assert.fail("no submission of bob's");
    const list = asLearner(ADA, "/", `require("fs").readdirSync(${JSON.stringify(drop)})`);
    assert.notEqual(list.status, 0, "a learner could list the drop folder");
    const read = asLearner(ADA, "/", `process.stdout.write(require("fs").readFileSync(${JSON.stringify(path.join(drop, bobs))}, "utf8"))`);
    assert.notEqual(read.status, 0, "a learner could read another's submission");
    assert.match(read.out, /EACCES/);
    const remove = asLearner(ADA, "/", `require("fs").unlinkSync(${JSON.stringify(path.join(drop, bobs))})`);
    assert.notEqual(remove.status, 0, "a learner could remove another's submission");
  },
);

test("submit with no class hub, or a notebook that is not there, says what to do", { skip: !asRoot }, () => {
  const noHub = spawnSync(
    "runuser",
    ["-u", ADA, "--", "env", "-u", "ROLLCALL_SUBMIT_DIR", process.execPath, "-e", `require(${JSON.stringify(SUBMIT)}).submit("01-arrays")`],
    {
      cwd: "/",
      encoding: "utf8",
    },
  );
  assert.match(noHub.stdout, /no class hub.*File → Download/);
  assert.match(submitAs(ADA, "09-nothing"), /There is no 09-nothing\.ipynb/);
});

test(
  "collect: each learner's latest (before --due when given); a file named for another learner is rejected",
  { skip: !asRoot },
  async () => {
    // Ada drops a file named for Bob: the name says Bob, the owner is Ada.
    const forged = path.join(drop, `${BOB}+01-arrays+29991231T000000000Z.ipynb`);
    assert.equal(
      asLearner(ADA, "/", `require("fs").writeFileSync(${JSON.stringify(forged)}, '{"v":"forged"}', { mode: 0o600 })`).status,
      0,
    );
    const out = path.join(scratch, "collected");
    const all = await collect(drop, [...accounts.values()], "01-arrays", out);
    assert.ok(all.ok);
    assert.deepEqual(all.value.learners, [ADA, BOB]);
    assert.ok(
      all.value.notes.some((n) => n.includes(`named for ${BOB} but owned by ${ADA}: rejected`)),
      all.value.notes.join("\n"),
    );
    assert.equal(await readFile(path.join(out, ADA, "01-arrays.ipynb"), "utf8"), '{"cells":[],"v":"ada late"}');
    assert.equal(await readFile(path.join(out, BOB, "01-arrays.ipynb"), "utf8"), '{"cells":[],"v":2}');
    const forGrading = await findSubmissions([out], "01-arrays", 1024 * 1024);
    assert.deepEqual(
      forGrading.submissions.map((s) => s.learner),
      [ADA, BOB],
      "npm run grade does not take the collected folder",
    );
    const early = path.join(scratch, "early");
    const cli = spawnSync(
      process.execPath,
      [
        path.join(projectRoot, "dist", "scripts", "collect.mjs"),
        CLASS,
        "01-arrays",
        early,
        "--due",
        new Date(due).toISOString(),
        "--drop",
        drop,
      ],
      { encoding: "utf8" },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /collected 01-arrays from 1 of 2 learners/);
    assert.match(cli.stdout, new RegExp(`nothing from: ${BOB}`));
    assert.equal(
      await readFile(path.join(early, ADA, "01-arrays.ipynb"), "utf8"),
      '{"cells":[],"v":"ada"}',
      "not the submission before the due time",
    );
  },
);

test(
  "return puts each learner's own page in their home, as theirs; a page of nobody, or a planted link, writes nothing",
  { skip: !asRoot },
  async () => {
    const marks = path.join(scratch, "marks");
    await mkdir(path.join(marks, "feedback"), { recursive: true });
    for (const name of [ADA, BOB, "rc-nobody"]) await writeFile(path.join(marks, "feedback", `${name}.html`), `<p>for ${name}</p>`);
    const returned = await returnFeedback(marks, [...accounts.values()], "01-arrays");
    assert.ok(returned.ok);
    assert.deepEqual(returned.value.delivered, [ADA, BOB]);
    assert.ok(returned.value.problems.some((p) => p.file?.endsWith("rc-nobody.html") && /names no learner/.test(p.message)));
    for (const user of [ADA, BOB]) {
      const page = path.join(home(user), "feedback", "01-arrays.html");
      assert.equal(await readFile(page, "utf8"), `<p>for ${user}</p>`);
      assert.equal((await lstat(page)).uid, accounts.get(user)?.uid);
    }
    // Bob swaps his feedback folder for a link to a folder of root's: returning again must not write there.
    const rootOnly = path.join(scratch, "root-only");
    await mkdir(rootOnly, { mode: 0o755 });
    await rm(path.join(home(BOB), "feedback"), { recursive: true });
    await symlink(rootOnly, path.join(home(BOB), "feedback"));
    const again = await returnFeedback(marks, [...accounts.values()], "01-arrays");
    assert.ok(again.ok);
    assert.deepEqual(again.value.delivered, [ADA]);
    assert.deepEqual(await readdir(rootOnly), []);
  },
);

test(
  "a FIFO a learner put in place of the hand-out's record or of a notebook does not hang the hand-out",
  { skip: !asRoot, timeout: 60_000 },
  async () => {
    const course = path.join(home(BOB), "course");
    const fifos = [path.join(course, ".rollcall-handed-out.json"), path.join(course, "01-arrays.ipynb")];
    for (const fifo of fifos) {
      await rm(fifo, { force: true });
      assert.equal(spawnSync("runuser", ["-u", BOB, "--", "mkfifo", fifo]).status, 0);
    }
    const done = await handOutClass(
      [...accounts.values()].map((a) => ({ learner: a.name, home: a.home, uid: a.uid, gid: a.gid })),
      notebooks,
    );
    assert.ok(done.ok && done.value.problems.length === 0, JSON.stringify(done));
    const bobs = done.value.reports.find((r) => r.home === home(BOB));
    assert.deepEqual(
      bobs?.beside.map((b) => b.name),
      ["01-arrays.ipynb"],
      "the FIFO counts as the learner's: the notebook goes beside it",
    );
  },
);
