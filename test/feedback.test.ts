import assert from "node:assert/strict";
import { test } from "node:test";
import { renderFeedback, type FeedbackContext } from "../src/engine/feedback.js";
import { OUTPUT_CAP } from "../src/engine/results.js";
import { EXERCISES, outcome, results } from "./support/results.js";

const context = (answers: Record<string, string> = {}): FeedbackContext => ({
  title: "Keeping a roster",
  exercises: EXERCISES,
  answers: new Map(Object.entries(answers)),
});

/** The HTML of one exercise's section. */
function section(page: string, id: string): string {
  const start = page.indexOf(`id="exercise-${id}"`);
  assert.notEqual(start, -1, `a section for ${id}`);
  const end = page.indexOf("</section>", start);
  return page.slice(start, end);
}

const HOSTILE = `<script>alert(1)</script>`;
const ATTRIBUTE = `" onload="x`;

test("hostile text from the learner and the results is escaped everywhere", () => {
  const r = results(
    `${HOSTILE}${ATTRIBUTE}`,
    [
      outcome("add-student", `${HOSTILE} name`, 0, 3, "fail", { message: `expected ${HOSTILE}${ATTRIBUTE}`, output: `printed ${HOSTILE}` }),
      outcome(`${ATTRIBUTE}<img src=x onerror=alert(1)>`, "stray exercise", 0, 1, "fail"),
    ],
    { notes: [`note ${HOSTILE}`], message: `grader says ${ATTRIBUTE}` },
  );
  const page = renderFeedback(r, { ...context({ "add-student": `const x = "${HOSTILE}";\n// ${ATTRIBUTE}` }), title: `Title ${HOSTILE}` });

  assert.doesNotMatch(page, /<script/i, "no script element, hostile or otherwise");
  assert.doesNotMatch(page, /<img/i);
  // Inside each tag, drop the quoted attribute values: what is left are the attribute names.
  const tags = (page.match(/<[^>]*>/g) ?? []).map((tag) => tag.replace(/"[^"]*"/g, '""'));
  assert.ok(tags.length > 20);
  for (const tag of tags) assert.doesNotMatch(tag, /\son\w+\s*=/i, `no event-handler attribute: ${tag}`);
  assert.ok(!page.includes(ATTRIBUTE), "quotes from the learner never close an attribute");
  assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(page.includes("&quot; onload=&quot;x"));
  // Each hostile place shows up escaped: title, name, test name, message, output, note, answer, grader message.
  const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
  for (const text of [
    `Title ${escaped}`,
    `${escaped}&quot; onload=&quot;x`,
    `${escaped} name`,
    `expected ${escaped}`,
    `printed ${escaped}`,
    `note ${escaped}`,
    `const x = &quot;${escaped}&quot;;`,
    "grader says &quot; onload=&quot;x",
  ]) {
    assert.ok(page.includes(text), `escaped: ${text}`);
  }
  // The stray exercise id sits inside an attribute: escaped there too.
  assert.ok(page.includes(`id="exercise-&quot; onload=&quot;x&lt;img src=x onerror=alert(1)&gt;"`));
});

test("a self-contained page: charset, viewport, no scripts, nothing fetched", () => {
  const page = renderFeedback(results("Ada", []), context());
  assert.ok(page.startsWith("<!doctype html>"));
  assert.match(page, /<meta charset="utf-8">/);
  assert.match(page, /<meta name="viewport"/);
  assert.doesNotMatch(page, /<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(/i);
});

test("tests are grouped per exercise in lesson order with per-exercise totals", () => {
  const r = results("Ada", [
    outcome("count-rows", "counts the rows", 1, 1, "pass"),
    outcome("last-student", "returns the last", 0, 1, "fail", { message: "expected Grace, got undefined" }),
    outcome("add-student", "adds one", 1.5, 1.5, "pass"),
    outcome("last-student", "empty roster", 0.666667, 1, "fail"),
    outcome("add-student", "keeps order", 0, 1.5, "fail", { message: "expected [Ada, Grace]" }),
  ]);
  const page = renderFeedback(
    r,
    context({ "add-student": "roster.push(name);", "last-student": "return roster.at(-1);", "count-rows": "return rows.length;" }),
  );

  const positions = EXERCISES.map((e) => page.indexOf(`id="exercise-${e.id}"`));
  assert.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
    "sections follow the lesson, not the results",
  );
  assert.ok(positions.every((p) => p > 0));

  const add = section(page, "add-student");
  assert.match(add, /1\.5 \/ 3 points/);
  assert.ok(add.includes("adds one") && add.includes("keeps order"));
  assert.ok(!add.includes("returns the last") && !add.includes("counts the rows"));
  assert.ok(add.includes("expected [Ada, Grace]"));
  assert.ok(add.includes("✓") && add.includes("✗"));
  assert.ok(add.includes("Your answer") && add.includes("roster.push(name);"));

  const last = section(page, "last-student");
  assert.match(last, /0\.67 \/ 2 points/);
  assert.ok(last.includes("expected Grace, got undefined"));
  assert.ok(last.includes("return roster.at(-1);"));
  assert.ok(!last.includes("roster.push(name);"), "each exercise shows its own answer");

  assert.match(section(page, "count-rows"), /1 \/ 1 point</);
  // Total and status.
  assert.match(page, /3\.17 <small>\/ 6 points<\/small>/);
  assert.match(page, /Not yet/);
  assert.match(page, /2 of 5 tests passed/);
});

test("a missing answer says so in its exercise", () => {
  const r = results("Ada", [outcome("add-student", "adds one", 0, 3, "fail"), outcome("last-student", "returns the last", 2, 2, "pass")]);
  const page = renderFeedback(r, context({ "last-student": "return roster.at(-1);" }));
  assert.match(section(page, "add-student"), /no answer found/);
  assert.doesNotMatch(section(page, "last-student"), /no answer found/);
  assert.match(section(page, "count-rows"), /no answer found/);
  assert.match(section(page, "count-rows"), /No test results/);
});

test("an error result says it could not be graded, with the grader's message", () => {
  const r = results(
    "Ada",
    [
      outcome("add-student", "adds one", 0, 3, "error", {
        message: "timed out after 10 s: is there a loop that never ends?",
        output: "x".repeat(OUTPUT_CAP + 500),
      }),
    ],
    {
      message: "add-student: timed out after 10 s: is there a loop that never ends?",
      score: 0,
    },
  );
  const page = renderFeedback(r, context());
  assert.match(page, /class="summary error"/);
  assert.match(page, /Could not be graded/);
  assert.match(page, /<p class="grader-message">add-student: timed out after 10 s: is there a loop that never ends\?<\/p>/);
  const add = section(page, "add-student");
  assert.ok(add.includes(">!<"));
  assert.ok(add.includes("500 more characters not shown"), "long output is capped");
  assert.ok(!add.includes("x".repeat(OUTPUT_CAP + 1)));
});

test("a pass says so, and the notes show what the grader noticed", () => {
  const r = results(
    "Ada",
    EXERCISES.map((e) => outcome(e.id, `all of ${e.id}`, e.points, e.points, "pass")),
    {
      notes: ["A locked cell was changed: cell 3 was restored before grading."],
    },
  );
  const page = renderFeedback(r, context());
  assert.match(page, /class="summary pass"/);
  assert.match(page, /<p class="status">Pass<\/p>/);
  assert.match(page, /6 <small>\/ 6 points/);
  assert.match(page, /What the grader noticed[\s\S]*A locked cell was changed: cell 3 was restored before grading\./);
  assert.doesNotMatch(renderFeedback(results("Ada", []), context()), /What the grader noticed/);
});
