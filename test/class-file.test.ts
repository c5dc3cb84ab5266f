/** The class file: imports, picks over days, undo, and the problems a user can cause, on real SQLite files. */
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { statSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { listClasses, openClass, SCHEMA_1, type ClassFile, type ClassOptions } from "../src/engine/class-file";
import { formatProblem, type Result } from "../src/engine/problem";
import { parseRoster, type RosterEntry } from "../src/engine/roster-csv";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-class-file-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const seven = [
  "name,email,cohort",
  "Zoë O'Brien,zoe@example.edu,Morning",
  "Ada Lovelace,ada@example.edu,Morning",
  "Grace Hopper,grace@example.edu,Morning",
  "Alan Turing,alan@example.edu,Evening",
  "Mei Chen,mei@example.edu,Evening",
  "Kwame Mensah,kwame@example.edu,Evening",
  "Yuki Tanaka,yuki@example.edu,Evening",
].join("\n");

function value<T>(r: Result<T>): T {
  assert.ok(r.ok, r.ok ? "" : r.problems.map(formatProblem).join("\n"));
  return r.value;
}

function roster(text: string): readonly RosterEntry[] {
  return value(parseRoster(text, "roster.csv"));
}

/** A clock the test moves: each call is a second later, and `day` jumps to the next school day. */
function schoolClock() {
  let at = new Date(2024, 8, 2, 9, 0, 0).getTime();
  return {
    now: () => new Date((at += 1000)),
    nextDay: () => {
      at += 24 * 3600 * 1000;
    },
  };
}

async function newClass(name: string, text = seven, options: ClassOptions = {}): Promise<ClassFile> {
  const classFile = value(await openClass(name, { dir, create: true, ...options }));
  value(classFile.importRoster(roster(text), "roster.csv"));
  return classFile;
}

test("an import makes a real SQLite class file with everyone on it", async () => {
  const c = await newClass("import-good");
  assert.deepEqual(
    c.learners().map((l) => [l.name, l.cohort, l.left]),
    seven
      .split("\n")
      .slice(1)
      .map((row) => [row.split(",")[0], row.split(",")[2], false]),
  );
  c.close();
  const db = new Database(path.join(dir, "import-good.sqlite"), { readonly: true });
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  assert.equal((db.prepare("SELECT count(*) AS n FROM learners").get() as { n: number }).n, 7);
  db.close();
  assert.ok(listClasses(dir).includes("import-good"));
  // Names and emails of the class: the instructor's alone on a shared machine.
  assert.equal((statSync(path.join(dir, "import-good.sqlite")).mode & 0o777).toString(8), "600");
});

test("over a term of days with absences, nobody is picked twice before everyone present once", async () => {
  const clock = schoolClock();
  const c = await newClass("term", seven, { now: clock.now });
  const names = c.learners().map((l) => l.name);
  for (let day = 0; day < 8; day++) {
    const absent = names.filter((_, i) => (i + day) % 3 === 0); // two or three away each day, a different set
    for (let turn = 0; turn < 4; turn++) value(c.pick({ absent: turn === 0 ? absent : [] }));
    clock.nextDay();
  }
  const picks = c.picks();
  assert.equal(picks.length, 32);
  const firstDay = new Date(picks[0]?.day ?? "").getTime();
  const awayOn = (day: string) => {
    const index = Math.round((new Date(day).getTime() - firstDay) / 86_400_000);
    return new Set(names.filter((_, i) => (i + index) % 3 === 0));
  };
  // Replay the term: a new round may start only when nobody present that day still waits in the old one.
  const byRound = new Map<number, Set<string>>();
  for (const [i, p] of picks.entries()) {
    assert.ok(!awayOn(p.day).has(p.name), `${p.name} was picked on ${p.day}, while away`);
    const previous = picks[i - 1];
    if (previous !== undefined && p.round !== previous.round) {
      assert.equal(p.round, previous.round + 1);
      const done = byRound.get(previous.round) ?? new Set();
      const waiting = names.filter((n) => !awayOn(p.day).has(n) && !done.has(n));
      assert.deepEqual(waiting, [], `round ${p.round} started on ${p.day} while ${waiting.join(", ")} waited`);
    }
    const inRound = byRound.get(p.round) ?? new Set<string>();
    assert.ok(!inRound.has(p.name), `${p.name} picked twice in round ${p.round}`);
    byRound.set(p.round, inRound.add(p.name));
  }
  assert.ok(byRound.size >= 4, "the term went through several rounds");
  c.close();
});

test("absences hold for the rest of the day, and end with it", async () => {
  const clock = schoolClock();
  const c = await newClass("absent-today", "name,email\nAda Lovelace,ada@example.edu\nMei Chen,mei@example.edu\n", { now: clock.now });
  value(c.pick({ absent: ["ADA LOVELACE"] }));
  for (let i = 0; i < 3; i++) assert.equal(value(c.pick()).name, "Mei Chen");
  clock.nextDay();
  const next = new Set([value(c.pick()).name, value(c.pick()).name]);
  assert.ok(next.has("Ada Lovelace"), "Ada is back the next day");
  c.close();
});

test("undo takes back the latest pick, which stays in the file but no longer counts", async () => {
  const c = await newClass("undo", "name,email\nAda Lovelace,ada@example.edu\nMei Chen,mei@example.edu\n");
  const first = value(c.pick());
  const second = value(c.pick());
  assert.deepEqual(value(c.undo()), second);
  assert.deepEqual(
    c.picks().map((p) => p.id),
    [first.id],
  );
  // The one taken back is in the bag again: the round is not over.
  const again = value(c.pick());
  assert.equal(again.name, second.name);
  assert.equal(again.round, 1);
  value(c.undo());
  value(c.undo());
  const nothing = c.undo();
  assert.ok(!nothing.ok && /has no pick to undo/u.test(nothing.problems[0]?.message ?? ""));
  assert.deepEqual(
    c.answerCounts().map((a) => a.count),
    [0, 0],
  );
  const db = new Database(c.file, { readonly: true });
  assert.equal((db.prepare("SELECT count(*) AS n FROM picks WHERE undone_at IS NOT NULL").get() as { n: number }).n, 3);
  db.close();
  c.close();
});

test("a re-import adds the new, updates the known by email, marks the missing as left, and keeps every pick", async () => {
  const c = await newClass("reimport", "name,email\nAda Lovelace,ada@example.edu\nMei Chen,mei@example.edu\n");
  const picks = [value(c.pick()), value(c.pick())];
  const summary = value(
    c.importRoster(roster("name,email,cohort\nAda King,ADA@example.edu,Morning\nYuki Tanaka,yuki@example.edu,\n"), "roster2.csv"),
  );
  assert.deepEqual(summary, { added: 1, updated: 1, unchanged: 0, left: 1, returned: 0 });
  assert.deepEqual(
    c.learners().map((l) => [l.name, l.left]),
    [
      ["Ada King", false],
      ["Mei Chen", true],
      ["Yuki Tanaka", false],
    ],
  );
  assert.deepEqual(
    c.answerCounts().map((a) => [a.name, a.count, a.left]),
    [
      ["Ada King", 1, false],
      ["Mei Chen", 1, true],
      ["Yuki Tanaka", 0, false],
    ],
  );
  assert.equal(c.picks().length, picks.length);
  for (let i = 0; i < 6; i++) assert.notEqual(value(c.pick()).name, "Mei Chen", "a learner who left is never picked");
  const back = value(c.importRoster(roster("name,email\nMei Chen,mei@example.edu\n"), "roster3.csv"));
  assert.deepEqual(back, { added: 0, updated: 0, unchanged: 0, left: 2, returned: 1 });
  assert.equal(c.answerCounts().find((a) => a.name === "Mei Chen")?.count, 1, "her answers are still hers");
  c.close();
});

test("two handles on one file take turns: no pick lost, none twice in a round", async () => {
  const a = await newClass("two-handles");
  const b = value(await openClass("two-handles", { dir }));
  for (let i = 0; i < 21; i++) value((i % 2 === 0 ? a : b).pick());
  const picks = a.picks();
  assert.equal(picks.length, 21);
  for (const round of [1, 2, 3]) assert.equal(new Set(picks.filter((p) => p.round === round).map((p) => p.email)).size, 7);
  a.close();
  b.close();
});

test("an unknown class lists the classes there are; a bad name is refused", async () => {
  const r = await openClass("no-such-class", { dir });
  assert.ok(!r.ok);
  assert.match(
    r.problems[0]?.message ?? "",
    /^no class "no-such-class": the classes in .* are: .*import-good.*\. Make one with npm run class -- import no-such-class roster\.csv$/u,
  );
  const empty = await openClass("x", { dir: path.join(dir, "nothing-here") });
  assert.match((!empty.ok && empty.problems[0]?.message) || "", /there are no classes in .* yet/u);
  const bad = await openClass("../escape", { dir, create: true });
  assert.match((!bad.ok && bad.problems[0]?.message) || "", /is not a class name/u);
});

test("a file that is not SQLite, or SQLite but not a class, is named and left untouched", async () => {
  const text = path.join(dir, "notes.sqlite");
  await writeFile(text, "these are my notes, not a database\n");
  const r = await openClass("notes", { dir, create: true });
  assert.ok(!r.ok);
  assert.match(formatProblem(r.problems[0] ?? { message: "" }), /notes\.sqlite: is not a SQLite file/u);
  assert.equal(await readFile(text, "utf8"), "these are my notes, not a database\n");

  const other = path.join(dir, "shop.sqlite");
  const db = new Database(other);
  db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY)");
  db.close();
  const before = await readFile(other);
  const s = await openClass("shop", { dir, create: true });
  assert.ok(!s.ok && /is a SQLite file but not a rollcall class file/u.test(s.problems[0]?.message ?? ""));
  assert.deepEqual(await readFile(other), before);
});

