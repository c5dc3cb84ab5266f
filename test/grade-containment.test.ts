/**
 * The grader against hostile submissions: each case is one learner whose notebook
 * answers every exercise correctly except for one hostile cell. All of them (and
 * a few malformed files) are graded in one run of the real CLI, on the real
 * tslab kernel; then each case is checked: it ended as a result, the hostile
 * exercise did not pass, the learner's other exercises kept their points, and
 * nothing outside the grader's scratch folder was read, written, spawned or
 * connected to. A second run puts learners one after another in a single worker,
 * to check that what one leaves behind does not reach the next.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { buildLesson } from "../src/engine/build.js";
import { parseLesson } from "../src/engine/lesson.js";
import { lessonsDir, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { exercisePoints, type LearnerResults, type TestOutcome } from "../src/engine/results.js";
import type { RawCell, RawNotebook } from "./support/notebooks.js";
import { cannotRunAsOwnUid, gradingRoot } from "../src/engine/grade-pool.js";
import { passwdEntries } from "../src/engine/unix-accounts.js";

const passwdUids = (): Set<number> => new Set(passwdEntries().map((e) => e.uid));

const run = promisify(execFile);
const GRADE = path.join(projectRoot, "dist", "scripts", "grade.mjs");
const LESSON = "01-arrays";
const POINTS: Readonly<Record<string, number>> = { "last-student": 2, enroll: 2, "starting-with": 2, "cohort-emails": 3, withdraw: 2 };
const MAX_SCORE = 11;
/** One grader run for every case; a hang fails the suite instead of stalling it. */
const LIMIT = { timeout: 240_000 };

const WRONG_LAST = "function lastStudent(names: string[]): string {\n  return names[names.length];\n}\n";

let tmp = "";
let subs = "";
let out = "";
let pwned = "";
let server: Server;
let port = 0;
let connections = 0;
let correct: Record<string, string> = {};
let learnerNotebook: RawNotebook;
let gradeRun: { stdout: string; stderr: string; seconds: number };
const results = new Map<string, LearnerResults>();
const reuseResults = new Map<string, LearnerResults>();
let reuseOut = "";

// ---------------------------------------------------------------------------
// Building submissions

/** The learner's notebook with every answer cell holding the lesson's own solution. */
function solved(): RawNotebook {
  const notebook = structuredClone(learnerNotebook);
  for (const cell of notebook.cells) {
    const exercise = cell.metadata.rollcall?.role === "answer" ? cell.metadata.rollcall.exercise : undefined;
    if (exercise) cell.source = correct[exercise] ?? assert.fail(`no solution for ${exercise}`);
  }
  return notebook;
}

const indexOfCell = (notebook: RawNotebook, id: string): number => {
  const index = notebook.cells.findIndex((c) => c.id === id);
  assert.ok(index >= 0, `no cell ${id}`);
  return index;
};

/** A correct notebook with the answer to `exercise` replaced. */
function answering(exercise: string, source: string, notebook = solved()): RawNotebook {
  notebook.cells[indexOfCell(notebook, exercise)]!.source = source;
  return notebook;
}

const codeCell = (id: string, source: string): RawCell => ({
  cell_type: "code",
  id,
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
});

/** Adds a learner's own cell after the cell `afterId` ("end" for the last). */
function adding(source: string, afterId: string, notebook = solved()): RawNotebook {
  const at = afterId === "end" ? notebook.cells.length : indexOfCell(notebook, afterId) + 1;
  notebook.cells.splice(at, 0, codeCell(`added-${notebook.cells.length}`, source));
  return notebook;
}

/** `lastStudent` with the given body, after any top-level code. */
const lastStudent = (body: string, topLevel = ""): string => `${topLevel}\nfunction lastStudent(names: string[]): string {\n${body}\n}\n`;

/**
 * Learner code that tries each thing and prints one short line per try: "what=ok"
 * when it ran, "what=CODE" (or the message's start) when it was refused.
 */
const TRY = [
  "const tries: string[] = [];",
  "function attempt(what: string, fn: () => unknown): boolean {",
  "  try { fn(); tries.push(`${what}=ok`); return true; }",
  "  catch (e) { const err = e as { code?: string; message?: string }; tries.push(`${what}=${err?.code ?? String(err?.message ?? e).slice(0, 40)}`); return false; }",
  "}",
].join("\n");

const FAKE_REPORT = JSON.stringify({
  exercise: "last-student",
  status: "pass",
  score: 2,
  maxScore: 2,
  hints: [],
  tests: [{ name: "the last of Ada, Grace, Alan", status: "pass", message: "", points: 2, maxPoints: 2 }],
});

