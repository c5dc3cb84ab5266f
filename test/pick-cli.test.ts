/**
 * `npm run class` and `npm run pick` end to end, in a classes folder of their own:
 * imports, picks, undo, report and their errors; a picker killed with SIGKILL at a
 * random moment; two pickers on one file at once.
 */
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { execFile, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { projectRoot } from "../src/engine/paths.js";

const script = (name: string) => path.join(projectRoot, "dist", "scripts", `${name}.mjs`);
let tmp = "";
let classes = "";

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-pick-cli-"));
  classes = path.join(tmp, "classes");
  await writeFile(path.join(tmp, "roster.csv"), ROSTER);
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const ROSTER = [
  "\ufeffname,email,cohort",
  '"Zoë O\'Brien",zoe@example.edu,Morning',
  "Ada Lovelace,ada@example.edu,Morning",
  "Grace Hopper,grace@example.edu,Morning",
  "Alan Turing,alan@example.edu,Evening",
  "Mei Chen,mei@example.edu,Evening",
  "Kwame Mensah,kwame@example.edu,Evening",
  "Yuki Tanaka,yuki@example.edu,Evening",
  "",
].join("\n");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script in the temporary folder (as `npm run` would from there), with the classes folder from the environment unless `env` says otherwise. */
function run(name: string, args: readonly string[], env: Record<string, string> = { ROLLCALL_CLASSES: classes }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script(name), ...args],
      { cwd: tmp, env: { ...process.env, FORCE_COLOR: "0", INIT_CWD: tmp, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `Zoë O'Brien  (round 2, pick #9)` → the name and the pick's id. */
function printedPicks(stdout: string): { name: string; id: number }[] {
  return stdout.split("\n").flatMap((line) => {
    const m = /^(.+) {2}\(round \d+, pick #(\d+)\)$/u.exec(line);
    return m === null ? [] : [{ name: m[1] ?? "", id: Number(m[2]) }];
  });
}

/** The picks in the file, opened as the next picker would (read-write, so a killed writer's hot journal is rolled back). */
function fileRows(file: string): { id: number; name: string; round: number; undone: number }[] {
  const db = new Database(file);
  try {
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    return db
      .prepare(
        "SELECT p.id, l.name, p.round, p.undone_at IS NOT NULL AS undone FROM picks p JOIN learners l ON l.id = p.learner_id ORDER BY p.id",
      )
      .all() as { id: number; name: string; round: number; undone: number }[];
  } finally {
    db.close();
  }
}

test("a roster with bad rows is refused line by line, and no class file is made (paths from where the user typed them)", async () => {
  await writeFile(
    path.join(tmp, "bad.csv"),
    "name,email\nAda Lovelace,ada@example.edu\n,mei@example.edu\nGrace,grace.example.edu\nAlan,ADA@example.edu\n",
  );
  const r = await run("class", ["import", "bad-class", "bad.csv", "--classes", "classes"]);
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    "bad.csv:3: missing name",
    'bad.csv:4: bad email "grace.example.edu" (an email looks like name@example.edu)',
    "bad.csv:5: duplicate email ADA@example.edu (also on line 2); each learner needs their own",
    "nothing was imported: fix the rows above and import again",
  ]);
  assert.ok(!existsSync(path.join(classes, "bad-class.sqlite")));
});

test("import, pick with an absence, undo, report: the whole roll call from the command line", async () => {
  const imported = await run("class", ["import", "cli", "roster.csv"]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^rollcall: class cli: 7 added, 0 updated, 0 unchanged, 0 marked as left/u);

  const picked = await run("pick", ["cli", "--absent", "Zoë O'Brien", "--absent", "ada@example.edu", "--times", "5"]);
  assert.equal(picked.code, 0, picked.stderr);
  const five = printedPicks(picked.stdout);
  assert.equal(five.length, 5);
  assert.equal(new Set(five.map((p) => p.name)).size, 5, "five different learners");
  assert.ok(
    five.every((p) => p.name !== "Zoë O'Brien" && p.name !== "Ada Lovelace"),
    "an absent learner was picked",
  );

  const undone = await run("pick", ["cli", "--undo"]);
  assert.equal(undone.code, 0, undone.stderr);
  assert.equal(undone.stdout.trim(), `took back: ${five[4]?.name}  (round 1, pick #${five[4]?.id})`);

  const report = await run("class", ["report", "cli"]);
  assert.equal(report.code, 0, report.stderr);
  const lines = report.stdout.trim().split("\n");
  assert.match(lines[0] ?? "", /^name +│ email +│ answers$/u);
  for (const p of five.slice(0, 4)) assert.match(report.stdout, new RegExp(`${p.name} +│ \\S+ +│ +1\\n`, "u"));
  assert.equal(lines.at(-1), "4 answers from 4 of 7 learners");
  assert.deepEqual((await run("class", ["list"])).stdout.trim().split("\n"), ["cli"]);
  // --classes instead of the environment, relative to the folder the command was typed in.
  const listed = await run("class", ["list", "--classes", "classes"], { ROLLCALL_CLASSES: "" });
  assert.deepEqual(listed.stdout.trim().split("\n"), ["cli"]);
});

test("the errors a user meets: unknown class, not SQLite, nothing to undo, everyone away, bad arguments", async () => {
  const unknown = await run("pick", ["nope"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no class "nope": the classes in .* are: cli\. Make one with npm run class -- import nope roster\.csv/u);

  await writeFile(path.join(classes, "junk.sqlite"), "not a database");
  const junk = await run("pick", ["junk"]);
  assert.equal(junk.code, 1);
  assert.match(junk.stderr, /junk\.sqlite: is not a SQLite file, so not a class file; it was left as it is/u);
  assert.equal(await readFile(path.join(classes, "junk.sqlite"), "utf8"), "not a database");

  await writeFile(path.join(tmp, "two.csv"), "name,email\nAda Lovelace,ada@example.edu\nMei Chen,mei@example.edu\n");
  assert.equal((await run("class", ["import", "two", "two.csv"])).code, 0);
  const nothing = await run("pick", ["two", "--undo"]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /class two has no pick to undo/u);
  const away = await run("pick", ["two", "--absent", "Ada Lovelace", "--absent", "Mei Chen"]);
  assert.equal(away.code, 1);
  assert.match(away.stderr, /everyone in class two is marked absent today/u);

  const usage = await run("pick", []);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^usage: npm run pick -- CLASS/u);
  assert.equal((await run("class", ["import", "x"])).code, 2);
  const missing = await run("class", ["import", "x", "missing.csv"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing\.csv: no such file/u);
});

test("kill -9 at a random moment: the file is whole, and every pick that was printed is in it", { timeout: 60_000 }, async () => {
  assert.equal((await run("class", ["import", "killed", "roster.csv"])).code, 0);
  const file = path.join(classes, "killed.sqlite");
  let printed: { name: string; id: number }[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const child = spawn(process.execPath, [script("pick"), "killed", "--times", "1000000"], {
      env: { ...process.env, FORCE_COLOR: "0", ROLLCALL_CLASSES: classes },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
    });
    let running = true;
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => {
        running = false;
        resolve(signal);
      }),
    );
    // Wait for the first pick, then a random moment later.
    while (running && !stdout.includes("\n")) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(running, `the picker stopped by itself: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, randomInt(1, 400)));
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");
    printed = printed.concat(printedPicks(stdout));
    const rows = fileRows(file);
    const inFile = new Map(rows.filter((r) => !r.undone).map((r) => [r.id, r.name]));
    for (const p of printed) assert.equal(inFile.get(p.id), p.name, `printed pick #${p.id} (${p.name}) is not in the file`);
    assert.ok(rows.length - printed.length <= attempt + 1, "at most one unprinted pick per kill");
  }
  assert.ok(printed.length > 3);
  // And the class goes on.
  const after = await run("pick", ["killed"]);
  assert.equal(after.code, 0, after.stderr);
});

test("two pickers at once on one file: 50 picks each, 100 in the file, nobody twice in a round", { timeout: 60_000 }, async () => {
  assert.equal((await run("class", ["import", "busy", "roster.csv"])).code, 0);
  const [one, two] = await Promise.all([run("pick", ["busy", "--times", "50"]), run("pick", ["busy", "--times", "50"])]);
  assert.equal(one?.code, 0, one?.stderr);
  assert.equal(two?.code, 0, two?.stderr);
  const printed = [...printedPicks(one?.stdout ?? ""), ...printedPicks(two?.stdout ?? "")];
  assert.equal(printed.length, 100);
  assert.equal(new Set(printed.map((p) => p.id)).size, 100, "a pick was shown twice");
  const rows = fileRows(path.join(classes, "busy.sqlite"));
  assert.equal(rows.length, 100);
  const rounds = new Map<number, string[]>();
  for (const r of rows) rounds.set(r.round, [...(rounds.get(r.round) ?? []), r.name]);
  for (const [round, names] of rounds) {
    assert.equal(new Set(names).size, names.length, `round ${round}: ${names.join(", ")}`);
    if (round < Math.max(...rounds.keys())) assert.equal(names.length, 7, `round ${round} was closed before everyone was picked`);
  }
});
