/**
 * The grader against the hostile fixtures in test/fixtures/hostile/<case>/, black
 * box through the real CLI on the real kernel. A case folder holds:
 *
 *   case.json          what the attack tries; how it is run ("run": reuse | own | kill),
 *                      cells to delete, special files to make ("intake"), grader options
 *   answer.<ex>.ts     replaces the answer to exercise <ex> in a correct notebook
 *   after.<cell>.ts    a cell the learner added after cell <cell> ("end": last)
 *   expected.json      the result it must get: score, points per exercise, status,
 *                      words its message has, text that must appear nowhere, size caps
 *
 * Cases are graded together in one batch; "reuse" cases one after another in a
 * single worker, in name order (an attacker, then its victim).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { buildLesson } from "../src/engine/build.js";
import { projectRoot } from "../src/engine/paths.js";
import { exercisePoints, type LearnerResults } from "../src/engine/results.js";
import { allLessons, type RawNotebook } from "./support/notebooks.js";
import { gradingRoot } from "../src/engine/grade-pool.js";

const run = promisify(execFile);
const GRADE = path.join(projectRoot, "dist", "scripts", "grade.mjs");
const FIXTURES = path.join(projectRoot, "test", "fixtures", "hostile");
const LESSON = "01-arrays";
/** A grader run that hangs (a FIFO, say) fails its cases instead of stalling the suite. */
const RUN_LIMIT_MS = 200_000;

interface Case {
  readonly about: string;
  /** The lesson the notebook is of (01-arrays unless said). */
  readonly lesson?: string;
  readonly run?: "reuse" | "own" | "kill";
  readonly delete?: readonly string[];
  readonly intake?: "symlink-classmate" | "symlink-passwd" | "fifo" | "huge" | "long-name" | "rerun-names";
  readonly options?: readonly string[];
  readonly maxSeconds?: number;
}
interface Expected {
  readonly status?: string;
  readonly score?: number;
  readonly exercises?: Readonly<Record<string, number>>;
  readonly message?: string;
  /** Tests (by name) that must not pass. */
  readonly failing?: readonly string[];
  readonly excludes?: readonly string[];
  readonly maxBytes?: { readonly results: number; readonly feedback: number };
}
interface Fixture {
  readonly name: string;
  readonly spec: Case;
  readonly expected: Expected;
  readonly files: ReadonlyMap<string, string>;
}
/** What a case's grading left: its results, its feedback page, how long its run took. */
interface Graded {
  readonly results?: LearnerResults;
  readonly resultsText: string;
  readonly feedback: string;
  readonly seconds: number;
  readonly log: string;
}

let tmp = "";
/** Each lesson's learner notebook and its correct answers, by exercise. */
const lessons = new Map<string, { learner: RawNotebook; correct: Map<string, string> }>();
const lessonOf = (fixture?: Fixture): string => fixture?.spec.lesson ?? LESSON;
const fixtures: Fixture[] = [];
const graded = new Map<string, Graded>();
/** What the grader printed on the run that graded each case, for a case that got no result. */
const logs = new Map<string, string>();
/** How long the grader took, with a case's options, on a correct notebook alone. */
const baselines = new Map<string, number>();

/** Every case, or those whose names start with one of ROLLCALL_FIXTURES (e.g. "1-,5-reuse") while writing one. */
function fixtureNames(): string[] {
  const only = process.env.ROLLCALL_FIXTURES?.split(",").map((s) => s.trim());
  return readdirSync(FIXTURES)
    .sort()
    .filter((name) => !only || only.some((prefix) => name.startsWith(prefix)));
}

async function readFixtures(): Promise<Fixture[]> {
  const names = fixtureNames();
  return Promise.all(
    names.map(async (name) => {
      const dir = path.join(FIXTURES, name);
      const files = new Map<string, string>();
      for (const file of await readdir(dir)) if (file.endsWith(".ts")) files.set(file, await readFile(path.join(dir, file), "utf8"));
      const json = async <T>(file: string): Promise<T> => JSON.parse(await readFile(path.join(dir, file), "utf8")) as T;
      return { name, spec: await json<Case>("case.json"), expected: await json<Expected>("expected.json"), files };
    }),
  );
}

