/**
 * A class and its roll call, kept on disk: one SQLite file per class
 * (`classes/NAME.sqlite`), written by SQLite itself through better-sqlite3.
 *
 * Durable by construction: each pick, undo and import is one `BEGIN IMMEDIATE`
 * transaction, committed with `synchronous = FULL` in rollback-journal mode before it
 * is returned, so what is shown is on disk, a killed process leaves a hot journal
 * that the next opener rolls back, and two pickers on one file take turns (the
 * second waits on the write lock, then sees the first one's pick). The rules of
 * who comes next are pure, in roll-call.ts.
 */
import Database from "better-sqlite3";
import { randomInt } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "./paths";
import { failed, ok, type Problem, type Result } from "./problem";
import { countAnswers, drawAmong, drawNext, type AnswerCount, type RandomInt } from "./roll-call";
import { emailKey, type RosterEntry } from "./roster-csv";

export { chartCounts, type AnswerCount } from "./roll-call";

/** One learner of the class, as the roster gave them. */
export interface Learner {
  readonly name: string;
  readonly email: string;
  readonly cohort?: string;
  /** True when the learner was missing from the latest roster import: kept, with their picks, but never picked again. */
  readonly left: boolean;
}

/** A pick, as shown to the class. It is on disk before this value exists. */
export interface Picked {
  readonly name: string;
  readonly email: string;
  readonly cohort?: string;
  /** When it was picked, ISO 8601 in UTC. */
  readonly at: string;
  /** The class's local day (YYYY-MM-DD) the pick counts for. */
  readonly day: string;
  /** Which round of the term: nobody is picked twice in one round. */
  readonly round: number;
  /**
   * An extra pick: from a group (stuck, done) whose members had all answered this round.
   * It counts as an answer but is not the learner's turn in the round (see drawAmong).
   */
  readonly extra: boolean;
  /** The pick's row in the file, increasing. */
  readonly id: number;
}

/** What an import changed. A learner missing from the new roster is kept, marked as left, with all their picks. */
export interface ImportSummary {
  readonly added: number;
  /** Name or cohort changed (the email is who a learner is). */
  readonly updated: number;
  readonly unchanged: number;
  /** On the roster before, missing now: marked as left. */
  readonly left: number;
  /** Marked as left before, back on the roster now. */
  readonly returned: number;
}

export interface ClassOptions {
  /** The folder of class files; default `classesDir()`. */
  readonly dir?: string;
  /** Make the class file when there is none (import does; pick never does). */
  readonly create?: boolean;
  /** The clock (tests pass their own days). */
  readonly now?: () => Date;
  /** A whole number from min to max, both included; default crypto's `randomInt`, so no seed exists to compute. */
  readonly int?: RandomInt;
}

export interface PickOptions {
  readonly absent?: readonly string[];
  readonly among?: readonly string[];
}

export interface ClassFile {
  readonly name: string;
  readonly file: string;
  /**
   * The next learner; `absent` (names or emails) are recorded as away today, and stay away
   * for the rest of the day. `among` (names or emails) picks from that group only, say
   * those stuck on an exercise, without marking anyone else absent (see drawAmong).
   */
  pick(options?: PickOptions): Result<Picked>;
  /** Takes back the latest pick (it stays in the file, marked undone, and no longer counts). */
  undo(): Result<Picked>;
  /** Everyone on the roster (left ones included) with how often they answered, in roster order. */
  answerCounts(): readonly AnswerCount[];
  learners(): readonly Learner[];
  /** Every pick that counts, oldest first. */
  picks(): readonly Picked[];
  /** Adds the new learners, updates the known ones by email, marks the missing ones as left; all or nothing. */
  importRoster(entries: readonly RosterEntry[], file: string): Result<ImportSummary>;
  close(): void;
}

