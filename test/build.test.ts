import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { buildLesson, checksum, dropInstructorNotes, LEARNER_STAGES, sealLockedCells } from "../src/engine/build.js";
import { stripHiddenTests } from "../src/engine/markers.js";
import { findMarkerProblems, parseLesson } from "../src/engine/lesson.js";
import { parseNotebook, serializeNotebook, type Notebook } from "../src/engine/notebook.js";
import { lessonsDir, notebooksDir, projectRoot } from "../src/engine/paths.js";
import { allLessons } from "./support/notebooks.js";

const run = promisify(execFile);

const codeOf = (nb: Notebook): string =>
  nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => c.source)
    .join("\n");

test("the learner copy has stubs, not solutions, hidden tests or instructor notes", async () => {
  for (const lesson of await allLessons()) {
    const { learner, instructor, tests } = buildLesson(lesson);
    const code = codeOf(learner);
    assert.doesNotMatch(code, /BEGIN SOLUTION|HIDDEN TESTS/, lesson.id);
    assert.ok(!learner.cells.some((c) => c.metadata.rollcall?.role === "note"), `${lesson.id}: instructor notes leaked`);
    for (const exercise of tests.exercises) {
      const answer = learner.cells.find((c) => c.id === exercise.answerCell);
      assert.match(answer?.source ?? "", new RegExp(`throw todo\\("${exercise.id}"\\);`), `${lesson.id}: ${exercise.id} has no stub`);
      const solution = instructor.cells.find((c) => c.id === exercise.answerCell)?.source ?? "";
      assert.notEqual(solution, answer?.source, `${lesson.id}: ${exercise.id}'s instructor copy is the stub`);
      const learnerCheck = learner.cells.find((c) => c.id === exercise.checkCell)?.source ?? "";
      assert.ok(exercise.check.length >= learnerCheck.length, "the grader's check keeps the hidden tests");
    }
    assert.doesNotMatch(
      codeOf(instructor),
      /\/\/ (BEGIN|END) (SOLUTION|HIDDEN TESTS)/,
      `${lesson.id}: markers left in the instructor copy`,
    );
  }
});

test("no solution and no hidden test reaches the learner copy", async () => {
  const normal = (code: string): string =>
    code
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .join("\n");
  const regions = (source: string, marker: string): string[] =>
    source
      .split(new RegExp(`// (?:BEGIN|END) ${marker}`))
      .filter((_, i) => i % 2 === 1)
      .map(normal);
  for (const lesson of await allLessons()) {
    const learner = normal(codeOf(buildLesson(lesson).learner));
    const learnerLines = new Set(learner.split("\n"));
    for (const cell of lesson.cells) {
      if (cell.kind === "answer") {
        for (const solution of regions(cell.source, "SOLUTION"))
          assert.ok(!learner.includes(solution), `${lesson.id}: the solution of ${cell.exercise} is in the learner copy`);
      }
      if (cell.kind === "check") {
        // Each hidden test starts with t.equal / t.ok / t.throws: none may appear in the learner copy.
        // (A bare `t.equal(` whose arguments are on the lines below says nothing: any test can start so.)
        for (const line of regions(cell.source, "HIDDEN TESTS")
          .join("\n")
          .split("\n")
          .filter((l) => /^t\.\w+\(./.test(l))) {
          assert.ok(!learnerLines.has(line), `${lesson.id}: a hidden test of ${cell.exercise} is in the learner copy: ${line}`);
        }
      }
    }
  }
});

test("locked and check cells are sealed last, so their checksums match what the learner gets", async () => {
  assert.equal(LEARNER_STAGES.at(-1), sealLockedCells, "sealLockedCells must be the last stage");
  assert.equal(LEARNER_STAGES[0], dropInstructorNotes);
  for (const lesson of await allLessons()) {
    const { learner } = buildLesson(lesson);
    const sealed = learner.cells.filter((c) => c.metadata.rollcall?.role === "check" || c.metadata.rollcall?.role === "locked");
    assert.ok(sealed.length > 0);
    for (const cell of sealed) {
      const role = cell.metadata.rollcall;
      assert.equal(role && "checksum" in role ? role.checksum : "", checksum(cell.source), `${lesson.id} ${cell.id}`);
      assert.equal(cell.metadata.editable, false);
    }
  }
});

test("notebooks survive a write and a read unchanged", async () => {
  for (const lesson of await allLessons()) {
    const { learner } = buildLesson(lesson);
    const again = parseNotebook(serializeNotebook(learner), "x.ipynb");
    assert.ok(again.ok);
    assert.equal(serializeNotebook(again.value), serializeNotebook(learner));
  }
});

test("every built notebook is valid under nbformat's own schema (Debian's python3-nbformat)", async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-build-"));
  const files: string[] = [];
  for (const lesson of await allLessons()) {
    const { learner, instructor } = buildLesson(lesson);
    for (const [kind, nb] of [
      ["learner", learner],
      ["instructor", instructor],
    ] as const) {
      const file = path.join(folder, `${lesson.id}.${kind}.ipynb`);
      await writeFile(file, serializeNotebook(nb));
      files.push(file);
    }
  }
  const script =
    "import sys, nbformat\nfor f in sys.argv[1:]:\n    nbformat.validate(nbformat.read(f, as_version=4))\nprint('valid', len(sys.argv) - 1)";
  const { stdout } = await run("/usr/bin/python3", ["-c", script, ...files]).catch((error: { stderr?: string }) => {
    throw new Error(
      `nbformat rejected a notebook (or is not installed: apt-get install python3-nbformat):\n${error.stderr ?? String(error)}`,
    );
  });
  assert.equal(stdout.trim(), `valid ${files.length}`);
});