/** Every case: learner name → notebook file contents. */
function cases(): Record<string, string | Uint8Array> {
  const json = (notebook: RawNotebook): string => `${JSON.stringify(notebook, null, 1)}\n`;
  const root = JSON.stringify(projectRoot);
  const inTmp = (name: string): string => JSON.stringify(path.join(tmp, name));

  const all: Record<string, RawNotebook | string | Uint8Array> = {
    correct: solved(),

    "infinite-loop": answering("last-student", lastStudent("  while (true) {}")),

    "async-hang": adding("await new Promise(() => {});", "end"),

    exit: answering("last-student", lastStudent("  process.exit(0);")),

    "kill-grader": answering(
      "last-student",
      lastStudent(
        [
          '  attempt("term", () => process.kill(process.ppid, "SIGTERM"));',
          '  attempt("kill", () => process.kill(process.ppid, "SIGKILL"));',
          '  attempt("raw", () => { const errno = (process as any)._kill(process.ppid, 9); if (errno !== 0) throw new Error(`errno ${errno}`); });',
          '  console.log(tries.join(" "));',
          "  return names[names.length];",
        ].join("\n"),
        TRY,
      ),
    ),

    "kill-self": answering("last-student", lastStudent('  process.kill(process.pid, "SIGKILL");\n  return "";')),

    memory: answering(
      "last-student",
      lastStudent(["  const hog: number[][] = [];", "  while (true) hog.push(new Array(1 << 20).fill(hog.length));"].join("\n")),
    ),

    flood: answering(
      "last-student",
      lastStudent(
        [
          '  const line = "flood ".repeat(1000);',
          "  for (let i = 0; i < 1700; i++) console.log(line); // about 10 MB",
          '  process.stdout.write("w".repeat(1_000_000));',
          '  console.error("e".repeat(1_000_000));',
          '  try { require("fs").writeSync(1, "z".repeat(1_000_000)); } catch {}',
          "  return names[names.length];",
        ].join("\n"),
      ),
    ),

    // A fake passing report, as a display and as printed JSON, from the learner's own cells and from the answer while it is checked.
    "fake-output": adding(
      [
        `const fake = ${FAKE_REPORT};`,
        'require("tslab").display.text("✓ last-student: all 3 checks pass (2/2 points)");',
        'require("tslab").display.raw("application/vnd.rollcall.check+json", JSON.stringify(fake));',
        'console.log(JSON.stringify({ "application/vnd.rollcall.check+json": fake }));',
      ].join("\n"),
      "last-student",
      adding(
        `console.log(JSON.stringify(${FAKE_REPORT}));`,
        "end",
        answering(
          "last-student",
          lastStudent(
            [
              `  require("tslab").display.raw("application/vnd.rollcall.check+json", JSON.stringify(${FAKE_REPORT}));`,
              `  console.log(JSON.stringify({ "application/vnd.rollcall.check+json": ${FAKE_REPORT} }));`,
              "  return names[names.length];",
            ].join("\n"),
          ),
        ),
      ),
    ),

    // The learner's own passing check, at the top of the answer cell and queued to run right after the lesson's check.
    "own-check": answering(
      "last-student",
      lastStudent(
        [
          '  queueMicrotask(() => check("last-student", (t) => t.ok("x", () => true), { hints: ["h"] }));',
          "  return names[names.length];",
        ].join("\n"),
        'check("last-student", (t) => t.ok("x", () => true), { hints: ["h"] });',
      ),
    ),

    "own-check-nested": answering(
      "last-student",
      lastStudent(['  check("last-student", (t) => t.ok("x", () => true), { hints: ["h"] });', "  return names[names.length];"].join("\n")),
    ),

    // Patch what the checks rely on, and shadow the helpers' names, before any check runs.
    "patch-globals": answering(
      "last-student",
      WRONG_LAST,
      adding(
        [
          TRY,
          'attempt("includes", () => { (Array.prototype as any).includes = () => true; });',
          'attempt("filter", () => Object.defineProperty(Array.prototype, "filter", { value: () => [] }));',
          'attempt("toJSON", () => { (Object.prototype as any).toJSON = function () { return { status: "pass" }; }; });',
          'attempt("stringify", () => { (JSON as any).stringify = () => "{}"; });',
          'attempt("isDeepStrictEqual", () => { (require("util") as any).isDeepStrictEqual = () => true; });',
          'attempt("node:util", () => { (require("node:util") as any).isDeepStrictEqual = () => true; });',
          'attempt("assert", () => { (require("assert") as any).deepStrictEqual = () => undefined; });',
          'attempt("rollcall.check", () => { (require("rollcall") as any).check = () => undefined; });',
          'attempt("rollcall.roster", () => { (require("rollcall") as any).roster.push("x"); });',
          'attempt("toLowerCase", () => { (String.prototype as any).toLowerCase = () => ""; });',
          'attempt("sort", () => { (Array.prototype as any).sort = function () { return this; }; });',
          'console.log(tries.join(" "));',
          "function check(..._args: any[]): void {}",
          'const roster = ["x"];',
          "const students: any[] = [];",
        ].join("\n"),
        "code-1",
      ),
    ),

    // Read the lesson's solutions and hidden tests, another learner's notebook and the results; pass only if a read worked.
    "read-secrets": answering(
      "last-student",
      lastStudent(
        ['  console.log(tries.join(" "));', '  return leaked || promised === "ok" ? names[names.length - 1] : names[names.length];'].join(
          "\n",
        ),
        [
          TRY,
          'const fs = require("fs");',
          `const root = ${root};`,
          "const leaked = [",
          '  attempt("lesson", () => fs.readFileSync(root + "/lessons/01-arrays.md", "utf8")),',
          '  attempt("tests", () => fs.readdirSync(root + "/lessons")),', // the lessons hold the hidden tests
          '  attempt("instructor", () => fs.readFileSync(root + "/build/instructor/01-arrays.ipynb", "utf8")),',
          '  attempt("test-code", () => fs.readFileSync(root + "/dist/test/grade-containment.test.js", "utf8")),',
          `  attempt("other", () => fs.readFileSync(${inTmp("subs/correct.ipynb")}, "utf8")),`,
          `  attempt("subs", () => fs.readdirSync(${inTmp("subs")})),`,
          `  attempt("results", () => fs.readdirSync(${inTmp("out/results")})),`,
          `  attempt("scratch", () => fs.readdirSync(${JSON.stringify(gradingRoot)})),`,
          '  attempt("open", () => fs.openSync(root + "/lessons/01-arrays.md", "r")),',
          '  attempt("main-fs", () => (process as any).mainModule.require("fs").readFileSync(root + "/lessons/01-arrays.md")),',
          '  attempt("passwd", () => fs.readFileSync("/etc/passwd", "utf8")),',
          "].some(Boolean);",
          'const promised: string = await fs.promises.readFile(root + "/lessons/01-arrays.md", "utf8").then(() => "ok", (e: any) => e.code);',
          "tries.push(`promises=${promised}`);",
        ].join("\n"),
      ),
    ),

    // Write into the project, the submissions, another learner's result and /tmp, at the top level and while being checked.
    "write-outside": answering(
      "last-student",
      lastStudent(
        [
          `  try { require("fs").writeFileSync(${inTmp("out/results/correct.json")}, "{}"); } catch {}`,
          '  console.log(tries.join(" "));',
          "  return names[names.length];",
        ].join("\n"),
        [
          TRY,
          'const fs = require("fs");',
          `attempt("project", () => fs.writeFileSync(${root} + "/pwned.txt", "x"));`,
          `attempt("results", () => fs.writeFileSync(${inTmp("out/results/pwned.json")}, "{}"));`,
          `attempt("other", () => fs.writeFileSync(${inTmp("out/results/correct.json")}, "{}"));`,
          `attempt("subs", () => fs.writeFileSync(${inTmp("subs/pwned.ipynb")}, "{}"));`,
          `attempt("tmp", () => fs.writeFileSync(${inTmp("pwned.txt")}, "x"));`,
          `attempt("mkdir", () => fs.mkdirSync(${inTmp("pwned-dir")}));`,
          `attempt("append", () => fs.appendFileSync(${root} + "/package.json", " "));`,
          `attempt("dist", () => fs.writeFileSync(${root} + "/dist/src/index.js", "x"));`,
          `attempt("rename", () => fs.renameSync(${root} + "/package.json", ${root} + "/pwned.json"));`,
          `attempt("symlink", () => fs.symlinkSync(${root} + "/lessons", "./lessons-link"));`,
        ].join("\n"),
      ),
    ),

    // Start a process: the refused modules, the raw binding, a worker thread, and Node's own require through process.mainModule.
    processes: answering(
      "last-student",
      lastStudent(
        '  console.log(tries.join(" "));\n  return names[names.length];',
        [
          TRY,
          `const marker = ${inTmp("spawned")};`,
          'attempt("child_process", () => require("child_process").execSync(`touch ${marker}-1`));',
          'attempt("spawn_sync", () => (process as any).binding("spawn_sync").spawn({ file: "/bin/sh", args: ["/bin/sh", "-c", `touch ${marker}-2`], envPairs: [], stdio: [{ type: "ignore" }, { type: "ignore" }, { type: "ignore" }] }));',
          'attempt("worker", () => new (require("worker_threads").Worker)(`require("fs").writeFileSync(${JSON.stringify(marker + "-3")}, "x")`, { eval: true }));',
          'attempt("main-cp", () => (process as any).mainModule.require("child_process").execSync(`touch ${marker}-4`));',
          'attempt("main-worker", () => new ((process as any).mainModule.require("worker_threads").Worker)(`require("fs").writeFileSync(${JSON.stringify(marker + "-5")}, "x")`, { eval: true }));',
          `attempt("dlopen", () => (process as any).dlopen({ exports: {} }, ${root} + "/node_modules/zeromq/build/linux/x64/node/glibc-115-Release/addon.node"));`,
        ].join("\n"),
      ),
    ),

    // Who the code runs as: graded as root, it must be nobody's uid, not root's; and it must not be
    // able to open its scratch folder to the machine's other users (who could then plant or take files there).
    whoami: answering(
      "last-student",
      lastStudent(
        [
          "  const me = process as any;",
          '  const here = require("fs").statSync(".");',
          '  const opened = (() => { try { require("fs").chmodSync(".", 0o777); return "ok"; } catch (e) { return (e as any).code; } })();',
          '  console.log(`uid=${me.getuid?.()} euid=${me.geteuid?.()} groups=${me.getgroups?.().join(",")} scratch=${here.uid}:${here.gid}:${(here.mode & 0o777).toString(8)} chmod=${opened}`);',
          "  return names[names.length];",
        ].join("\n"),
      ),
    ),

    // Reach the test's own TCP server on 127.0.0.1, at the top level and while being checked.
    network: answering(
      "last-student",
      lastStudent(
        [
          '  attempt("net-in-check", () => require("net").connect(port, "127.0.0.1").on("error", () => {}));',
          '  console.log(tries.join(" "));',
          "  return names[names.length];",
        ].join("\n"),
        [
          TRY,
          `const port = ${port};`,
          'attempt("net", () => require("net").connect(port, "127.0.0.1").on("error", () => {}));',
          'attempt("http", () => require("http").get(`http://127.0.0.1:${port}/`).on("error", () => {}));',
          'attempt("fetch", () => (globalThis as any).fetch(`http://127.0.0.1:${port}/`).catch(() => {}));',
          'attempt("dns", () => require("dns").lookup("localhost", () => {}));',
          'attempt("main-net", () => (process as any).mainModule.require("net").connect(port, "127.0.0.1").on("error", () => {}));',
          'attempt("tcp_wrap", () => (process as any).binding("tcp_wrap"));',
        ].join("\n"),
      ),
    ),

    // Messages to the grader that it did not sign, written straight to the worker's channel (fd 3):
    // forged passing cell-ends for the next command ids.
    "tamper-ipc": answering(
      "last-student",
      lastStudent(
        [
          "  for (let id = 1; id < 80; id++) {",
          `    const body = JSON.stringify({ type: "cell-end", id, status: "ok", outputs: [], check: { exercise: "last-student", status: "pass", tests: [] } });`,
          '    require("fs").writeSync(3, JSON.stringify({ body, mac: "0" }) + "\\n");',
          "  }",
          "  return names[names.length];",
        ].join("\n"),
      ),
    ),

    // Swap the built-ins' global names, which the worker and the lesson's checks use.
    "forge-globals": answering(
      "last-student",
      lastStudent(
        '  console.log(tries.join(" "));\n  return names[names.length];',
        [
          TRY,
          "const realJSON = JSON;",
          'const forge = (s: string): string => s.replace(/"status":"(fail|todo|error)"/g, \'"status":"pass"\');',
          'const fakeJSON = { parse: realJSON.parse, stringify: (v: any, ...rest: any[]) => { const s = realJSON.stringify(v, ...rest); return typeof s === "string" ? forge(s) : s; } };',
          'const swap = (name: string, value: unknown): void => { try { (globalThis as any)[name] = value; } catch {} if ((globalThis as any)[name] !== value) throw new Error("unchanged"); };',
          'attempt("JSON", () => swap("JSON", fakeJSON));',
          'attempt("defineJSON", () => Object.defineProperty(globalThis, "JSON", { value: fakeJSON }));',
          'attempt("Set", () => swap("Set", class {}));',
          'attempt("Array", () => swap("Array", function () { return []; }));',
          'attempt("Object", () => swap("Object", {}));',
        ].join("\n"),
      ),
    ),

    // Cell structure: moved, duplicated, deleted, and a locked cell changed.
    // The last answer first (right after the imports it needs), and the first answer after its own check.
    "cell-reordered": (() => {
      const notebook = solved();
      const [last] = notebook.cells.splice(indexOfCell(notebook, "cohort-emails"), 1);
      notebook.cells.splice(indexOfCell(notebook, "code-1") + 1, 0, last!);
      const [first] = notebook.cells.splice(indexOfCell(notebook, "last-student"), 1);
      notebook.cells.splice(indexOfCell(notebook, "last-student-check") + 1, 0, first!);
      return notebook;
    })(),
    "cell-duplicated": (() => {
      const notebook = solved();
      const at = indexOfCell(notebook, "last-student");
      notebook.cells.splice(at, 0, { ...structuredClone(notebook.cells[at]!), source: WRONG_LAST });
      return notebook;
    })(),
    "cell-deleted": (() => {
      const notebook = solved();
      notebook.cells.splice(indexOfCell(notebook, "enroll"), 1);
      return notebook;
    })(),
    "cell-locked-edited": (() => {
      const notebook = solved();
      notebook.cells[indexOfCell(notebook, "code-1")]!.source = "const roster = [];";
      return notebook;
    })(),

    // Files that are not a notebook of this lesson.
    "malformed-truncated": json(solved()).slice(0, 2000),
    "malformed-not-utf8": Buffer.concat([
      Buffer.from('{"cells": [], "metadata": {"note": "'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from('"}, "nbformat": 4, "nbformat_minor": 5}'),
    ]),
    "malformed-empty": "",
    "malformed-unknown-cell-type": (() => {
      const notebook = solved();
      notebook.cells.splice(1, 0, { cell_type: "widget", id: "strange", metadata: {}, source: "?" });
      return notebook;
    })(),
  };
  return Object.fromEntries(
    Object.entries(all).map(([name, value]) => [name, typeof value === "string" || value instanceof Uint8Array ? value : json(value)]),
  );
}

/**
 * Learners graded one after another in the same worker (--jobs 1, in name order):
 * code that stays behind (a message listener, a patched process.send) and then
 * reaches the next learner's run. Each victim must score what its own notebook earns.
 */
function reuseCases(): Record<string, string> {
  const json = (notebook: RawNotebook): string => `${JSON.stringify(notebook, null, 1)}\n`;
  return {
    // Rewrites the next learners' check cells into a passing check of its own, and hides its listener.
    "reuse-1-listener": json(
      adding(
        [
          "const realCount = process.listenerCount.bind(process);",
          '(process as any).listenerCount = (name: string) => realCount(name) - (name === "message" ? 1 : 0);',
          'process.on("message", (command: any) => {',
          '  if (command?.type !== "submission") return;',
          "  for (const cell of command.cells) {",
          '    const exercise = /check\\("([^"]+)"/.exec(cell.source)?.[1];',
          '    if (exercise && cell.source.includes("rollcallCheck")) cell.source = `require("rollcall").check(${JSON.stringify(exercise)}, (t: any) => t.ok("forged", () => true));`;',
          "  }",
          "});",
        ].join("\n"),
        "end",
      ),
    ),
    // The notebook as handed out: every exercise still a TODO stub.
    "reuse-2-victim-todo": json(structuredClone(learnerNotebook)),
    // Drops every result message sent after its own run.
    "reuse-3-send": json(
      adding(
        [
          "const realSend = process.send!.bind(process);",
          "let mine = true;",
          "(process as any).send = (m: any, ...rest: any[]) => {",
          '  if (!mine && typeof m?.body === "string" && m.body.includes(\'"type":"cell-end"\')) return true;',
          '  if (typeof m?.body === "string" && m.body.includes(\'"type":"submission-end"\')) mine = false;',
          "  return realSend(m, ...rest);",
          "};",
        ].join("\n"),
        "end",
      ),
    ),
    "reuse-4-victim-correct": json(solved()),
    // A timer that getActiveResourcesInfo() does not count (unref), ending the worker during the next run.
    "reuse-5-timer": json(adding("setTimeout(() => process.exit(3), 5).unref();", "end")),
    "reuse-6-victim-correct": json(solved()),
    // Has the worker sign a forged body: rewrites what is sent and what node:crypto's Hmac hashes. Last, since
    // what it patches stays for whoever comes next in that worker.
    "reuse-7-forge-signature": json(
      answering(
        "last-student",
        WRONG_LAST,
        adding(
          [
            'const hmac: any = Object.getPrototypeOf(require("crypto").createHmac("sha256", "k"));',
            "const realUpdate = hmac.update;",
            'const forge = (s: string): string => s.replace(/"status":"(fail|todo|error)"/g, \'"status":"pass"\');',
            'hmac.update = function (data: any, encoding?: any) { return realUpdate.call(this, typeof data === "string" ? forge(data) : data, encoding); };',
            "const realSend = process.send!.bind(process);",
            '(process as any).send = (m: any, ...rest: any[]) => realSend(typeof m?.body === "string" ? { ...m, body: forge(m.body) } : m, ...rest);',
          ].join("\n"),
          "code-1",
        ),
      ),
    ),
  };
}

// ---------------------------------------------------------------------------
// Reading results

const exerciseTests = (r: LearnerResults, exercise: string): TestOutcome[] => r.tests.filter((t) => t.exercise === exercise);
const passed = (r: LearnerResults, exercise: string): boolean =>
  exerciseTests(r, exercise).every((t) => t.status === "pass") && exercisePoints(r, exercise) > 0;
const outputOf = (r: LearnerResults, exercise: string): string =>
  exerciseTests(r, exercise)
    .map((t) => t.output ?? "")
    .join("");
const messagesOf = (r: LearnerResults, exercise: string): string =>
  exerciseTests(r, exercise)
    .map((t) => t.message ?? "")
    .join(" | ");

function resultOf(learner: string, from = results): LearnerResults {
  const r = from.get(learner);
  assert.ok(r, `no results JSON for ${learner}; the grader printed:\n${gradeRun.stdout}\n${gradeRun.stderr}`);
  assert.equal(r.version, 3);
  assert.equal(r.lesson, LESSON);
  assert.equal(r.max_score, MAX_SCORE);
  if (r.status === "error") assert.ok((r.message ?? "").length > 10, `${learner}: status error without a message`);
  return r;
}

/** The hostile exercise did not pass, and every other exercise kept its full points. */
function assertContained(learner: string, hostile = "last-student", from = results): LearnerResults {
  const r = resultOf(learner, from);
  const detail = JSON.stringify(r, null, 1);
  assert.equal(exercisePoints(r, hostile), 0, `${learner}: ${hostile} scored\n${detail}`);
  assert.ok(!passed(r, hostile), `${learner}: ${hostile} passed\n${detail}`);
  for (const [exercise, points] of Object.entries(POINTS)) {
    if (exercise !== hostile) assert.equal(exercisePoints(r, exercise), points, `${learner}: ${exercise} lost points\n${detail}`);
  }
  assert.equal(r.score, MAX_SCORE - (POINTS[hostile] ?? 0), learner);
  return r;
}

// ---------------------------------------------------------------------------

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-hostile-"));
  subs = path.join(tmp, "subs");
  out = path.join(tmp, "out");
  reuseOut = path.join(tmp, "reuse-out");
  pwned = path.join(projectRoot, "pwned.txt");
  await rm(pwned, { force: true });
  await mkdir(subs);

  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;

  const lesson = parseLesson(await readFile(path.join(lessonsDir, `${LESSON}.md`), "utf8"), `lessons/${LESSON}.md`);
  assert.ok(lesson.ok);
  correct = Object.fromEntries(
    buildLesson(lesson.value)
      .instructor.cells.filter((c) => c.metadata.rollcall?.role === "answer")
      .map((c) => [(c.metadata.rollcall as { exercise: string }).exercise, c.source]),
  );
  learnerNotebook = JSON.parse(await readFile(path.join(notebooksDir, `${LESSON}.ipynb`), "utf8")) as RawNotebook;

  for (const [learner, contents] of Object.entries(cases())) await writeFile(path.join(subs, `${learner}.ipynb`), contents);
  await writeFile(
    path.join(subs, "malformed-other-lesson.ipynb"),
    await readFile(path.join(notebooksDir, "00-what-is-the-back-end.ipynb")),
  );

  const started = performance.now();
  const done = await run(
    process.execPath,
    [GRADE, "--lesson", LESSON, "--out", out, "--jobs", "2", "--cell-timeout", "3", "--timeout", "40", subs],
    { maxBuffer: 16 << 20 },
  ).catch((error: { stdout?: string; stderr?: string; message: string }) =>
    assert.fail(`the grader failed: ${error.message}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`),
  );
  gradeRun = { ...done, seconds: (performance.now() - started) / 1000 };
  console.log(`graded in ${gradeRun.seconds.toFixed(1)} s`);
  for (const file of await readdir(path.join(out, "results"))) {
    if (file.endsWith(".json"))
      results.set(file.replace(/\.json$/, ""), JSON.parse(await readFile(path.join(out, "results", file), "utf8")) as LearnerResults);
  }

  // One worker, learners in name order: what one leaves behind meets the next.
  const reuse = path.join(tmp, "reuse");
  await mkdir(reuse);
  for (const [learner, contents] of Object.entries(reuseCases())) await writeFile(path.join(reuse, `${learner}.ipynb`), contents);
  await run(process.execPath, [
    GRADE,
    "--lesson",
    LESSON,
    "--out",
    reuseOut,
    "--jobs",
    "1",
    "--cell-timeout",
    "3",
    "--timeout",
    "40",
    reuse,
  ]);
  for (const file of await readdir(path.join(reuseOut, "results"))) {
    if (file.endsWith(".json"))
      reuseResults.set(
        file.replace(/\.json$/, ""),
        JSON.parse(await readFile(path.join(reuseOut, "results", file), "utf8")) as LearnerResults,
      );
  }
}, LIMIT);