/** `$ROLLCALL_CLASSES`, or `classes/` in the project. */
export function classesDir(): string {
  const fromEnv = process.env["ROLLCALL_CLASSES"];
  return fromEnv !== undefined && fromEnv !== "" ? fromUserFolder(fromEnv) : path.join(projectRoot, "classes");
}

/** A path the user typed, from the folder they typed it in: `npm run` moves to the project, and says where it came from in INIT_CWD. */
export function fromUserFolder(typed: string): string {
  return path.resolve(process.env["INIT_CWD"] ?? process.cwd(), typed);
}

/** The classes in a folder: the names of its `*.sqlite` files, sorted. */
export function listClasses(dir: string = classesDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix) && validName.test(f.slice(0, -suffix.length)))
    .map((f) => f.slice(0, -suffix.length))
    .sort();
}

const suffix = ".sqlite";
/** A class name is a file name: no folders, no dot first. */
const validName = /^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u;
/** Why `name` cannot be a class's (it would name a folder outside the classes' folder, say), or undefined. */
export function classNameProblem(name: string): Problem | undefined {
  if (validName.test(name)) return undefined;
  return { message: `"${name}" is not a class name: use letters, digits, ".", "_" and "-", like period-3` };
}
/** 'RCLL' in the header's application_id, so a class file says what it is. */
const applicationId = 0x52434c4c;
/** The first schema, as rollcall 0.1 wrote it; never changed, a later schema is a migration below. */
export const SCHEMA_1 = `
CREATE TABLE learners (
  id INTEGER PRIMARY KEY,
  email_key TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  cohort TEXT,
  joined_at TEXT NOT NULL,
  left_at TEXT
) STRICT;
CREATE TABLE picks (
  id INTEGER PRIMARY KEY,
  learner_id INTEGER NOT NULL REFERENCES learners(id),
  round INTEGER NOT NULL CHECK (round >= 1),
  day TEXT NOT NULL,
  at TEXT NOT NULL,
  undone_at TEXT
) STRICT;
CREATE UNIQUE INDEX picks_once_a_round ON picks (round, learner_id) WHERE undone_at IS NULL;
CREATE TABLE absences (
  learner_id INTEGER NOT NULL REFERENCES learners(id),
  day TEXT NOT NULL,
  PRIMARY KEY (learner_id, day)
) STRICT;
CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  file TEXT NOT NULL,
  added INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  left INTEGER NOT NULL,
  returned INTEGER NOT NULL
) STRICT;
`;

/** Each later schema as the change from the one before: migrations[0] makes schema 2, and so on. */
const migrations: readonly string[] = [
  // 2: extra picks (a group's pick outside the rounds), which the once-a-round rule leaves out.
  `ALTER TABLE picks ADD COLUMN extra INTEGER NOT NULL DEFAULT 0 CHECK (extra IN (0, 1));
   DROP INDEX picks_once_a_round;
   CREATE UNIQUE INDEX picks_once_a_round ON picks (round, learner_id) WHERE undone_at IS NULL AND extra = 0;`,
];
const schemaVersion = 1 + migrations.length;

/**
 * Opens a class file: every problem a user can cause (an unknown class, a file that is
 * not a class file, a busy or damaged file) is a `Problem`, and a file that is not a
 * class file is left untouched.
 * @example
 * const opened = await openClass("period-3");
 * if (opened.ok) console.log(opened.value.pick());
 */
