/** A demo cell's output= claim: what matches, and that a wrong claim is reported at its line. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lessonToNotebook } from "../src/engine/build.js";
import { demoOutputProblems, matchesExpected, printedText } from "../src/engine/demo-outputs.js";
import { parseLesson } from "../src/engine/lesson.js";
import type { Notebook } from "../src/engine/notebook.js";

const LESSON = [
  "---",
  "title: t",
  "minutes: { teach: 10, exercises: 5 }",
  "objectives: [a, b]",
  "keypoints: [a, b]",
  "---",
  "",
  "```ts output=\"true\\n[ 'Grace', 'Zoe', 'alan' ]\"",
  "names.sort()",
  "```",
  "",
  '```ts output="stored in … ms"',
  "timing()",
  "```",
].join("\n");

test("expected output: exact text, trailing spaces ignored, … matches within one line only", () => {
  assert.ok(matchesExpected("a\nb", "a  \nb\n"));
  assert.ok(matchesExpected("stored in … ms", "stored in 12.5 ms"));
  assert.ok(!matchesExpected("stored in … ms", "stored in 1\n2 ms"));
  assert.ok(!matchesExpected("[ 1, 2 ]", "[ 1, 2, 3 ]"));
  assert.ok(matchesExpected("a (b) [c] $d", "a (b) [c] $d"), "regex characters are literal");
});

test("printed text is streams and displayed plain text, in order", () => {
  assert.equal(
    printedText([
      { output_type: "stream", name: "stdout", text: "one\n" },
      { output_type: "display_data", data: { "text/plain": "two", "text/html": "<b>two</b>" }, metadata: {} },
    ]),
    "one\ntwo",
  );
});

test("a demo that prints something else is a problem at its line; one that prints what it says is not", () => {
  const parsed = parseLesson(LESSON, "lessons/09-demo.md");
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  const lesson = parsed.value;
  const run = (first: string, second: string): Notebook => {
    const nb = lessonToNotebook(lesson);
    const texts = [first, second];
    return {
      ...nb,
      cells: nb.cells.map((c) =>
        c.cell_type === "code" ? { ...c, outputs: [{ output_type: "stream", name: "stdout", text: texts.shift() ?? "" }] } : c,
      ),
    };
  };
  assert.deepEqual(demoOutputProblems(lesson, run("true\n[ 'Grace', 'Zoe', 'alan' ]\n", "stored in 3 ms\n")), []);
  const problems = demoOutputProblems(lesson, run("[ 'alan', 'Grace', 'Zoe' ]\n", "stored in 3 ms\n"));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.line, 9);
  assert.match(problems[0]?.message ?? "", /should print\ntrue\n\[ 'Grace', 'Zoe', 'alan' \]\nbut printed\n\[ 'alan', 'Grace', 'Zoe' \]/);
});

test("output= is refused on an exercise and needs quoted text", () => {
  const bad = LESSON.replace('```ts output="stored in … ms"', '```ts exercise=x points=1 output="1"');
  const parsed = parseLesson(bad, "lessons/09-demo.md");
  assert.ok(!parsed.ok);
  assert.match(parsed.problems.map((p) => p.message).join("\n"), /output="…" belongs on a demo cell/);
});
