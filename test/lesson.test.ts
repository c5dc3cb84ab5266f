import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFenceAttributes, parseLesson } from "../src/engine/lesson.js";
import { formatProblem } from "../src/engine/problem.js";

const FRONT = `---
title: A lesson
minutes: { teach: 10, exercises: 5 }
objectives: [Learn one thing.]
keypoints: [One thing learned.]
---
`;

const EXERCISE = `Some words.

\`\`\`ts exercise=add-one points=2
function addOne(n: number): number {
  // BEGIN SOLUTION
  return n + 1;
  // END SOLUTION
}
\`\`\`

\`\`\`ts check=add-one
check("add-one", (t) => {
  t.equal("one more than 1", () => addOne(1), 2);
  // BEGIN HIDDEN TESTS
  t.equal("one more than -1", () => addOne(-1), 0);
  // END HIDDEN TESTS
}, { hints: ["Add 1."] });
\`\`\`
`;

/** The messages of a lesson that must not parse, as `file:line: message`. */
function problemsOf(text: string, file = "lessons/09-test.md"): string[] {
  const result = parseLesson(text, file);
  assert.equal(result.ok, false, "expected the lesson to be rejected");
  return result.ok ? [] : result.problems.map(formatProblem);
}

test("fence attributes: words, numbers, quoted strings and flags", () => {
  assert.deepEqual(parseFenceAttributes('exercise=first-student points=2 locked title="a b"'), {
    exercise: "first-student",
    points: 2,
    locked: true,
    title: "a b",
  });
});

test("a lesson reads into cells in order, with its exercise paired", () => {
  const result = parseLesson(
    FRONT + EXERCISE + "\n```ts locked\nconst x = 1;\n```\n\n```instructor\nAsk first.\n```\n\n```sql\nSELECT 1;\n```\n",
    "lessons/09-test.md",
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const { cells, exercises, title, minutes, objectives } = result.value;
  assert.equal(title, "A lesson");
  assert.deepEqual(minutes, { teach: 10, exercises: 5 });
  assert.deepEqual(objectives, ["Learn one thing."]);
  assert.deepEqual(
    cells.map((c) => c.kind),
    ["markdown", "answer", "check", "code", "instructor", "markdown"],
  );
  assert.equal(cells[1]?.line, 10, "line numbers point at the code's first line");
  assert.match(cells[5]?.source ?? "", /```sql\nSELECT 1;\n```/, "fences in other languages stay in the Markdown");
  assert.deepEqual(
    exercises.map((e) => [e.id, e.points, e.answer, e.check]),
    [["add-one", 2, cells[1], cells[2]]],
  );
});

test("problems name the file and line and say what to do", () => {
  assert.deepEqual(problemsOf(FRONT + "```ts exercise=add-one\nx\n```\n"), [
    "lessons/09-test.md:8: exercise 'add-one' needs points=N, a whole number of at least 1",
  ]);
  assert.match(
    problemsOf(FRONT + "```ts exercise=a points=1\nlet x = 1;\n```\n```ts check=a\n```\n").join("\n"),
    /:8: exercise 'a' has no \/\/ BEGIN SOLUTION/,
  );
  assert.match(
    problemsOf(FRONT + "```ts exercise=a points=1\n// BEGIN SOLUTION\nx\n```\n```ts check=a\n```\n").join("\n"),
    /:8: \/\/ BEGIN SOLUTION is never closed/,
  );
  assert.match(
    problemsOf(FRONT + "```ts\n// BEGIN HIDDEN TESTS\n// END HIDDEN TESTS\n```\n").join("\n"),
    /:8: \/\/ BEGIN HIDDEN TESTS belongs only in an exercise's check cell/,
  );
  assert.match(problemsOf(FRONT + "```ts colour=red\n```\n").join("\n"), /unknown cell attribute 'colour'/);
  assert.match(problemsOf(FRONT + "```ts check=lonely\n```\n").join("\n"), /check=lonely has no answer cell/);
  assert.match(problemsOf(FRONT + "text\n\n```ts\nconst x = 1;\n").join("\n"), /:9: this code fence is never closed/);
  assert.match(problemsOf("no front matter").join("\n"), /:1: the lesson must start with YAML front matter/);
  assert.match(problemsOf("---\ntitle: x\n---\n").join("\n"), /'minutes' must say the minutes taught/);
  assert.match(problemsOf(FRONT, "lessons/arrays.md").join("\n"), /named NN-words\.md/);
});

test("an exercise needs its check after it, once", () => {
  const swapped = FRONT + "```ts check=a\n```\n```ts exercise=a points=1\n// BEGIN SOLUTION\n// END SOLUTION\n```\n";
  assert.match(problemsOf(swapped).join("\n"), /the check for 'a' comes before its answer cell/);
  assert.match(problemsOf(FRONT + EXERCISE + EXERCISE).join("\n"), /exercise 'add-one' has a second answer cell/);
});

test("broken YAML and odd attribute quoting are problems with a line, not crashes", () => {
  assert.match(problemsOf("---\ntitle: [unclosed\n---\n").join("\n"), /lessons\/09-test\.md:\d+: the front matter is not valid YAML/);
  assert.deepEqual(parseFenceAttributes('title="a\\q"'), { title: "aq" });
});