export async function openClass(name: string, options: ClassOptions = {}): Promise<Result<ClassFile>> {
  const dir = options.dir ?? classesDir();
  const badName = classNameProblem(name);
  if (badName) return failed([badName]);
  const file = path.join(dir, name + suffix);
  if (!existsSync(file)) {
    if (options.create !== true) return failed([unknownClass(name, dir)]);
    // Learners' names and emails: readable by the instructor alone (SQLite gives its journal the file's mode).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(file, "wx", 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error; // another picker made it first: theirs is as good
    }
  }
  return sqlite(file, () => {
    const db = new Database(file, { timeout: 10_000 });
    let problem: Problem | undefined;
    try {
      problem = prepare(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
    if (problem !== undefined) {
      db.close();
      return failed([problem]);
    }
    return ok(classFile(db, name, file, options.now ?? (() => new Date()), options.int ?? ((min, max) => randomInt(min, max + 1))));
  });
}

function unknownClass(name: string, dir: string): Problem {
  const classes = listClasses(dir);
  const there = classes.length === 0 ? `there are no classes in ${dir} yet` : `the classes in ${dir} are: ${classes.join(", ")}`;
  return { message: `no class "${name}": ${there}. Make one with npm run class -- import ${name} roster.csv` };
}

/** Checks the file is a class file (or a new, empty one, which it makes a class file) without writing to anything else. */
function prepare(db: Database.Database, file: string): Problem | undefined {
  const id = db.pragma("application_id", { simple: true }) as number;
  if (id !== applicationId) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
    if (tables.n > 0 || id !== 0) {
      return { file, message: "is a SQLite file but not a rollcall class file; it was left as it is. Give the class another name" };
    }
  }
  // Rollback journal, synced on commit: one file at rest, and a commit is on the disk when it returns. EXTRA also
  // syncs the folder once the journal is deleted, without which a power cut could bring the journal back and undo a pick.
  db.pragma("journal_mode = DELETE");
  db.pragma("synchronous = EXTRA");
  db.pragma("foreign_keys = ON");
  if (id === applicationId) {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > schemaVersion) return { file, message: `was written by a newer rollcall (schema ${version}); update rollcall to use it` };
    if (version < schemaVersion) migrate(db);
    return undefined;
  }
  db.transaction(() => {
    // Another process may have made it between our check and our lock: only the first one does.
    if ((db.pragma("application_id", { simple: true }) as number) === applicationId) return;
    db.exec(SCHEMA_1);
    for (const migration of migrations) db.exec(migration);
    db.pragma(`application_id = ${applicationId}`);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
  return undefined;
}

/** Brings a class file of an earlier schema up to this one, in one transaction; its picks are kept as they were. */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number; // another opener may have migrated it first
    for (const migration of migrations.slice(version - 1)) db.exec(migration);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
}

interface LearnerRow {
  id: number;
  email: string;
  name: string;
  cohort: string | null;
  left_at: string | null;
}

interface PickRow {
  id: number;
  learner_id: number;
  round: number;
  day: string;
  at: string;
  extra: number;
  name: string;
  email: string;
  cohort: string | null;
}

/** Thrown inside a transaction to roll it back with a user's problem. */
class Refused extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super("refused");
  }
}