/** The learner's notebook with every answer correct, then the case's changes. */
function notebookFor(fixture?: Fixture): string {
  const { learner, correct } = lessons.get(lessonOf(fixture)) ?? assert.fail(`no lesson ${lessonOf(fixture)}`);
  const notebook = structuredClone(learner);
  for (const cell of notebook.cells) {
    const role = cell.metadata.rollcall as { role?: string; exercise?: string } | undefined;
    if (role?.role === "answer" && role.exercise) cell.source = correct.get(role.exercise) ?? "";
  }
  for (const [file, source] of fixture?.files ?? []) {
    const [kind, target] = file.replace(/\.ts$/, "").split(/\.(.*)/s) as [string, string];
    const at = target === "end" ? notebook.cells.length - 1 : notebook.cells.findIndex((c) => c.id === target);
    assert.ok(at >= 0, `${fixture?.name}: no cell '${target}' in ${lessonOf(fixture)}`);
    if (kind === "answer") notebook.cells[at]!.source = source;
    else
      notebook.cells.splice(at + 1, 0, {
        cell_type: "code",
        id: `added-${notebook.cells.length}`,
        metadata: {},
        source,
        outputs: [],
        execution_count: null,
      });
  }
  notebook.cells = notebook.cells.filter((c) => !fixture?.spec.delete?.includes(c.id));
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

/** Runs the grader to the end (or its limit); returns what it printed and how long it took. */
async function grade(args: readonly string[], lesson = LESSON): Promise<{ log: string; seconds: number }> {
  const started = performance.now();
  const { stdout, stderr } = await run(process.execPath, [GRADE, "--lesson", lesson, ...args], {
    timeout: RUN_LIMIT_MS,
    maxBuffer: 64 << 20,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => ({
    stdout: error.stdout ?? "",
    stderr: `${error.stderr ?? ""}\n${error.message}`,
  }));
  return { log: `${stdout}\n${stderr}`, seconds: (performance.now() - started) / 1000 };
}

/** Every result and feedback page in `out`, by the submission file it came from (or by learner name). */
async function collect(out: string, ran: { log: string; seconds: number }, names: ReadonlyMap<string, string>): Promise<void> {
  const dir = path.join(out, "results");
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith(".json")) : [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    let results: LearnerResults | undefined;
    try {
      results = JSON.parse(text) as LearnerResults;
    } catch {
      continue;
    }
    const source = (results as { source?: string }).source;
    const owner = (source ? names.get(path.resolve(source)) : undefined) ?? names.get(results.learner);
    if (!owner) continue;
    const feedbackFile = path.join(out, "feedback", `${file.replace(/\.json$/, "")}.html`);
    const feedback = existsSync(feedbackFile) ? await readFile(feedbackFile, "utf8") : "";
    graded.set(owner, { results, resultsText: text, feedback, ...ran });
  }
}

/** Grades these cases together (one folder, one run). */
async function gradeBatch(label: string, cases: readonly Fixture[], extra: readonly string[] = [], lesson = LESSON): Promise<void> {
  const subs = path.join(tmp, `${label}-subs`);
  const out = path.join(tmp, `${label}-out`);
  await mkdir(subs, { recursive: true });
  const names = new Map<string, string>();
  if (cases.some((c) => c.spec.intake === "symlink-classmate"))
    await writeFile(path.join(subs, "0-classmate.ipynb"), notebookFor(cases[0]));
  for (const fixture of cases) {
    const file = path.join(subs, `${fixture.name}.ipynb`);
    names.set(fixture.name, fixture.name).set(file, fixture.name);
    switch (fixture.spec.intake) {
      case "symlink-classmate": {
        const folder = path.join(subs, fixture.name);
        await mkdir(folder);
        await symlink(path.join(subs, "0-classmate.ipynb"), path.join(folder, `${LESSON}.ipynb`));
        names.set(path.join(folder, `${LESSON}.ipynb`), fixture.name);
        break;
      }
      case "symlink-passwd":
        await symlink("/etc/passwd", file);
        break;
      case "fifo": {
        const folder = path.join(subs, fixture.name);
        await mkdir(folder);
        execFileSync("mkfifo", [path.join(folder, `${LESSON}.ipynb`)]);
        names.set(path.join(folder, `${LESSON}.ipynb`), fixture.name);
        break;
      }
      case "huge":
        execFileSync("truncate", ["-s", "3G", file]);
        break;
      case "long-name": {
        const long = path.join(subs, `${"名".repeat(83)}.ipynb`);
        await writeFile(long, notebookFor());
        names.set(long, fixture.name).set("名".repeat(83), fixture.name);
        break;
      }
      default:
        await writeFile(file, notebookFor(fixture));
    }
  }
  const ran = await grade(["--out", out, ...extra, subs], lesson);
  for (const fixture of cases) logs.set(fixture.name, ran.log);
  await collect(out, ran, names);
}

/** x/01-arrays.ipynb (unfinished) and x.ipynb (correct) in one run; then x/ goes, and a rerun into the same folder. */
async function gradeRerun(fixture: Fixture): Promise<void> {
  const subs = path.join(tmp, "rerun-subs");
  const out = path.join(tmp, "rerun-out");
  await mkdir(path.join(subs, "x"), { recursive: true });
  await writeFile(path.join(subs, "x", `${LESSON}.ipynb`), `${JSON.stringify(lessons.get(LESSON)?.learner)}\n`);
  await writeFile(path.join(subs, "x.ipynb"), notebookFor());
  await grade(["--out", out, subs]);
  await rm(path.join(subs, "x"), { recursive: true });
  const ran = await grade(["--out", out, subs]);
  // Only what the rerun says of x.ipynb counts: by its recorded source, else by the name it was given.
  await collect(out, ran, new Map([[path.join(subs, "x.ipynb"), fixture.name]]));
  if (!graded.has(fixture.name)) {
    const text = await readFile(path.join(out, "results", "x.json"), "utf8").catch(() => "");
    if (text) graded.set(fixture.name, { results: JSON.parse(text) as LearnerResults, resultsText: text, feedback: "", ...ran });
  }
}

/** Six correct learners; the grader is killed with SIGKILL once the first result is written, then run again. */
async function gradeAfterKill(fixture: Fixture): Promise<{ stale: string[] }> {
  const subs = path.join(tmp, "kill-subs");
  const out = path.join(tmp, "kill-out");
  await mkdir(subs, { recursive: true });
  for (let i = 1; i <= 6; i++) await writeFile(path.join(subs, `k${i}.ipynb`), notebookFor());
  const child = spawn(process.execPath, [GRADE, "--lesson", LESSON, "--out", out, "--jobs", "2", subs], { stdio: "ignore" });
  const started = performance.now();
  while (performance.now() - started < 120_000) {
    const done = await readdir(path.join(out, "results")).catch(() => [] as string[]);
    if (done.some((f) => f.endsWith(".json"))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  // What a kill mid-write leaves: a half-written results file under the writer's temporary names.
  await writeFile(path.join(out, "results", `k6.json.${child.pid}.tmp`), '{"version": 3, "status": "pa');
  await writeFile(path.join(out, "results", `.k6.json.${child.pid}.tmp`), '{"version": 3, "status": "pa');
  const ran = await grade(["--out", out, "--jobs", "2", subs]);
  const names = new Map(Array.from({ length: 6 }, (_, i) => [path.join(subs, `k${i + 1}.ipynb`), `${fixture.name}/k${i + 1}`] as const));
  for (let i = 1; i <= 6; i++) names.set(`k${i}`, `${fixture.name}/k${i}`);
  await collect(out, ran, names);
  const leftovers = (dir: string) =>
    readdir(dir).then(
      (fs) => fs.map((f) => path.join(dir, f)),
      () => [] as string[],
    );
  const scratch = (await leftovers(gradingRoot)).filter((f) => new RegExp(`^${child.pid}(-|$)`).test(path.basename(f)));
  const temporary = [...(await leftovers(path.join(out, "results"))), ...(await leftovers(path.join(out, "feedback")))].filter((f) =>
    f.endsWith(".tmp"),
  );
  return { stale: [...scratch, ...temporary] };
}

let killLeft: { stale: string[] } = { stale: [] };

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-hostile-fixtures-"));
  fixtures.push(...(await readFixtures()));
  for (const lesson of await allLessons()) {
    const built = buildLesson(lesson);
    lessons.set(lesson.id, {
      learner: JSON.parse(JSON.stringify(built.learner)) as RawNotebook,
      correct: new Map(
        built.instructor.cells.flatMap((c) => {
          const role = c.metadata.rollcall;
          return role?.role === "answer" ? [[role.exercise, c.source] as const] : [];
        }),
      ),
    });
  }
  const by = (kind: Case["run"]) => fixtures.filter((f) => f.spec.run === kind && f.spec.intake !== "rerun-names");
  // What is timed runs alone, before the rest, so that other batches do not slow it down.
  for (const fixture of by("own")) {
    await gradeBatch(fixture.name, [fixture], fixture.spec.options ?? []);
    if (fixture.spec.maxSeconds !== undefined) {
      const folder = path.join(tmp, `${fixture.name}-baseline`);
      await mkdir(folder);
      await writeFile(path.join(folder, "correct.ipynb"), notebookFor());
      baselines.set(fixture.name, (await grade(["--out", path.join(folder, "out"), ...(fixture.spec.options ?? []), folder])).seconds);
    }
  }
  await Promise.all([
    ...[...new Set(by(undefined).map(lessonOf))].map((lesson) =>
      gradeBatch(
        `batch-${lesson}`,
        by(undefined).filter((f) => lessonOf(f) === lesson),
        ["--jobs", "2"],
        lesson,
      ),
    ),
    (async () => {
      await gradeBatch("reuse", by("reuse"), ["--jobs", "1"]);
      for (const fixture of fixtures.filter((f) => f.spec.intake === "rerun-names")) await gradeRerun(fixture);
      for (const fixture of by("kill")) killLeft = await gradeAfterKill(fixture);
    })(),
  ]);
});

after(async () => {
  // ROLLCALL_KEEP_RUNS=1 keeps the submissions and what the grader wrote, to read after a failure.
  if (tmp && !process.env.ROLLCALL_KEEP_RUNS) await rm(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`kept ${tmp}`);
});

/** One test per fixture, named by its folder, so that a failure names the attack. */
for (const name of fixtureNames()) {
  test(`hostile fixture ${name}`, { timeout: RUN_LIMIT_MS * 3 }, async () => {
    const fixture = fixtures.find((f) => f.name === name);
    assert.ok(fixture, `fixture ${name} was not read`);
    const { expected, spec } = fixture;
    if (spec.run === "kill") {
      assert.deepEqual(killLeft.stale, [], "the rerun after kill -9 left the killed grader's scratch folders or temporary files");
      for (let i = 1; i <= 6; i++) {
        const one = graded.get(`${name}/k${i}`);
        assert.ok(one?.results, `k${i}: no result after the rerun`);
        assert.equal(one.results.score, expected.score, `k${i}: ${one.resultsText}`);
      }
      return;
    }
    const got = graded.get(name);
    assert.ok(got?.results, `${name} (${spec.about}): no result; the grader printed:\n${logs.get(name) ?? "(nothing)"}`);
    const { results, resultsText, feedback } = got;
    const detail = `${name}: ${spec.about}\n${resultsText.slice(0, 4000)}`;
    if (expected.status !== undefined) assert.equal(results.status, expected.status, detail);
    if (expected.score !== undefined) assert.equal(results.score, expected.score, detail);
    assert.ok(results.score <= results.max_score, `score above the maximum: ${detail}`);
    for (const [exercise, points] of Object.entries(expected.exercises ?? {}))
      assert.equal(exercisePoints(results, exercise), points, `${exercise}: ${detail}`);
    if (expected.message) {
      const said = [results.message ?? "", ...results.tests.map((t) => t.message ?? "")].join(" | ");
      assert.match(said, new RegExp(expected.message, "i"), detail);
    }
    for (const test of expected.failing ?? []) {
      const found = results.tests.filter((t) => t.name === test);
      assert.ok(found.length > 0 && found.every((t) => t.status !== "pass" && t.points === 0), `'${test}' passed: ${detail}`);
    }
    for (const text of expected.excludes ?? []) {
      assert.ok(!resultsText.includes(text), `the results show '${text}': ${detail}`);
      assert.ok(!feedback.includes(text), `the feedback shows '${text}'`);
    }
    if (expected.maxBytes) {
      assert.ok(Buffer.byteLength(resultsText) <= expected.maxBytes.results, `results JSON is ${Buffer.byteLength(resultsText)} bytes`);
      assert.ok(Buffer.byteLength(feedback) <= expected.maxBytes.feedback, `feedback is ${Buffer.byteLength(feedback)} bytes`);
    }
    if (spec.maxSeconds !== undefined) {
      // Against the same grader run on a correct notebook: what the limit allows, and a little for stopping
      // and starting workers. Retries from the start would add a whole cell limit and a start each.
      const baseline = baselines.get(name) ?? assert.fail("no baseline run");
      assert.ok(
        got.seconds - baseline <= spec.maxSeconds + 3,
        `the grader took ${got.seconds.toFixed(1)} s, a correct notebook ${baseline.toFixed(1)} s, for a ${spec.maxSeconds} s notebook limit`,
      );
    }
  });
}