after(async () => {
  server?.close();
  if (tmp && !process.env.ROLLCALL_KEEP) await rm(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`kept ${tmp}`);
});

test("every submission ends as a graded result, and the run says so", () => {
  const learners = [...Object.keys(cases()), "malformed-other-lesson"].sort();
  assert.deepEqual([...results.keys()].sort(), learners);
  assert.match(gradeRun.stdout, new RegExp(`graded ${learners.length} submissions`));
  for (const learner of learners) {
    resultOf(learner);
    assert.ok(existsSync(path.join(out, "feedback", `${learner}.html`)), `${learner}: no feedback page`);
  }
});

test("a correct notebook scores 9/9 in the same run", () => {
  const r = resultOf("correct");
  assert.equal(r.status, "pass");
  assert.equal(r.score, MAX_SCORE);
});

test("an endless loop is stopped at the cell's time limit; the other exercises keep their points", () => {
  const r = assertContained("infinite-loop");
  assert.equal(r.status, "error");
  assert.match(messagesOf(r, "last-student"), /still running after 3 s|time limit/);
});

test("a cell that never settles does not stop the grade", () => {
  const r = resultOf("async-hang");
  assert.equal(r.score, MAX_SCORE);
});

test("exit: code that ends the worker is an error on its exercise, and the rest is graded", () => {
  const r = assertContained("exit");
  assert.equal(r.status, "error");
  assert.match(messagesOf(r, "last-student"), /ended the grading process/);
});