function classFile(db: Database.Database, name: string, file: string, now: () => Date, int: RandomInt): ClassFile {
  const selectLearners = db.prepare<[], LearnerRow>("SELECT id, email, name, cohort, left_at FROM learners ORDER BY id");
  const pickColumns = "p.id, p.learner_id, p.round, p.day, p.at, p.extra, l.name, l.email, l.cohort";
  const selectPicks = db.prepare<[], PickRow>(
    `SELECT ${pickColumns} FROM picks p JOIN learners l ON l.id = p.learner_id WHERE p.undone_at IS NULL ORDER BY p.id`,
  );
  const selectPick = db.prepare<[number], PickRow>(
    `SELECT ${pickColumns} FROM picks p JOIN learners l ON l.id = p.learner_id WHERE p.id = ?`,
  );
  const lastPick = db.prepare<[], { id: number }>("SELECT id FROM picks WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1");
  const roundPicks = db.prepare<[], { learnerId: number; round: number }>(
    `SELECT learner_id AS learnerId, round FROM picks
     WHERE undone_at IS NULL AND extra = 0 AND round = (SELECT max(round) FROM picks WHERE undone_at IS NULL AND extra = 0)`,
  );
  const absentOn = db.prepare<[string], { learner_id: number }>("SELECT learner_id FROM absences WHERE day = ?");
  const insertAbsence = db.prepare("INSERT OR IGNORE INTO absences (learner_id, day) VALUES (?, ?)");
  const insertPick = db.prepare("INSERT INTO picks (learner_id, round, day, at, extra) VALUES (?, ?, ?, ?, ?)");
  const markUndone = db.prepare("UPDATE picks SET undone_at = ? WHERE id = ?");
  const where = `class ${name}`;

  const pickTransaction = db.transaction((options: PickOptions): Picked => {
    const at = now();
    const day = localDay(at);
    const learners = selectLearners.all();
    const onRoster = learners.filter((l) => l.left_at === null);
    const absentIds = resolveNames(options.absent ?? [], onRoster, where);
    for (const id of absentIds) insertAbsence.run(id, day);
    const away = new Set(absentOn.all(day).map((r) => r.learner_id));
    const rollCall = learners.map((l) => ({ id: l.id, onRoster: l.left_at === null }));
    if (options.among !== undefined) {
      const group = new Set(resolveNames(options.among, onRoster, where));
      const draw = drawAmong(
        rollCall,
        roundPicks.all(),
        selectPicks.all().map((p) => ({ learnerId: p.learner_id })),
        away,
        group,
        int,
      );
      if (draw.kind === "nobody in the group")
        throw new Refused([{ file, message: `nobody in that group is here today (${day}): pick from the whole class instead` }]);
      const info = insertPick.run(draw.learnerId, draw.round, day, at.toISOString(), draw.extra ? 1 : 0);
      return picked(selectPick.get(Number(info.lastInsertRowid)) as PickRow);
    }
    const draw = drawNext(rollCall, roundPicks.all(), away, int);
    if (draw.kind === "no learners") {
      throw new Refused([
        { file, message: `${where} has no learners on its roster: import one with npm run class -- import ${name} roster.csv` },
      ]);
    }
    if (draw.kind === "everyone absent") {
      throw new Refused([{ file, message: `everyone in ${where} is marked absent today (${day}): nobody to pick` }]);
    }
    const info = insertPick.run(draw.learnerId, draw.round, day, at.toISOString(), 0);
    return picked(selectPick.get(Number(info.lastInsertRowid)) as PickRow);
  });

  const undoTransaction = db.transaction((): Picked => {
    const last = lastPick.get();
    if (last === undefined) throw new Refused([{ file, message: `${where} has no pick to undo` }]);
    markUndone.run(now().toISOString(), last.id);
    return picked(selectPick.get(last.id) as PickRow);
  });

  const importTransaction = db.transaction((entries: readonly RosterEntry[], source: string): ImportSummary => {
    const at = now().toISOString();
    const known = new Map(selectLearners.all().map((l) => [emailKey(l.email), l]));
    const inFile = new Set<string>();
    const counts = { added: 0, updated: 0, unchanged: 0, left: 0, returned: 0 };
    const insert = db.prepare("INSERT INTO learners (email_key, email, name, cohort, joined_at) VALUES (?, ?, ?, ?, ?)");
    const update = db.prepare("UPDATE learners SET email = ?, name = ?, cohort = ?, left_at = NULL WHERE id = ?");
    const leave = db.prepare("UPDATE learners SET left_at = ? WHERE id = ?");
    for (const entry of entries) {
      const key = emailKey(entry.email);
      inFile.add(key);
      const cohort = entry.cohort ?? null;
      const before = known.get(key);
      if (before === undefined) {
        insert.run(key, entry.email, entry.name, cohort, at);
        counts.added++;
        continue;
      }
      if (before.left_at !== null) counts.returned++;
      else if (before.name !== entry.name || before.cohort !== cohort || before.email !== entry.email) counts.updated++;
      else counts.unchanged++;
      update.run(entry.email, entry.name, cohort, before.id);
    }
    for (const [key, l] of known) {
      if (!inFile.has(key) && l.left_at === null) {
        leave.run(at, l.id);
        counts.left++;
      }
    }
    db.prepare("INSERT INTO imports (at, file, added, updated, left, returned) VALUES (?, ?, ?, ?, ?, ?)").run(
      at,
      source,
      counts.added,
      counts.updated,
      counts.left,
      counts.returned,
    );
    return counts;
  });

  const guarded = <T>(work: () => T): Result<T> =>
    sqlite(file, () => {
      try {
        return ok(work());
      } catch (error) {
        if (error instanceof Refused) return failed(error.problems);
        throw error;
      }
    });

  return {
    name,
    file,
    pick: (options = {}) => guarded(() => pickTransaction.immediate(options)),
    undo: () => guarded(() => undoTransaction.immediate()),
    answerCounts: () => {
      const learners = selectLearners.all();
      return countAnswers(
        learners.map((l) => ({ id: l.id, name: l.name, email: l.email, onRoster: l.left_at === null })),
        selectPicks.all().map((p) => ({ learnerId: p.learner_id })),
      );
    },
    learners: () =>
      selectLearners
        .all()
        .map((l) => ({ name: l.name, email: l.email, ...(l.cohort !== null ? { cohort: l.cohort } : {}), left: l.left_at !== null })),
    picks: () => selectPicks.all().map(picked),
    importRoster: (entries, source) => guarded(() => importTransaction.immediate(entries, source)),
    close: () => db.close(),
  };
}

