/**
 * One picker process for bench/class-file.mts: `node class-file-worker.mjs OPTION FILE TIMES`
 * picks TIMES times and prints each pick it showed as a JSON line. OPTION is
 * `better-sqlite3` (the class file as rollcall keeps it) or `sql.js` (the same
 * file loaded whole, changed in memory, and saved atomically: temp file, fsync, rename).
 */
import { randomInt } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import initSqlJs, { type SqlJsStatic } from "sql.js";
import { openClass } from "../src/engine/class-file.js";
import { localDay } from "../src/engine/class-file.js";
import { drawNext } from "../src/engine/roll-call.js";

export interface ShownPick {
  readonly id: number;
  readonly learnerId: number;
  readonly round: number;
}

const int = (min: number, max: number) => randomInt(min, max + 1);

/** A pick the sql.js way: the whole file in, one INSERT, the whole file out, renamed into place. */
export function sqlJsPick(SQL: SqlJsStatic, file: string): ShownPick {
  const db = new SQL.Database(readFileSync(file));
  try {
    const rows = (sql: string) => db.exec(sql)[0]?.values ?? [];
    const learners = rows("SELECT id, left_at IS NULL FROM learners").map(([id, on]) => ({ id: Number(id), onRoster: on === 1 }));
    const picks = rows(
      "SELECT learner_id, round FROM picks WHERE undone_at IS NULL AND round = (SELECT max(round) FROM picks WHERE undone_at IS NULL)",
    ).map(([learnerId, round]) => ({ learnerId: Number(learnerId), round: Number(round) }));
    const draw = drawNext(learners, picks, new Set(), int);
    if (draw.kind !== "picked") throw new Error(draw.kind);
    const at = new Date();
    db.run("INSERT INTO picks (learner_id, round, day, at) VALUES (?, ?, ?, ?)", [
      draw.learnerId,
      draw.round,
      localDay(at),
      at.toISOString(),
    ]);
    const id = Number(rows("SELECT last_insert_rowid()")[0]?.[0]);
    saveAtomically(file, db.export());
    return { id, learnerId: draw.learnerId, round: draw.round };
  } finally {
    db.close();
  }
}

function saveAtomically(file: string, bytes: Uint8Array): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  const dir = openSync(path.dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

async function main(): Promise<void> {
  const [option, file, times] = process.argv.slice(2);
  if (file === undefined || times === undefined) throw new Error("usage: class-file-worker OPTION FILE TIMES");
  if (option === "sql.js") {
    const SQL = await initSqlJs();
    for (let i = 0; i < Number(times); i++) console.log(JSON.stringify(sqlJsPick(SQL, file)));
    return;
  }
  const opened = await openClass(path.basename(file, ".sqlite"), { dir: path.dirname(file) });
  if (!opened.ok) throw new Error(JSON.stringify(opened.problems));
  const classFile = opened.value;
  const learnerIds = new Map<string, number>();
  classFile.learners().forEach((l, i) => learnerIds.set(l.email, i + 1)); // ids follow roster order
  for (let i = 0; i < Number(times); i++) {
    const picked = classFile.pick();
    if (!picked.ok) throw new Error(JSON.stringify(picked.problems));
    console.log(JSON.stringify({ id: picked.value.id, learnerId: learnerIds.get(picked.value.email), round: picked.value.round }));
  }
  classFile.close();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