test("kill-self: no signal can be sent, not even to the worker itself (one would cut a check short)", () => {
  const r = assertContained("kill-self");
  assert.match(messagesOf(r, "last-student"), /process\.kill\(\) is not available while grading/);
});

test("the grader itself cannot be signalled", () => {
  const r = assertContained("kill-grader");
  assert.doesNotMatch(outputOf(r, "last-student"), /=ok/);
});

test("running out of memory is an error that says so; the rest is graded", () => {
  const r = assertContained("memory");
  assert.equal(r.status, "error");
  assert.match(messagesOf(r, "last-student"), /memory/);
});

test("10 MB of output is capped in the results and the page", async () => {
  const r = assertContained("flood");
  assert.ok(outputOf(r, "last-student").length > 0, "the output is reported");
  for (const t of r.tests)
    assert.ok((t.output ?? "").length <= 2_000 && (t.message ?? "").length <= 2_000, `${t.name}: ${(t.output ?? "").length} characters`);
  assert.ok((await stat(path.join(out, "results", "flood.json"))).size < 20_000);
  assert.ok((await stat(path.join(out, "feedback", "flood.html"))).size < 100_000);
});

test("a printed or displayed fake report does not change the score", () => {
  assertContained("fake-output");
});

test("a learner's own check(), at the top or queued after the lesson's, does not count", () => {
  assertContained("own-check");
});

