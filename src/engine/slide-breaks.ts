/**
 * Where a lesson's slides break, decided once for both decks that show it: the
 * presenter's (slides.ts) and Jupyter's own (`slideshow.slide_type` in the built
 * notebooks, read by `jupyter nbconvert --to slides` and RISE).
 *
 * - a `#` or `##` heading starts a slide;
 * - a section too long for one screen goes on in vertical sub-slides, cut between cells;
 * - the author overrides both: `slide=new` starts a sub-slide, `slide=join` never breaks;
 * - instructor notes are speaker notes of the slide they follow.
 */
import type { SlideHint } from "./lesson.js";

/** Jupyter's names (nbformat's `slideshow.slide_type`): "-" goes on the slide before. */
export type SlideType = "slide" | "subslide" | "-" | "notes";

export interface SlideUnit {
  readonly kind: "markdown" | "code" | "notes";
  readonly source: string;
  readonly slide?: SlideHint;
}

/** What fits on one projected slide, in lines of code at the deck's type size (a code cell also has its buttons and output). */
export const SLIDE_LINES = 22;
const CODE_CHROME_LINES = 3;
const MARKDOWN_WIDTH = 80;

/** Roughly how many lines of the slide this cell fills. */
export function slideLines(unit: SlideUnit): number {
  const lines = unit.source.split("\n");
  if (unit.kind === "code") return lines.length + CODE_CHROME_LINES;
  if (unit.kind === "notes") return 0;
  let total = 0;
  let inFence = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence || /^\s*(```|~~~)/.test(line))
      total += 0.8; // code in Markdown: one line each, smaller type
    else if (line.trim() === "") total += 0.4;
    else if (/^#{1,3}\s/.test(line)) total += 1.6;
    else total += Math.ceil(line.length / MARKDOWN_WIDTH);
  }
  return total;
}

const isHeading = (unit: SlideUnit): boolean => unit.kind === "markdown" && /^#{1,2}\s/.test(unit.source);

/** Each unit's slide type, in order. */
export function slideTypes(units: readonly SlideUnit[], budget = SLIDE_LINES): SlideType[] {
  let filled = 0;
  let started = false;
  return units.map((unit) => {
    if (unit.kind === "notes") return "notes";
    const lines = slideLines(unit);
    let type: SlideType;
    if (!started || (isHeading(unit) && unit.slide !== "join")) type = "slide";
    else if (unit.slide === "join") type = "-";
    else if (unit.slide === "new" || (filled > 0 && filled + lines > budget)) type = "subslide";
    else type = "-";
    started = true;
    filled = type === "-" ? filled + lines : lines;
    return type;
  });
}