test("npm run build -- --check passes on the committed notebooks and fails on a stale one", async () => {
  const script = path.join(projectRoot, "dist", "scripts", "build.mjs");
  const fresh = await run(process.execPath, [script, "--check"]);
  assert.match(fresh.stdout, /up to date/);

  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-stale-"));
  await cp(lessonsDir, path.join(folder, "lessons"), { recursive: true });
  await cp(notebooksDir, path.join(folder, "notebooks"), { recursive: true });
  const [first] = (await readdir(path.join(folder, "lessons"))).filter((f) => f.endsWith(".md")).sort();
  assert.ok(first);
  const lessonFile = path.join(folder, "lessons", first);
  await writeFile(lessonFile, (await readFile(lessonFile, "utf8")) + "\nOne more sentence.\n");
  const stale = await run(process.execPath, [
    script,
    "--check",
    "--lessons",
    path.join(folder, "lessons"),
    "--notebooks",
    path.join(folder, "notebooks"),
  ]).then(
    () => assert.fail("--check passed on a stale notebook"),
    (error: { code?: number; stderr?: string }) => error,
  );
  assert.equal(stale.code, 1);
  assert.match(stale.stderr ?? "", new RegExp(`${first.replace(".md", "")}\\.ipynb is out of date with .*${first}: run npm run build`));
});

test("the learner's check says how many hidden tests were taken out; the instructor's and the grader's do not", async () => {
  for (const lesson of await allLessons()) {
    const { learner, instructor, tests } = buildLesson(lesson);
    for (const cell of lesson.cells) {
      if (cell.kind !== "check") continue;
      // Counted here by hand: the lines of the hidden regions that start a test.
      const hidden = cell.source
        .split(/\/\/ (?:BEGIN|END) HIDDEN TESTS/)
        .filter((_, i) => i % 2 === 1)
        .join("\n")
        .split("\n")
        .filter((l) => /^\s*t\.(equal|ok|throws)\(/.test(l)).length;
      const learnerCheck = learner.cells.find((c) => c.id === `${cell.exercise}-check`)?.source ?? "";
      const said = [...learnerCheck.matchAll(/^\s*t\.hiddenTests\((\d+)\); \/\/ grading runs \d+ more tests?, not shown here$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      assert.equal(said, hidden, `${lesson.id} ${cell.exercise}: the learner's check says ${said} hidden tests, the lesson has ${hidden}`);
      const full = [
        instructor.cells.find((c) => c.id === `${cell.exercise}-check`)?.source ?? "",
        tests.exercises.find((e) => e.id === cell.exercise)?.check ?? "",
      ];
      for (const source of full)
        assert.doesNotMatch(source, /hiddenTests/, `${lesson.id} ${cell.exercise}: the full check must stay as the lesson wrote it`);
    }
  }
});

test("hidden tests are counted as the grader counts them, on the tester's own name; a region with no test leaves no line", () => {
  const source = [
    'check("pick", function (tester) {',
    '  tester.ok("visible", () => true);',
    "  // BEGIN HIDDEN TESTS",
    '  tester.equal("one", () => 1, 1);',
    "  tester.equal(",
    '    "two, on three lines",',
    "    () => 2, 2);",
    '  tester.throws("three", () => { throw new Error("x"); }, { points: 2 });',
    "  // END HIDDEN TESTS",
    "  const seeds = [1, 2];",
    "  // BEGIN HIDDEN TESTS",
    "  const unused = seeds.length; // helper code, no test",
    "  // END HIDDEN TESTS",
    "});",
  ].join("\n");
  assert.equal(
    stripHiddenTests(source),
    [
      'check("pick", function (tester) {',
      '  tester.ok("visible", () => true);',
      "  tester.hiddenTests(3); // grading runs 3 more tests, not shown here",
      "  const seeds = [1, 2];",
      "});",
    ].join("\n"),
  );
  const one =
    'check("a", (t) => {\n  t.ok("x", () => true);\n    // BEGIN HIDDEN TESTS\n    t.ok("y", () => true);\n    // END HIDDEN TESTS\n});';
  assert.match(
    stripHiddenTests(one),
    /^ {4}t\.hiddenTests\(1\); \/\/ grading runs 1 more test, not shown here$/m,
    "at the marker's indent, in the singular",
  );
});

test("hidden tests outside a check's function (no tester name to say it on) are a problem with their line, so the build stops", () => {
  const outside = 'check("a", (t) => { t.ok("x", () => true); });\n// BEGIN HIDDEN TESTS\nt.equal("y", () => 1, 1);\n// END HIDDEN TESTS';
  const problems = findMarkerProblems([{ kind: "check", exercise: "a", source: outside, line: 20 }], "lessons/99-x.md");
  assert.deepEqual(
    problems.map((p) => [p.line, p.message.split(":")[0]]),
    [[21, 'these hidden tests are not inside a check\'s function with a plain name for its tester, like check("id", (t) => { … })']],
  );
  assert.throws(() => stripHiddenTests(outside), /not inside a check's function/);
  const lesson = [
    "---",
    "title: X",
    "minutes: { teach: 1, exercises: 1 }",
    "objectives: [a]",
    "keypoints: [b]",
    "---",
    "",
    "```ts exercise=a points=1",
    "function a(): number {",
    "  // BEGIN SOLUTION",
    "  return 1;",
    "  // END SOLUTION",
    "}",
    "```",
    "",
    "```ts check=a",
    outside,
    "```",
    "",
  ].join("\n");
  const parsed = parseLesson(lesson, "lessons/99-x.md");
  assert.equal(parsed.ok, false);
  assert.match(JSON.stringify(!parsed.ok && parsed.problems), /not inside a check's function/);
});