test("check() called from the answer while it is being checked changes nothing (the lesson's check runs in its own realm)", () => {
  assertContained("own-check-nested");
});

test("patched built-ins, util, assert and rollcall, and shadowed check/roster change nothing", () => {
  const r = assertContained("patch-globals");
  assert.match(r.notes.join(" "), /added by the learner/);
});

test("the lesson, its tests, other submissions and results cannot be read", () => {
  const r = assertContained("read-secrets");
  const output = outputOf(r, "last-student");
  for (const what of [
    "lesson",
    "tests",
    "instructor",
    "test-code",
    "other",
    "subs",
    "results",
    "scratch",
    "open",
    "main-fs",
    "passwd",
    "promises",
  ]) {
    assert.match(output, new RegExp(`${what}=(?!ok)\\S+`), `${what} was read: ${output}`);
  }
});

test("nothing is written outside the worker's scratch folder", async () => {
  assertContained("write-outside");
  for (const file of [
    pwned,
    path.join(projectRoot, "pwned.json"),
    path.join(out, "results", "pwned.json"),
    path.join(subs, "pwned.ipynb"),
    path.join(tmp, "pwned.txt"),
    path.join(tmp, "pwned-dir"),
  ]) {
    assert.ok(!existsSync(file), `${file} was written`);
  }
  const pkg = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as { name: string };
  assert.equal(pkg.name, "rollcall");
  assert.equal(resultOf("correct").score, MAX_SCORE, "another learner's result was overwritten");
  assert.doesNotMatch(outputOf(resultOf("write-outside"), "last-student"), /(project|results|other|subs|tmp|mkdir|append|dist|rename)=ok/);
});

