/** The deck, pure: where slides break (in the deck and in the notebooks alike), and what each audience's deck holds. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";
import { buildLesson } from "../src/engine/build.js";
import { parseLesson, type Lesson } from "../src/engine/lesson.js";
import { parseNotebook, type Notebook } from "../src/engine/notebook.js";
import { notebooksDir } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { SLIDE_LINES, slideTypes } from "../src/engine/slide-breaks.js";
import { deckOf, renderDeckPage, type Deck } from "../src/engine/slides.js";
import { allLessons } from "./support/notebooks.js";

const FRONT = `---
title: Slides
minutes: { teach: 25, exercises: 5 }
objectives: [See slides.]
keypoints: [Slides seen.]
---
`;

function lessonOf(body: string): Lesson {
  const parsed = parseLesson(FRONT + body, "lessons/09-slides.md");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.problems.map(formatProblem).join("\n"));
  return parsed.value;
}

const PAGE = { revealBase: "/vendor/reveal", staticBase: "/static", startedAt: 0 };
const instructorDeck = (lesson: Lesson): Deck => deckOf(lesson, buildLesson(lesson), "instructor");
/** Each section's slides, each slide as the first words of its blocks. */
const shape = (deck: Deck): string[][][] =>
  deck.sections.map((slides) =>
    slides.map((s) =>
      s.blocks.map((b) =>
        b.kind === "code"
          ? `code:${b.cell.id}`
          : b.html
              .replace(/<[^>]+>/g, "")
              .trim()
              .split(/\s+/)
              .slice(0, 2)
              .join(" "),
      ),
    ),
  );
const typesOf = (nb: Notebook): string[] => nb.cells.map((c) => (c.metadata.slideshow as { slide_type: string }).slide_type);

const LONG_CODE = Array.from({ length: SLIDE_LINES - 6 }, (_, i) => `const n${i} = ${i};`).join("\n");

test("each ## heading starts a slide, even in the middle of a Markdown section", () => {
  const lesson = lessonOf(`Intro words.

## First

One.

\`\`\`ts
1 + 1
\`\`\`

Between. Still the first section.

## Second

Two.
`);
  assert.deepEqual(shape(instructorDeck(lesson)), [
    [["Slides Time:", "Intro words."]],
    [["First One.", "code:code-1", "Between. Still"]],
    [["Second Two."]],
    [["Key points"]],
  ]);
});

test("a long section goes on in vertical sub-slides, cut between cells", () => {
  const lesson = lessonOf(`## Long

Words first.

\`\`\`ts
${LONG_CODE}
\`\`\`

\`\`\`ts
${LONG_CODE}
\`\`\`

More words.
`);
  const [, long] = shape(instructorDeck(lesson));
  assert.deepEqual(long, [
    ["Long Words", "code:code-1"],
    ["code:code-2", "More words."],
  ]);
});

test("slide=new forces a sub-slide and slide=join keeps a cell (or a heading) on the slide before", () => {
  const lesson = lessonOf(`## One

Short.

\`\`\`ts slide=new
1
\`\`\`

<!-- slide=new -->
After the comment.

\`\`\`ts
${LONG_CODE}
\`\`\`

\`\`\`ts slide=join
${LONG_CODE}
\`\`\`

<!-- slide=join -->
## Joined heading
`);
  const [, one, last] = shape(instructorDeck(lesson));
  assert.deepEqual(one, [["One Short."], ["code:code-1"], ["After the", "code:code-2", "code:code-3", "Joined heading"]]);
  assert.deepEqual(last, [["Key points"]]);
  assert.doesNotMatch(JSON.stringify(buildLesson(lesson).learner), /slide=/, "the comment does not reach the notebook");
});

test("a slide attribute that is not new or join is a problem with its line", () => {
  const fence = parseLesson(`${FRONT}\n\`\`\`ts slide=later\n1\n\`\`\`\n`, "lessons/09-slides.md");
  assert.ok(!fence.ok && fence.problems.some((p) => p.line === 9 && /slide=new .*slide=join/.test(p.message)));
  const comment = parseLesson(`${FRONT}\nWords.\n\n<!-- slide=later -->\n`, "lessons/09-slides.md");
  assert.ok(!comment.ok && comment.problems.some((p) => p.line === 10 && /slide=new/.test(p.message)));
});

test("instructor notes are speaker notes in the instructor deck and nowhere in the learner deck", () => {
  const lesson = lessonOf(`## Notes

Shown.

\`\`\`instructor
Ask the room first.
\`\`\`
`);
  const built = buildLesson(lesson);
  const [, [slide]] = instructorDeck(lesson).sections as [unknown, Deck["sections"][number]];
  assert.match(slide?.notes.join("") ?? "", /Ask the room first/);
  assert.match(renderDeckPage(instructorDeck(lesson), PAGE), /<aside class="notes">[^]*Ask the room first/);
  const learnerPage = renderDeckPage(deckOf(lesson, built, "learner"), PAGE);
  assert.doesNotMatch(learnerPage, /Ask the room/);
  assert.equal(typesOf(built.instructor).filter((t) => t === "notes").length, 1);
});