test("no learners, everyone absent, an unknown absentee: clear problems, and nothing written", async () => {
  const empty = value(await openClass("empty", { dir, create: true }));
  const none = empty.pick();
  assert.ok(
    !none.ok &&
      /has no learners on its roster: import one with npm run class -- import empty roster\.csv/u.test(none.problems[0]?.message ?? ""),
  );
  empty.close();

  const c = await newClass("all-away", "name,email\nAda Lovelace,ada@example.edu\nMei Chen,mei@example.edu\n");
  const away = c.pick({ absent: ["Ada Lovelace", "mei@example.edu"] });
  assert.ok(!away.ok && /everyone in class all-away is marked absent today/u.test(away.problems[0]?.message ?? ""));
  const who = c.pick({ absent: ["Ada Lovelace", "Ada Byron"] });
  assert.ok(!who.ok && /nobody called "Ada Byron" is on the roster/u.test(who.problems[0]?.message ?? ""));
  // Neither refused pick recorded its absences: Ada can still be picked today.
  const names = new Set([value(c.pick()).name, value(c.pick()).name]);
  assert.deepEqual([...names].sort(), ["Ada Lovelace", "Mei Chen"]);
  c.close();
});

test("a pick among a group (the stuck, the done) picks only from it, marks nobody absent, and keeps the rounds fair", async () => {
  const c = await newClass("among");
  const group = ["ada@example.edu", "Mei Chen"];
  const first = value(c.pick({ among: group }));
  const second = value(c.pick({ among: group }));
  assert.deepEqual([first.email, second.email].sort(), ["ada@example.edu", "mei@example.edu"]);
  assert.deepEqual([first.extra, second.extra, first.round, second.round], [false, false, 1, 1], "their turns in round 1");
  // Both have answered this round, five others have not: a third pick among them is an extra one.
  const third = value(c.pick({ among: group }));
  assert.ok(["ada@example.edu", "mei@example.edu"].includes(third.email));
  assert.deepEqual([third.extra, third.round], [true, 1]);
  const fourth = value(c.pick({ among: group }));
  assert.notEqual(fourth.email, third.email, "an extra pick goes to whoever in the group answered least");
  // Nobody else was marked absent or lost their turn: the round goes on with the five who wait.
  const rest = Array.from({ length: 5 }, () => value(c.pick()));
  assert.deepEqual(
    rest.map((p) => [p.round, p.extra]),
    Array.from({ length: 5 }, () => [1, false]),
  );
  assert.equal(new Set([...rest, first, second].map((p) => p.email)).size, 7, "everyone once in round 1");
  const counts = Object.fromEntries(c.answerCounts().map((a) => [a.email, a.count]));
  assert.deepEqual([counts["ada@example.edu"], counts["mei@example.edu"]], [2, 2], "extra picks count as answers");
  assert.equal(
    c.answerCounts().reduce((n, a) => n + a.count, 0),
    9,
  );
  assert.equal(value(c.pick()).round, 2, "and the round ends when everyone has had their turn");
  c.close();
});