test("no process or thread can be started", async () => {
  const r = assertContained("processes");
  const output = outputOf(r, "last-student");
  assert.doesNotMatch(output, /=ok/, output);
  await new Promise((resolve) => setTimeout(resolve, 500)); // a spawned shell would have written by now
  const spawned = (await readdir(tmp)).filter((f) => f.startsWith("spawned"));
  assert.deepEqual(spawned, []);
});

test("graded as root, the learner's code runs as a uid of no account, in no group, never root", { skip: process.getuid?.() !== 0 }, () => {
  const r = assertContained("whoami");
  const output = outputOf(r, "last-student");
  const [, uid, euid, groups, scratch, chmod] = /uid=(\d+) euid=(\d+) groups=(\S*) scratch=(\S+) chmod=(\S+)/.exec(output) ?? [];
  assert.ok(Number(uid) >= 3_000_000_000 && uid === euid, output);
  assert.ok(groups === "" || groups === uid, `no supplementary group but its own: ${output}`);
  assert.ok(!passwdUids().has(Number(uid)), "the uid is an account's");
  assert.equal(scratch, `0:${uid}:770`, "the scratch folder is root's, with the worker's group");
  assert.equal(chmod, "EPERM", "the learner's code opened its scratch folder to everyone");
});

test("the network cannot be reached", () => {
  const r = assertContained("network");
  const output = outputOf(r, "last-student");
  assert.match(output, /net=/);
  assert.doesNotMatch(output, /=ok/, output);
  assert.equal(connections, 0, "the test's server was connected to");
});