function picked(row: PickRow): Picked {
  return {
    name: row.name,
    email: row.email,
    ...(row.cohort !== null ? { cohort: row.cohort } : {}),
    at: row.at,
    day: row.day,
    round: row.round,
    extra: row.extra === 1,
    id: row.id,
  };
}

/** The learners named (by name or email, any case) among those on the roster; an unknown or shared name is a problem. */
function resolveNames(names: readonly string[], learners: readonly LearnerRow[], where: string): number[] {
  const fold = (s: string) => s.trim().normalize("NFC").toLocaleLowerCase();
  const problems: Problem[] = [];
  const ids: number[] = [];
  for (const given of names) {
    const byEmail = learners.filter((l) => emailKey(l.email) === emailKey(given));
    const matches = byEmail.length > 0 ? byEmail : learners.filter((l) => fold(l.name) === fold(given));
    const [only] = matches;
    if (matches.length === 1 && only !== undefined) ids.push(only.id);
    else if (matches.length > 1)
      problems.push({ message: `more than one learner in ${where} is called "${given}": give their email instead` });
    else problems.push({ message: `nobody called "${given}" is on the roster of ${where}: give a name or an email as the roster has it` });
  }
  if (problems.length > 0) throw new Refused(problems);
  return ids;
}

/** The local calendar day of a moment, as YYYY-MM-DD: "today" is the classroom's day, not UTC's. */
export function localDay(at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
}

/** SQLite's errors a user can cause (a file that is not a database, damaged, busy, read-only) as problems; anything else is a bug. */
function sqlite<T>(file: string, work: () => Result<T>): Result<T> {
  try {
    return work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const says: Record<string, string> = {
      SQLITE_NOTADB: "is not a SQLite file, so not a class file; it was left as it is. Give the class another name",
      SQLITE_CORRUPT: "is damaged (SQLite says it is corrupt); restore it from a backup",
      SQLITE_BUSY: "is busy: another program holds it locked for more than 10 seconds; close it and try again",
      SQLITE_READONLY: "is read-only here; give yourself write permission on it and its folder",
      SQLITE_CANTOPEN: "cannot be opened; check the folder exists and you may write in it",
    };
    const message = typeof code === "string" ? (says[code] ?? says[code.replace(/_[A-Z]+$/u, "")]) : undefined;
    if (message === undefined) throw error;
    return failed([{ file, message }]);
  }
}
