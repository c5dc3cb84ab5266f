/**
 * Lesson → slides: one more stage after the notebooks (build.ts), not a second
 * format. The deck is read off the built copies and their `slideshow.slide_type`,
 * so it breaks where `jupyter nbconvert --to slides` does:
 *
 *   learner deck:    the learner copy (stubs, no notes, no solutions anywhere in the page)
 *   instructor deck: the learner copy's cells, plus the instructor copy's notes and
 *                    each exercise's solution, to reveal on the slide
 *
 * Pure: the HTML page is a string; the presenter (present-server.ts) serves it.
 */
import escapeHtml from "escape-html";
import MarkdownIt from "markdown-it";
import type { BuiltLesson } from "./build.js";
import type { Lesson, Minutes } from "./lesson.js";
import type { Cell, Notebook } from "./notebook.js";
import type { SlideType } from "./slide-breaks.js";

export type Audience = "instructor" | "learner";

/** A code cell of the deck: what it shows and runs, and (instructor deck) the solution it can reveal. */
export interface DeckCode {
  readonly id: string;
  readonly role: "code" | "locked" | "answer" | "check";
  readonly source: string;
  readonly solution?: string;
}

export type Block = { readonly kind: "markdown"; readonly html: string } | { readonly kind: "code"; readonly cell: DeckCode };

export interface Slide {
  readonly blocks: readonly Block[];
  /** Speaker notes (HTML): the instructor deck's only. */
  readonly notes: readonly string[];
}

export interface Deck {
  readonly lesson: string;
  readonly title: string;
  readonly minutes: Minutes;
  readonly audience: Audience;
  /** Left to right; each section's slides go top to bottom (reveal.js's vertical slides). */
  readonly sections: readonly (readonly Slide[])[];
  /** Every code cell, in lesson order: the order cells run in. */
  readonly cells: readonly DeckCode[];
}

const markdown = new MarkdownIt({ html: true });

const slideTypeOf = (cell: Cell): SlideType => {
  const type = (cell.metadata.slideshow as { slide_type?: SlideType } | undefined)?.slide_type;
  return type ?? "-";
};

function codeOf(cell: Cell & { cell_type: "code" }, instructor: Notebook | undefined): DeckCode {
  const role = cell.metadata.rollcall?.role;
  const kind: DeckCode["role"] = role === "answer" || role === "check" || role === "locked" ? role : "code";
  const solution = kind === "answer" ? instructor?.cells.find((c) => c.id === cell.id)?.source : undefined;
  return { id: cell.id, role: kind, source: cell.source, ...(solution !== undefined && solution !== cell.source ? { solution } : {}) };
}

/** The deck of a lesson, for the instructor (notes, solutions to reveal) or for learners (neither). */
export function deckOf(lesson: Lesson, built: BuiltLesson, audience: Audience): Deck {
  const instructor = audience === "instructor" ? built.instructor : undefined;
  const notes = new Map((instructor?.cells ?? []).filter((c) => c.metadata.rollcall?.role === "note").map((c) => [c.id, c]));
  // The learner copy in lesson order, with the instructor copy's notes put back where they were.
  const ordered = instructor
    ? instructor.cells.map((c) => (notes.has(c.id) ? c : (built.learner.cells.find((l) => l.id === c.id) ?? c)))
    : built.learner.cells;

  const sections: { blocks: Block[]; notes: string[] }[][] = [];
  const cells: DeckCode[] = [];
  for (const cell of ordered) {
    const type = slideTypeOf(cell);
    if (type === "notes") {
      const section = sections.at(-1);
      section?.at(-1)?.notes.push(markdown.render(cell.source));
      continue;
    }
    if (type === "slide" || sections.length === 0) sections.push([{ blocks: [], notes: [] }]);
    else if (type === "subslide") sections.at(-1)?.push({ blocks: [], notes: [] });
    const slide = sections.at(-1)?.at(-1);
    if (!slide) continue;
    if (cell.cell_type === "code") {
      const code = codeOf(cell, instructor);
      cells.push(code);
      slide.blocks.push({ kind: "code", cell: code });
    } else slide.blocks.push({ kind: "markdown", html: markdown.render(cell.source) });
  }
  return { lesson: lesson.id, title: lesson.title, minutes: lesson.minutes, audience, sections, cells };
}

/** What the page needs besides the deck: where its files are and what the presenter offers. */
export interface PageOptions {
  /** Where reveal.js's dist/ folder is served. */
  readonly revealBase: string;
  /** Where the presenter's own script and style are served. */
  readonly staticBase: string;
  /** When the presenter started (ms since 1970): the speaker view counts the lesson's minutes from it. */
  readonly startedAt: number;
  /** The class whose roll call the Pick button uses, if any. */
  readonly className?: string;
  /** True when the presenter reads the class pulse: exercise slides show it, and Pick can pick among the stuck or the done. */
  readonly pulse?: boolean;
}