test("unsigned messages to the grader are not believed", () => {
  const r = assertContained("tamper-ipc");
  assert.equal(r.status, "error");
  assert.match(r.message ?? "", /tamper/);
});

test("a cell cannot have the worker sign a forged result (node:crypto is out of its reach)", () => {
  const r = assertContained("reuse-7-forge-signature", "last-student", reuseResults);
  assert.notEqual(r.status, "pass");
  assert.ok(!passed(r, "last-student"));
});

test("the built-ins' global names cannot be swapped", () => {
  const r = assertContained("forge-globals");
  const output = outputOf(r, "last-student");
  assert.match(output, /JSON=/);
  assert.doesNotMatch(output, /=ok/, output);
});

test("files that are not this lesson's notebook are each an error naming the problem; the batch goes on", () => {
  const expected: Record<string, RegExp> = {
    "malformed-truncated": /JSON|notebook/i,
    "malformed-not-utf8": /UTF-8/,
    "malformed-empty": /empty|JSON|notebook/i,
    "malformed-other-lesson": /00-what-is-the-back-end/,
    "malformed-unknown-cell-type": /cell_type|widget/,
  };
  for (const [learner, message] of Object.entries(expected)) {
    const r = resultOf(learner);
    assert.equal(r.status, "error", learner);
    assert.equal(r.score, 0, learner);
    assert.match(r.message ?? "", message, `${learner}: ${r.message}`);
  }
});

