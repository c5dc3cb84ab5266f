/**
 * Issue figures for the class file: how long a durable pick takes, and whether two
 * pickers at once lose or duplicate picks, for the two ways to keep a SQLite file:
 * - better-sqlite3: SQLite writes the file itself (rollback journal, synchronous=FULL,
 *   BEGIN IMMEDIATE), as src/engine/class-file.ts does;
 * - sql.js: the file loaded whole, changed in memory, saved atomically (temp, fsync, rename).
 * Both start from the same class: 30 learners and a term's history of 2,000 picks
 * (and sql.js once more after ten terms, since it writes the whole file each time).
 */
import Database from "better-sqlite3";
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import initSqlJs from "sql.js";
import { openClass } from "../src/engine/class-file.js";
import { formatProblem } from "../src/engine/problem.js";
import { parseRoster } from "../src/engine/roster-csv.js";
import { sqlJsPick, type ShownPick } from "./class-file-worker.mjs";

const run = promisify(execFile);
const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "class-file-worker.mjs");
const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

const LEARNERS = 30;
const HISTORY = 2000;

/** A class file of LEARNERS learners with `history` past picks, made by rollcall itself. */
async function termClass(dir: string, name: string, history: number): Promise<string> {
  const csv = ["name,email", ...Array.from({ length: LEARNERS }, (_, i) => `Learner ${i + 1},learner${i + 1}@example.edu`)].join("\n");
  const roster = parseRoster(csv, "bench.csv");
  const opened = await openClass(name, { dir, create: true });
  if (!roster.ok || !opened.ok) throw new Error("could not make the bench class");
  const imported = opened.value.importRoster(roster.value, "bench.csv");
  if (!imported.ok) throw new Error(imported.problems.map(formatProblem).join("\n"));
  opened.value.close();
  const file = path.join(dir, `${name}.sqlite`);
  const db = new Database(file);
  const insert = db.prepare("INSERT INTO picks (learner_id, round, day, at) VALUES (?, ?, '2024-09-02', '2024-09-02T09:00:00.000Z')");
  db.transaction(() => {
    for (let i = 0; i < history; i++) insert.run((i % LEARNERS) + 1, Math.floor(i / LEARNERS) + 1);
  })();
  db.close();
  return file;
}

async function concurrent(option: string, file: string): Promise<{ lost: number; duplicated: number }> {
  const picker = () => run(process.execPath, [worker, option, file, "50"]).then(({ stdout }) => stdout);
  const outputs = await Promise.all([picker(), picker()]);
  const shown: ShownPick[] = outputs.flatMap((out) =>
    out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ShownPick),
  );
  const db = new Database(file, { readonly: true });
  const kept = (db.prepare(`SELECT count(*) AS n FROM picks WHERE id > ${HISTORY}`).get() as { n: number }).n;
  db.close();
  const keys = shown.map((p) => `${p.round}/${p.learnerId}`);
  // Each process showed 50 picks; whatever the file does not keep was shown and lost.
  return { lost: shown.length - kept, duplicated: keys.length - new Set(keys).size };
}

export async function benchClassFile(picks = 100): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-class-"));
  try {
    const template = await termClass(dir, "term", HISTORY);
    const copy = async (name: string) => {
      const file = path.join(dir, `${name}.sqlite`);
      await copyFile(template, file);
      return file;
    };
    const sqlJsFile = await copy("sqljs");
    const opened = await openClass("better", { dir: path.dirname(await copy("better")) });
    if (!opened.ok) throw new Error(opened.problems.map(formatProblem).join("\n"));
    const classFile = opened.value;
    const SQL = await initSqlJs();
    const better: number[] = [];
    const sqlJs: number[] = [];
    for (let i = 0; i < picks; i++) {
      // Interleaved, so that the machine's noise hits both alike.
      let started = performance.now();
      if (!classFile.pick().ok) throw new Error("a better-sqlite3 pick failed");
      better.push(performance.now() - started);
      started = performance.now();
      sqlJsPick(SQL, sqlJsFile);
      sqlJs.push(performance.now() - started);
    }
    classFile.close();
    // sql.js writes the whole file for every pick: the same, after ten terms of history.
    const longFile = await termClass(dir, "ten-terms", HISTORY * 10);
    const sqlJsLong: number[] = [];
    for (let i = 0; i < picks / 2; i++) {
      const started = performance.now();
      sqlJsPick(SQL, longFile);
      sqlJsLong.push(performance.now() - started);
    }
    const betterTogether = await concurrent("better-sqlite3", await copy("better-concurrent"));
    const sqlJsTogether = await concurrent("sql.js", await copy("sqljs-concurrent"));
    return {
      "better-sqlite3 pick p50 (ms)": quantile(better, 0.5),
      "better-sqlite3 pick p95 (ms)": quantile(better, 0.95),
      "sql.js atomic-save pick p50 (ms)": quantile(sqlJs, 0.5),
      "sql.js atomic-save pick p95 (ms)": quantile(sqlJs, 0.95),
      "sql.js/better-sqlite3 pick p50 ratio": quantile(sqlJs, 0.5) / quantile(better, 0.5),
      "sql.js atomic-save pick p50 after ten terms (ms)": quantile(sqlJsLong, 0.5),
      "better-sqlite3 two pickers x50: shown picks lost": betterTogether.lost,
      "better-sqlite3 two pickers x50: duplicated in a round": betterTogether.duplicated,
      "sql.js two pickers x50: shown picks lost": sqlJsTogether.lost,
      "sql.js two pickers x50: duplicated in a round": sqlJsTogether.duplicated,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