const ROLE_LABEL: Record<DeckCode["role"], string> = { code: "", locked: "locked", answer: "exercise", check: "self-check" };

function renderCode(cell: DeckCode): string {
  const label = ROLE_LABEL[cell.role];
  const reveal = cell.solution !== undefined ? `<button type="button" data-action="reveal">Show solution</button>` : "";
  return `<div class="cell" data-cell-id="${escapeHtml(cell.id)}" data-role="${cell.role}">
${label ? `<div class="cell-label">${label}</div>` : ""}<div class="editor"><pre class="editor-view hljs" aria-hidden="true">${escapeHtml(cell.source)}\n</pre><textarea spellcheck="false" autocomplete="off" aria-label="code of cell ${escapeHtml(cell.id)}">${escapeHtml(cell.source)}</textarea></div>
<div class="cell-actions"><button type="button" data-action="run" title="Run (Shift-Enter)">► Run</button><button type="button" data-action="stop" title="Interrupt the kernel">■ Stop</button>${reveal}<span class="cell-status" data-status></span></div>
<div class="output" data-output></div>
</div>`;
}

function renderSlide(slide: Slide): string {
  const body = slide.blocks.map((b) => (b.kind === "markdown" ? `<div class="md">${b.html}</div>` : renderCode(b.cell))).join("\n");
  const notes = slide.notes.length ? `\n<aside class="notes">${slide.notes.join("\n")}</aside>` : "";
  return `<section>\n${body}${notes}\n</section>`;
}

/** `</script>` and friends cannot end the JSON island early. */
const jsonForScript = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c");

/** The deck as one HTML page: reveal.js and the presenter's script, every file from the presenter's own server. */
export function renderDeckPage(deck: Deck, page: PageOptions): string {
  const sections = deck.sections
    .map((slides) =>
      slides.length === 1 ? renderSlide(slides[0] as Slide) : `<section>\n${slides.map(renderSlide).join("\n")}\n</section>`,
    )
    .join("\n");
  const data = {
    lesson: deck.lesson,
    audience: deck.audience,
    teachMinutes: deck.minutes.teach,
    startedAt: page.startedAt,
    className: page.className ?? null,
    pulse: page.pulse === true,
    cells: deck.cells.map((c) => ({ id: c.id, role: c.role })),
    solutions: Object.fromEntries(deck.cells.filter((c) => c.solution !== undefined).map((c) => [c.id, c.solution])),
  };
  const r = page.revealBase;
  const pick = page.className
    ? `<button type="button" data-action="pick" title="Pick the next student of ${escapeHtml(page.className)}">Pick</button>`
    : "";
  const pickAmong =
    page.className && page.pulse
      ? `<button type="button" data-action="pick-stuck" data-pulse-only hidden title="Pick among those stuck on this exercise">Pick stuck</button>` +
        `<button type="button" data-action="pick-done" data-pulse-only hidden title="Pick among those who passed this exercise">Pick done</button>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(deck.title)}</title>
<link rel="stylesheet" href="${r}/reset.css">
<link rel="stylesheet" href="${r}/reveal.css">
<link rel="stylesheet" href="${r}/theme/black-contrast.css" id="theme" data-dark="${r}/theme/black-contrast.css" data-light="${r}/theme/white-contrast.css">
<link rel="stylesheet" href="${r}/plugin/highlight/monokai.css">
<link rel="stylesheet" href="${page.staticBase}/presenter.css">
</head>
<body>
<div class="reveal"><div class="slides">
${sections}
</div></div>
<div class="toolbar" data-toolbar>
<button type="button" data-action="restart" title="Restart the kernel: every cell runs again">⟳ Restart</button>
<button type="button" data-action="theme" title="Light or dark">◐ Theme</button>
${pick}${pickAmong}<span class="kernel-status" data-kernel-status></span>
</div>
<div class="pulse-panel" data-pulse-panel hidden aria-live="polite"></div>
<div class="picked" data-picked-panel hidden><div class="picked-name" data-picked></div><div class="picked-caption" data-picked-caption></div><div class="picked-chart" data-answers></div></div>
<script type="application/json" id="deck-data">${jsonForScript(data)}</script>
<script src="${r}/reveal.js"></script>
<script src="${r}/plugin/notes.js"></script>
<script src="${r}/plugin/highlight.js"></script>
<script type="module" src="${page.staticBase}/presenter.js"></script>
</body>
</html>
`;
}