test("an exercise slide shows the stub; only the instructor deck can reveal the solution", async () => {
  for (const lesson of await allLessons()) {
    const built = buildLesson(lesson);
    const learner = renderDeckPage(deckOf(lesson, built, "learner"), PAGE);
    const instructor = renderDeckPage(deckOf(lesson, built, "instructor"), PAGE);
    for (const exercise of lesson.exercises) {
      const solution = built.instructor.cells.find((c) => c.id === exercise.id)?.source ?? "";
      const stub = built.learner.cells.find((c) => c.id === exercise.id)?.source ?? "";
      const solved = solution.split("\n").find((l) => l.trim().length > 12 && !stub.includes(l.trim())) ?? "";
      assert.ok(solved, `${lesson.id}: ${exercise.id} has a solution line the stub lacks`);
      const json = JSON.stringify(solved).slice(1, -1).replace(/</g, "\\u003c");
      assert.ok(!learner.includes(json) && !learner.includes(solved), `${lesson.id}: ${exercise.id}'s solution is in the learner deck`);
      assert.ok(instructor.includes(json), `${lesson.id}: ${exercise.id}'s solution is missing from the instructor deck`);
      assert.match(instructor, new RegExp(`data-cell-id="${exercise.id}"[^]*?data-action="reveal"`));
    }
    assert.doesNotMatch(learner, /data-action="reveal"|BEGIN SOLUTION|HIDDEN TESTS/, lesson.id);
  }
});

test("the page has the stable hooks and loads nothing from outside its own server", async () => {
  const [lesson] = await allLessons();
  assert.ok(lesson);
  const page = renderDeckPage(instructorDeck(lesson), { ...PAGE, className: "monday" });
  assert.match(page, /data-cell-id="code-1"/);
  assert.match(page, /data-action="run"/);
  assert.match(page, /data-output/);
  assert.match(page, /data-action="pick"/);
  assert.match(page, /data-picked/);
  for (const [, url] of page.matchAll(/<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)"/g))
    assert.match(url ?? "", /^\/(vendor|static)\//, `${url} is not the presenter's own`);
  assert.doesNotMatch(renderDeckPage(instructorDeck(lesson), PAGE), /data-action="pick"/, "no class, no Pick button");
});

test("the committed notebooks carry slideshow.slide_type with the deck's breaks, in both copies", async () => {
  for (const lesson of await allLessons()) {
    const built = buildLesson(lesson);
    const file = await readFile(path.join(notebooksDir, `${lesson.id}.ipynb`), "utf8");
    const committed = parseNotebook(file, `${lesson.id}.ipynb`);
    assert.ok(committed.ok);
    assert.deepEqual(typesOf(committed.value), typesOf(built.learner), `${lesson.id}: rebuild the notebooks (npm run build)`);
    const deck = deckOf(lesson, built, "learner");
    const count = (type: string): number => typesOf(built.learner).filter((t) => t === type).length;
    assert.equal(deck.sections.length, count("slide"), lesson.id);
    assert.equal(deck.sections.flat().length, count("slide") + count("subslide"), lesson.id);
    const headings = built.learner.cells.filter((c) => c.cell_type === "markdown" && /^#{1,2} /.test(c.source));
    assert.ok(
      headings.every((c) => (c.metadata.slideshow as { slide_type: string }).slide_type === "slide"),
      lesson.id,
    );
    assert.equal(
      typesOf(built.instructor)
        .filter((t) => t !== "notes")
        .join(),
      typesOf(built.learner).join(),
      `${lesson.id}: the copies break alike`,
    );
  }
});

test("jupyter nbconvert --to slides makes the same deck from a built notebook", async () => {
  const nbconvert = "/usr/bin/jupyter-nbconvert";
  assert.ok(existsSync(nbconvert), `this test needs Debian's nbconvert: sudo apt-get install -y jupyter-nbconvert`);
  const lesson = (await allLessons()).find((l) => l.id === "02-random-picks");
  assert.ok(lesson);
  const out = await mkdtemp(path.join(os.tmpdir(), "rollcall-nbconvert-"));
  try {
    const notebook = path.join(notebooksDir, `${lesson.id}.ipynb`);
    await promisify(execFile)(nbconvert, ["--to", "slides", notebook, "--output-dir", out, "--reveal-prefix", "reveal.js"]);
    const html = await readFile(path.join(out, `${lesson.id}.slides.html`), "utf8");
    let depth = 0;
    const opened = [0, 0];
    for (const [tag] of html.matchAll(/<\/?section\b/g)) {
      if (tag === "</section") depth--;
      else opened[depth++]! += 1;
    }
    const deck = deckOf(lesson, buildLesson(lesson), "learner");
    assert.equal(opened[0], deck.sections.length, "nbconvert's slides");
    assert.equal(opened[1], deck.sections.flat().length, "nbconvert's sub-slides");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("slideTypes: first is a slide, headings are slides, notes are notes", () => {
  assert.deepEqual(
    slideTypes([
      { kind: "markdown", source: "Intro" },
      { kind: "notes", source: "psst" },
      { kind: "markdown", source: "## Next" },
      { kind: "code", source: "1" },
    ]),
    ["slide", "notes", "slide", "-"],
  );
});