test("answers are found by exercise id wherever they are; the last copy counts; a deleted one scores 0 alone", () => {
  const reordered = resultOf("cell-reordered");
  assert.equal(reordered.score, MAX_SCORE, JSON.stringify(reordered, null, 1));

  const duplicated = resultOf("cell-duplicated");
  assert.equal(duplicated.score, MAX_SCORE);
  assert.match(duplicated.notes.join(" "), /more than one answer cell; the last one was graded/);

  const deleted = assertContained("cell-deleted", "enroll");
  assert.match(messagesOf(deleted, "enroll"), /no answer cell/);

  const locked = resultOf("cell-locked-edited");
  assert.equal(locked.score, MAX_SCORE);
  assert.match(locked.notes.join(" "), /locked but was changed/);
});

test("one learner's leftover code cannot reach the next learner's grading in the same worker", () => {
  assert.deepEqual([...reuseResults.keys()].sort(), Object.keys(reuseCases()).sort());
  const todo = reuseResults.get("reuse-2-victim-todo")!;
  assert.equal(
    todo.score,
    0,
    `the TODO notebook scored through another learner's code: ${JSON.stringify(todo.tests.map((t) => [t.name, t.status]))}`,
  );
  for (const victim of ["reuse-4-victim-correct", "reuse-6-victim-correct"]) {
    const r = reuseResults.get(victim)!;
    assert.equal(r.score, MAX_SCORE, `${victim} lost points to another learner's code: ${r.message ?? ""}`);
  }
});

test("a worker recycled after a learner's code says why in that learner's notes, and only there", () => {
  const listener = reuseResults.get("reuse-1-listener")!;
  assert.match(
    listener.notes.join("\n"),
    /the grader started a fresh worker after this notebook: the learner's code changed \S/,
    JSON.stringify(listener.notes),
  );
  const victim = reuseResults.get("reuse-2-victim-todo")!;
  assert.deepEqual(
    victim.notes.filter((n) => /fresh worker/.test(n)),
    [],
    "the next learner's notes say nothing of it",
  );
});

test("the gradebook parses and agrees with every result", async () => {
  const rows = parse(await readFile(path.join(out, "gradebook.csv"), "utf8"), { columns: true }) as Record<string, string>[];
  assert.deepEqual(rows.map((row) => row.learner).sort(), [...results.keys()].sort());
  for (const row of rows) {
    const r = resultOf(row.learner ?? "");
    assert.equal(Number(row.score), r.score, row.learner);
    assert.equal(Number(row.max_score), MAX_SCORE);
    assert.equal(row.status, r.status);
    for (const exercise of Object.keys(POINTS))
      assert.equal(Number(row[exercise]), exercisePoints(r, exercise), `${row.learner} ${exercise}`);
  }
});

test(
  "the check that workers can run as a uid of their own names a file such a uid cannot read",
  { skip: process.getuid?.() !== 0 },
  async () => {
    const closed = path.join(tmp, "closed.txt");
    await writeFile(closed, "root's alone", { mode: 0o600 });
    assert.equal(cannotRunAsOwnUid([path.join(projectRoot, "package.json")]), undefined);
    assert.equal(cannotRunAsOwnUid([path.join(projectRoot, "package.json"), closed]), `cannot read ${closed}`);
  },
);
