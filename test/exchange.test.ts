/** The exchange's pure rules: whose accounts, which submission is whose and the latest, which page goes home where. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { appendFile, chmod, stat, symlink } from "node:fs/promises";
import {
  collectFolders,
  copyCollected,
  droppedFiles,
  KEPT_INDEX,
  parseDueTime,
  parseSubmissionName,
  planCollect,
  planReturn,
  returnToFolders,
  type Account,
  type DroppedFile,
} from "../src/engine/exchange";
import { projectRoot } from "../src/engine/paths.js";

const COLLECT = path.join(projectRoot, "dist", "scripts", "collect.mjs");

const ada: Account = { name: "rc-ada", uid: 2001, gid: 2001, home: "/home/rc-ada" };
const bob: Account = { name: "rc-bob", uid: 2002, gid: 2002, home: "/home/rc-bob" };

test("a submission's name says user, lesson and time; anything else is no submission", () => {
  assert.deepEqual(parseSubmissionName("rc-ada+01-arrays+20261202T104213123Z.ipynb"), { user: "rc-ada", lesson: "01-arrays" });
  assert.deepEqual(parseSubmissionName("rc-ada+01-arrays+20261202T104213123Z-9f3ac01b.ipynb"), { user: "rc-ada", lesson: "01-arrays" });
  // a hub's name for a learner may be an email with a "+" in it (Kubernetes)
  assert.deepEqual(parseSubmissionName("a+b@x.org+01-arrays+20261202T104213123Z-9f3ac01b.ipynb"), {
    user: "a+b@x.org",
    lesson: "01-arrays",
  });
  for (const bad of [
    "rc-ada+01-arrays.ipynb",
    "rc-ada+../x+20261202T104213123Z.ipynb",
    "notes.txt",
    "rc-ada+01+2026.ipynb",
    "rc-ada+01-arrays+20261202T104213123Z-x.ipynb",
  ]) {
    assert.equal(parseSubmissionName(bad), undefined, bad);
  }
});

const dropped = (file: string, ownerUid: number, changedMs: number, extra: Partial<DroppedFile> = {}): DroppedFile => ({
  file,
  path: `/drop/${file}`,
  ownerUid,
  changedMs,
  handedInMs: changedMs,
  regular: true,
  links: 1,
  size: 100,
  ino: 1,
  ...extra,
});

test("collect takes each learner's latest, trusts the owner not the name, and leaves out what came after the due time", () => {
  const files = [
    dropped("rc-ada+01-arrays+20261202T100000000Z.ipynb", 2001, 1000),
    dropped("rc-ada+01-arrays+20261202T110000000Z.ipynb", 2001, 2000),
    dropped("rc-ada+01-arrays+20261202T120000000Z.ipynb", 2001, 3000),
    dropped("rc-ada+02-random-picks+20261202T120000000Z.ipynb", 2001, 3500),
    dropped("rc-bob+01-arrays+20261202T090000000Z.ipynb", 2001, 500), // ada, pretending to be bob
    dropped("rc-bob+01-arrays+20261202T080000000Z.ipynb", 2002, 400, { links: 2 }),
    dropped("rc-bob+01-arrays+20261202T070000000Z.ipynb", 0, 300), // owned by no learner
  ];
  const all = planCollect(files, [ada, bob], "01-arrays");
  assert.deepEqual(
    [...all.latest].map(([learner, f]) => [learner, f.file]),
    [["rc-ada", "rc-ada+01-arrays+20261202T120000000Z.ipynb"]],
  );
  assert.ok(all.notes.some((n) => /named for rc-bob but owned by rc-ada: rejected/.test(n)));
  assert.ok(all.notes.some((n) => /not a plain file/.test(n)));
  assert.ok(all.notes.some((n) => /uid 0, no account/.test(n)));
  const due = planCollect(files, [ada, bob], "01-arrays", 2500);
  assert.equal(due.latest.get("rc-ada")?.file, "rc-ada+01-arrays+20261202T110000000Z.ipynb", "the latest before the due time");
  assert.ok(due.notes.some((n) => /1 submission\(s\) after the due time/.test(n)));
});

test("return maps each page to its account; a name of nobody (or a path) is reported, never delivered", () => {
  const plan = planReturn(["rc-ada.html", "rc-zed.html", "..%2Frc-bob.html", "rc-bob.html", "index.txt"], [ada, bob]);
  assert.deepEqual(
    [...plan.deliver].map(([page, a]) => [page, a.home]),
    [
      ["rc-ada.html", "/home/rc-ada"],
      ["rc-bob.html", "/home/rc-bob"],
    ],
  );
  assert.deepEqual(plan.unknown, ["..%2Frc-bob.html", "rc-zed.html"]);
});

test("on Kubernetes the folder says who: collect takes each folder's latest, return writes only into folders that exist", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "rollcall-exchange-folders-"));
  try {
    const inbound = path.join(root, "inbound");
    // Bob's server names a file for Ada, before his own: it is Bob's (only his server writes into his folder), never Ada's
    await mkdir(path.join(inbound, "bob"), { recursive: true });
    await writeFile(path.join(inbound, "bob", "ada+01-arrays+20261202T090000000Z.ipynb"), "bob as ada");
    await new Promise((resolve) => setTimeout(resolve, 15));
    for (const [who, stamp, text] of [
      ["ada", "20261202T100000000Z", "ada 1"],
      ["ada", "20261202T110000000Z", "ada 2"],
      ["bob", "20261202T100000000Z", "bob 1"],
    ] as const) {
      await mkdir(path.join(inbound, who), { recursive: true });
      await writeFile(path.join(inbound, who, `${who}+01-arrays+${stamp}.ipynb`), text);
      await new Promise((resolve) => setTimeout(resolve, 15)); // distinct ctimes
    }
    // KubeSpawner names the folder with the hub's name escaped; submit() names the file with the name itself
    for (const [folder, user] of [
      ["ada-2elovelace", "ada.lovelace"],
      ["grace-2bhopper-40navy-2emil", "grace+hopper@navy.mil"],
      ["-5fbob", "_bob"], // a name that starts with neither a letter nor a digit: its folder starts with "-"
    ] as const) {
      await mkdir(path.join(inbound, folder), { recursive: true });
      await writeFile(path.join(inbound, folder, `${user}+01-arrays+20261202T100000000Z-0badc0de.ipynb`), `${user} 1`);
    }
    await mkdir(path.join(inbound, "lost+found")); // a volume's own: no note of it
    await mkdir(path.join(inbound, "uid-7")); // a name as --remove gives a file of no account: said, in case its index was left behind
    const out = path.join(root, "out");
    const collected = await collectFolders(inbound, "01-arrays", out);
    assert.ok(collected.ok);
    assert.deepEqual(collected.value.learners, ["-5fbob", "ada", "ada-2elovelace", "bob", "grace-2bhopper-40navy-2emil"]);
    assert.equal(await readFile(path.join(out, "-5fbob", "01-arrays.ipynb"), "utf8"), "_bob 1");
    assert.equal(await readFile(path.join(out, "ada", "01-arrays.ipynb"), "utf8"), "ada 2");
    assert.equal(await readFile(path.join(out, "bob", "01-arrays.ipynb"), "utf8"), "bob 1");
    assert.equal(await readFile(path.join(out, "ada-2elovelace", "01-arrays.ipynb"), "utf8"), "ada.lovelace 1");
    assert.equal(await readFile(path.join(out, "grace-2bhopper-40navy-2emil", "01-arrays.ipynb"), "utf8"), "grace+hopper@navy.mil 1");
    assert.ok(collected.value.notes.some((n) => /named for ada, in bob's folder: taken as bob's/.test(n)));
    assert.equal(collected.value.notes.filter((n) => /named for/.test(n)).length, 1, collected.value.notes.join("\n"));
    assert.equal(collected.value.kept, false);
    assert.ok(!collected.value.notes.some((n) => n.includes("lost+found")));
    assert.ok(
      collected.value.notes.some((n) =>
        /^uid-7\/: taken as a learner's folder; were it one --remove kept, its submissions\.csv is not beside it/.test(n),
      ),
    );
    const cli = spawnSync(process.execPath, [COLLECT, "any-class", "01-arrays", path.join(root, "out2"), "--folders", inbound], {
      encoding: "utf8",
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /then: node dist\/scripts\/return\.mjs any-class 01-arrays MARKS --to OUTBOUND/);

    const marks = path.join(root, "marks");
    await mkdir(path.join(marks, "feedback"), { recursive: true });
    for (const who of ["ada", "zed"]) await writeFile(path.join(marks, "feedback", `${who}.html`), `for ${who}`);
    const outbound = path.join(root, "outbound");
    await mkdir(path.join(outbound, "ada"), { recursive: true });
    const returned = await returnToFolders(marks, outbound, "01-arrays");
    assert.ok(returned.ok);
    assert.deepEqual(returned.value.delivered, ["ada"]);
    assert.equal(await readFile(path.join(outbound, "ada", "01-arrays.html"), "utf8"), "for ada");
    assert.ok(returned.value.problems.some((p) => p.file?.endsWith("zed.html")));
    assert.ok(
      !(await readFile(path.join(outbound, "zed", "01-arrays.html")).catch(() => undefined)),
      "a folder was made from a page's name",
    );

    // marks of another lesson are not returned as this one's
    await mkdir(path.join(marks, "results"));
    await writeFile(path.join(marks, "results", "ada.json"), JSON.stringify({ lesson: "02-random" }));
    const wrong = await returnToFolders(marks, outbound, "01-arrays");
    assert.ok(!wrong.ok);
    assert.match(wrong.problems[0]?.message ?? "", /holds the marks of 02-random, not 01-arrays/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("a folder --remove kept is collected by the hand-in times it recorded, not by when the files were moved", async () => {
  const removed = await mkdtemp(path.join(os.tmpdir(), "rollcall-removed-"));
  try {
    const kept = path.join(removed, "submissions");
    const rows = [
      ["rc-ada/rc-ada+01-arrays+20261202T100000000Z-00000001.ipynb", "rc-ada", "2026-12-02T10:00:00.000Z", "ada on time"],
      ["rc-ada/rc-ada+01-arrays+20261203T100000000Z-00000002.ipynb", "rc-ada", "2026-12-03T10:00:00.000Z", "ada late"],
      ["rc-bob/rc-bob+01-arrays+20261203T090000000Z-00000003.ipynb", "rc-bob", "2026-12-03T09:00:00.000Z", "bob late"],
      ["rc-eve/rc-bob+01-arrays+20261202T080000000Z.ipynb", "rc-eve", "2026-12-02T08:00:00.000Z", "eve as bob"],
      ["uid-4242/rc-mal+01-arrays+20261202T080000000Z.ipynb", "uid-4242", "2026-12-02T08:00:00.000Z", "no account's"],
    ];
    for (const [file, , , text] of rows) {
      await mkdir(path.dirname(path.join(kept, file!)), { recursive: true });
      await writeFile(path.join(kept, file!), text!); // moved today: the files' ctimes are now, after every due time
    }
    await writeFile(
      path.join(removed, KEPT_INDEX),
      `file,account,uid,handedIn\n${rows.map(([file, account, at]) => `${file},${account},1001,${at}`).join("\n")}\n`,
    );
    const due = parseDueTime("2026-12-02T23:59Z");
    const out = path.join(removed, "out");
    const collected = await collectFolders(kept, "01-arrays", out, due);
    assert.ok(collected.ok);
    assert.deepEqual(collected.value.learners, ["rc-ada"]);
    assert.equal(await readFile(path.join(out, "rc-ada", "01-arrays.ipynb"), "utf8"), "ada on time");
    assert.equal(collected.value.kept, true);
    const notes = collected.value.notes.join("\n");
    assert.match(notes, /2 submission\(s\) after the due time/);
    // kept as the one machine saw them: a file named for another learner was its owner's forgery, and a
    // file of no account of the class is nobody's, as they were before --remove moved them
    assert.match(notes, /rc-bob\+01-arrays\+20261202T080000000Z\.ipynb: named for rc-bob but owned by rc-eve: rejected/);
    assert.match(notes, /uid-4242\/: files of uid 4242, no account of this class: skipped/);
    await assert.rejects(readFile(path.join(out, "rc-eve", "01-arrays.ipynb")), { code: "ENOENT" });
    await assert.rejects(readFile(path.join(out, "uid-4242", "01-arrays.ipynb")), { code: "ENOENT" });
    // the next step it prints: grade, and no return (the accounts are gone), not the Kubernetes commands
    const cli = spawnSync(process.execPath, [COLLECT, "any-class", "01-arrays", path.join(removed, "out2"), "--folders", kept], {
      encoding: "utf8",
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /next: npm run grade -- --lesson 01-arrays .*the class's accounts were removed/);
    assert.doesNotMatch(cli.stdout, /return/);
  } finally {
    await rm(removed, { recursive: true, force: true });
  }
});

test("an OUT folder that was there already, empty, is made private too: its names are the class's accounts", async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-out-there-"));
  try {
    await chmod(out, 0o755);
    const got = await copyCollected({ latest: new Map(), notes: [] }, "01-arrays", out);
    assert.ok(got.ok);
    assert.equal((await stat(out)).mode & 0o777, 0o700);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("a lesson id that is a path is refused before anything is read or written", async () => {
  for (const lesson of ["../01-arrays", "01/arrays", ".hidden"]) {
    const collected = await collectFolders("/nonexistent", lesson, "/nonexistent-out");
    assert.ok(!collected.ok && /no lesson id/.test(collected.problems[0]?.message ?? ""), lesson);
    const returned = await returnToFolders("/nonexistent", "/nonexistent", lesson);
    assert.ok(!returned.ok && /no lesson id/.test(returned.problems[0]?.message ?? ""), lesson);
  }
});

test("a submission swapped after collect looked at it (for a link to another's work, a FIFO, a file grown past 5 MB), or written again, is skipped, never copied; OUT is collect's own", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-swap-"));
  try {
    const drop = path.join(dir, "drop");
    const out = path.join(dir, "out");
    await mkdir(drop);
    const victim = path.join(dir, "victim.ipynb");
    await writeFile(victim, '{"cells":[],"secret":"bob\'s work"}');
    const me: Account = { name: "rc-me", uid: process.getuid?.() ?? 0, gid: 0, home: dir };
    const file = path.join(drop, "rc-me+01-arrays+20261202T100000000Z.ipynb");
    const swaps: Record<string, () => Promise<void>> = {
      "a link": async () => {
        await rm(file);
        await symlink(victim, file);
      },
      "a FIFO": async () => {
        await rm(file);
        assert.equal(spawnSync("mkfifo", [file]).status, 0);
      },
      "a file grown past 5 MB": () => appendFile(file, Buffer.alloc(6 * 1024 * 1024, 32)),
      // the same inode and a single link, but written after the look (after the due time, say)
      "the same file written again": async () => {
        await new Promise((resolve) => setTimeout(resolve, 20)); // file times tick in jiffies
        await writeFile(file, '{"cells":[],"written":"after the due time"}');
      },
    };
    for (const [swap, make] of Object.entries(swaps)) {
      await rm(file, { force: true });
      await writeFile(file, '{"cells":[]}');
      const plan = planCollect(await droppedFiles(drop), [me], "01-arrays");
      assert.ok(plan.latest.has("rc-me"), "the honest file was planned");
      await make();
      const got = await copyCollected(plan, "01-arrays", out);
      assert.ok(got.ok, swap);
      assert.deepEqual(got.value.learners, [], swap);
      assert.match(got.value.notes.join("\n"), /changed while being collected/, swap);
      const copied = await readFile(path.join(out, "rc-me", "01-arrays.ipynb"), "utf8").catch(() => "");
      assert.equal(copied, "", `${swap}: nothing was copied`);
    }
    await rm(file);
    await writeFile(file, '{"cells":[]}');
    const got = await copyCollected(planCollect(await droppedFiles(drop), [me], "01-arrays"), "01-arrays", out);
    assert.ok(got.ok);
    assert.deepEqual(got.value.learners, ["rc-me"]);
    assert.equal((await stat(out)).mode & 0o777, 0o700, "the collected folder is the instructor's alone");
    assert.equal((await stat(path.join(out, "rc-me", "01-arrays.ipynb"))).mode & 0o777, 0o600);

    // collected again with nothing from rc-me this time: last time's copy must not be graded as this time's
    await rm(file);
    const again = await copyCollected(planCollect(await droppedFiles(drop), [me], "01-arrays"), "01-arrays", out);
    assert.ok(again.ok);
    assert.deepEqual(again.value.learners, []);
    assert.equal(await stat(path.join(out, "rc-me", "01-arrays.ipynb")).catch(() => undefined), undefined, "the earlier copy is gone");
    assert.match(again.value.notes.join("\n"), /from an earlier collect, with nothing from rc-me this time: removed/);

    // an OUT collect did not write is refused: removing an earlier collect's copies there would remove
    // anybody's LESSON.ipynb one folder down (OUT = the kit itself would lose notebooks/01-arrays.ipynb)
    const kit = path.join(dir, "kit");
    await mkdir(path.join(kit, "notebooks"), { recursive: true });
    await writeFile(path.join(kit, "notebooks", "01-arrays.ipynb"), "the course");
    const foreign = await copyCollected(planCollect([], [me], "01-arrays"), "01-arrays", kit);
    assert.ok(!foreign.ok);
    assert.match(foreign.problems[0]?.message ?? "", /holds files an earlier collect did not write: choose a new or empty folder/);
    assert.equal(await readFile(path.join(kit, "notebooks", "01-arrays.ipynb"), "utf8"), "the course");

    // an OUT that cannot be a folder says so, as a problem
    const notFolder = path.join(dir, "a-file");
    await writeFile(notFolder, "");
    const refused = await copyCollected(planCollect([], [me], "01-arrays"), "01-arrays", notFolder);
    assert.ok(!refused.ok);
    assert.match(refused.problems[0]?.message ?? "", /cannot be made a folder here \(EEXIST\): choose another OUT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("--due takes ISO times, local unless zoned, a date alone for the end of that day, and nothing Date.parse would guess", () => {
  assert.equal(parseDueTime("2026-12-02T23:59"), new Date(2026, 11, 2, 23, 59).getTime());
  assert.equal(parseDueTime("2026-12-02 23:59:30"), new Date(2026, 11, 2, 23, 59, 30).getTime());
  assert.equal(parseDueTime("2026-12-02"), new Date(2026, 11, 2, 23, 59, 59, 999).getTime());
  assert.equal(parseDueTime("2026-12-02T23:59Z"), Date.UTC(2026, 11, 2, 23, 59));
  assert.equal(parseDueTime("2026-12-02T23:59:00.5+01:30"), Date.UTC(2026, 11, 2, 22, 29, 0, 500));
  for (const bad of [
    "Dec 2",
    "2",
    "2026-13-01",
    "2026-02-30",
    "2026-12-02T24:00",
    "tomorrow",
    "2026-12-02T23:59 +1",
    "2026-12-02T23:59+99:99",
  ]) {
    assert.equal(parseDueTime(bad), undefined, bad);
  }
  // a UTC time in the hour a local clock skips (Berlin, spring forward) is a time all the same
  const tz = process.env.TZ;
  process.env.TZ = "Europe/Berlin";
  try {
    assert.equal(parseDueTime("2026-03-29T02:30Z"), Date.UTC(2026, 2, 29, 2, 30));
    assert.equal(parseDueTime("2026-03-29T02:30+00:00"), Date.UTC(2026, 2, 29, 2, 30));
    assert.equal(parseDueTime("2026-03-29T02:30"), undefined, "that local time never happens in Berlin");
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});