test("a pick among a group refuses, with what to do, when nobody in it is here or a name is unknown", async () => {
  const c = await newClass("among-refused");
  value(c.pick({ absent: ["ada@example.edu"] }));
  const away = c.pick({ among: ["ada@example.edu"] });
  assert.ok(!away.ok && /nobody in that group is here today.*whole class/.test(away.problems[0]?.message ?? ""));
  const unknown = c.pick({ among: ["Nobody Here"] });
  assert.ok(!unknown.ok && /nobody called "Nobody Here"/.test(unknown.problems[0]?.message ?? ""));
  assert.equal(c.picks().length, 1, "a refused pick writes nothing");
  c.close();
});

test("a class file of the first schema opens with its picks kept, and takes extra picks", async () => {
  const file = path.join(dir, "old-schema.sqlite");
  const db = new Database(file);
  db.exec(SCHEMA_1);
  db.prepare("INSERT INTO learners (email_key, email, name, joined_at) VALUES (?, ?, ?, ?)").run("a@x.edu", "a@x.edu", "A", "2024-09-01");
  db.prepare("INSERT INTO learners (email_key, email, name, joined_at) VALUES (?, ?, ?, ?)").run("b@x.edu", "b@x.edu", "B", "2024-09-01");
  db.prepare("INSERT INTO picks (learner_id, round, day, at) VALUES (1, 1, '2024-09-02', '2024-09-02T09:00:00.000Z')").run();
  db.pragma("application_id = 1380142156");
  db.pragma("user_version = 1");
  db.close();
  const c = value(await openClass("old-schema", { dir }));
  assert.deepEqual(
    c.picks().map((p) => [p.email, p.round, p.extra]),
    [["a@x.edu", 1, false]],
  );
  assert.deepEqual([value(c.pick({ among: ["a@x.edu"] })).extra, value(c.pick()).email], [true, "b@x.edu"]);
  c.close();
  const reopened = new Database(file, { readonly: true });
  assert.equal(reopened.pragma("user_version", { simple: true }), 2);
  reopened.close();
});
