/**
 * Lesson source: one Markdown file per lesson, read into cells.
 *
 * ```ts exercise=first-student points=2   the learner's answer (has SOLUTION markers)
 * ```ts check=first-student               the self-check (may have HIDDEN TESTS markers)
 * ```ts wrong=first-student               a plausible wrong answer, for the lesson's tests only
 * ```ts locked                            a code cell the learner should not change
 * ```ts                                   any other code cell
 * ```ts output="true\n[ 'a', 'b' ]"       a demo that must print exactly this (… matches any text
 *                                          within a line); the lesson's tests run it and compare
 * ```instructor                           Markdown for the instructor copy only
 * ```ts slide=new  /  <!-- slide=new -->   start a new (sub-)slide here; slide=join keeps this with the one before
 *
 * Everything between fences is Markdown. Front matter (YAML) holds the title,
 * the minutes it takes (`minutes: { teach: 35, exercises: 20 }`: taught live, then
 * the learners' own time on the exercises), the objectives and the key points.
 * The parser also says which cells may hold which markers (the marker text
 * itself is markers.ts's), and pairs each exercise's cells once, for every stage.
 * Markdown is cut into cells at each `#`/`##` heading and slide comment, so
 * that every slide break of the deck (slide-breaks.ts) falls between cells.
 */
import path from "node:path";
import MarkdownIt from "markdown-it";
import { parse as parseYaml } from "yaml";
import { failed, ok, type Problem, type Result } from "./problem.js";
import { hiddenTestPlans, markedRegions, NO_TESTER, type MarkerKind } from "./markers.js";

export interface LessonCellBase {
  /** 1-based line of the cell's first line in the lesson file. */
  readonly line: number;
  readonly source: string;
  /** The author's slide break: `new` forces one before this cell, `join` keeps it on the slide before. */
  readonly slide?: SlideHint;
}
export type SlideHint = "new" | "join";
const SLIDE_HINTS: readonly string[] = ["new", "join"] satisfies SlideHint[];
/** `<!-- slide=new -->` or `<!-- slide=join -->` alone on its line, in the Markdown. */
const SLIDE_COMMENT = /^<!--\s*slide=(\S*)\s*-->\s*$/;
export interface MarkdownCell extends LessonCellBase {
  readonly kind: "markdown";
}
export interface InstructorNote extends LessonCellBase {
  readonly kind: "instructor";
}
export interface PlainCode extends LessonCellBase {
  readonly kind: "code";
  readonly locked: boolean;
  /** What the cell must print when run (a claim the lesson makes, shown by code); `…` matches any text within a line. */
  readonly output?: string;
}
export interface AnswerCell extends LessonCellBase {
  readonly kind: "answer";
  readonly exercise: string;
  readonly points: number;
}
export interface CheckCell extends LessonCellBase {
  readonly kind: "check";
  readonly exercise: string;
}
/** A plausible mistake: its check must fail it with a message that helps. Never in a notebook. */
export interface WrongAnswer extends LessonCellBase {
  readonly kind: "wrong";
  readonly exercise: string;
}
export type LessonCell = MarkdownCell | InstructorNote | PlainCode | AnswerCell | CheckCell | WrongAnswer;

export interface Lesson {
  /** The file name without `.md`, e.g. `01-arrays`. */
  readonly id: string;
  readonly file: string;
  readonly title: string;
  readonly minutes: Minutes;
  readonly objectives: readonly string[];
  readonly keypoints: readonly string[];
  readonly cells: readonly LessonCell[];
  /** Each exercise's answer with its check and wrong answers, in lesson order: paired once, here, for every stage after. */
  readonly exercises: readonly Exercise[];
}

/** How long a lesson takes: taught live, then the learners' own time on its exercises. */
export interface Minutes {
  readonly teach: number;
  readonly exercises: number;
}

export interface Exercise {
  readonly id: string;
  readonly points: number;
  readonly answer: AnswerCell;
  readonly check: CheckCell;
  readonly wrongAnswers: readonly WrongAnswer[];
}

const LESSON_ID = /^\d\d-[a-z0-9]+(-[a-z0-9]+)*$/;
/** `01-arrays.md` is a lesson; other files in lessons/ (the glossary) are not. */
export const isLessonFile = (name: string): boolean => name.endsWith(".md") && LESSON_ID.test(name.slice(0, -3));
const EXERCISE_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const CODE_LANGUAGES = new Set(["ts", "typescript"]);

/** `exercise=first-student points=2 locked` → { exercise: "first-student", points: 2, locked: true } */
export function parseFenceAttributes(info: string): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const match of info.matchAll(/([A-Za-z_][\w-]*)(?:=("(?:[^"\\]|\\.)*"|\S+))?/g)) {
    const [, key, raw] = match;
    if (key === undefined) continue;
    if (raw === undefined) attributes[key] = true;
    else if (raw.startsWith('"')) attributes[key] = raw.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    else attributes[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return attributes;
}

interface FrontMatter {
  readonly data: unknown;
  readonly bodyStart: number;
  readonly error?: { readonly line: number; readonly message: string };
}

/** Splits `---\nyaml\n---\n` off the top; bodyStart is the 0-based line where the body begins. */
function splitFrontMatter(lines: readonly string[]): FrontMatter | undefined {
  if (lines[0]?.trim() !== "---") return undefined;
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
  if (end < 0) return undefined;
  try {
    return { data: parseYaml(lines.slice(1, end).join("\n")), bodyStart: end + 1 };
  } catch (error) {
    const { linePos, message } = error as { linePos?: { line: number }[]; message: string };
    return {
      data: undefined,
      bodyStart: end + 1,
      error: { line: 1 + (linePos?.[0]?.line ?? 1), message: `the front matter is not valid YAML: ${message.split("\n")[0]}` },
    };
  }
}

function readMeta(data: unknown, file: string): Result<Pick<Lesson, "title" | "minutes" | "objectives" | "keypoints">> {
  const problems: Problem[] = [];
  const say = (message: string): void => void problems.push({ file, line: 1, message });
  if (typeof data !== "object" || data === null) {
    return failed([{ file, line: 1, message: "the front matter must be YAML keys: title, minutes, objectives, keypoints" }]);
  }
  const meta = data as Record<string, unknown>;
  const strings = (key: string): string[] => {
    const value = meta[key];
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value as string[];
    say(`front matter '${key}' must be a list of at least one sentence`);
    return [];
  };
  const title = typeof meta.title === "string" && meta.title.trim() ? meta.title : (say("front matter 'title' is missing"), "");
  const minutes =
    readMinutes(meta.minutes) ??
    (say("front matter 'minutes' must say the minutes taught and the minutes of exercises, like minutes: { teach: 35, exercises: 20 }"),
    { teach: 0, exercises: 0 });
  const objectives = strings("objectives");
  const keypoints = strings("keypoints");
  return problems.length ? failed(problems) : ok({ title, minutes, objectives, keypoints });
}

function readMinutes(value: unknown): Minutes | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { teach, exercises, ...rest } = value as Record<string, unknown>;
  const count = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0;
  return count(teach) && teach > 0 && count(exercises) && Object.keys(rest).length === 0 ? { teach, exercises } : undefined;
}

/** Turns one fenced block into a cell, or says what is wrong with its info string. */
function fenceToCell(info: string, source: string, line: number, file: string): LessonCell | Problem | undefined {
  const trimmed = info.trim();
  const language = trimmed.split(/\s/, 1)[0] ?? "";
  const rest = trimmed.slice(language.length); // as written: a quoted output="…" keeps its spaces
  if (language === "instructor") return { kind: "instructor", source, line }; // notes go with the slide they follow
  if (!CODE_LANGUAGES.has(language)) return undefined; // another language: stays in the Markdown as an example
  const attributes = parseFenceAttributes(rest);
  const known = new Set(["exercise", "points", "check", "wrong", "locked", "output", "slide"]);
  const unknown = Object.keys(attributes).filter((k) => !known.has(k));
  if (unknown.length)
    return {
      file,
      line,
      message: `unknown cell attribute '${unknown[0]}' (use exercise=ID points=N, check=ID, wrong=ID, locked, output="…" or slide=new|join)`,
    };
  const { exercise, points, check, wrong, locked, output, slide: hint } = attributes;
  if (hint !== undefined && !SLIDE_HINTS.includes(String(hint)))
    return { file, line, message: `slide=${String(hint)} must be slide=new (start a slide here) or slide=join (stay on the slide before)` };
  const slide = hint === undefined ? {} : { slide: hint as SlideHint };
  if (output !== undefined && (exercise !== undefined || check !== undefined || wrong !== undefined)) {
    return { file, line, message: 'output="…" belongs on a demo cell, not on an exercise, check or wrong answer' };
  }
  if (output !== undefined && typeof output !== "string")
    return { file, line, message: 'output= takes the printed text in double quotes, like output="[ 1, 2 ]" (\\n for a new line)' };
  if (exercise !== undefined) {
    if (typeof exercise !== "string" || !EXERCISE_ID.test(exercise))
      return {
        file,
        line,
        message: `exercise id '${String(exercise)}' must be lower-case words joined by '-', e.g. exercise=first-student`,
      };
    if (typeof points !== "number" || !Number.isInteger(points) || points < 1)
      return { file, line, message: `exercise '${exercise}' needs points=N, a whole number of at least 1` };
    return { kind: "answer", exercise, points, source, line, ...slide };
  }
  if (check !== undefined) {
    if (typeof check !== "string" || !EXERCISE_ID.test(check))
      return { file, line, message: `check=${String(check)} must name an exercise id, e.g. check=first-student` };
    return { kind: "check", exercise: check, source, line, ...slide };
  }
  if (wrong !== undefined) {
    if (typeof wrong !== "string" || !EXERCISE_ID.test(wrong))
      return { file, line, message: `wrong=${String(wrong)} must name an exercise id, e.g. wrong=first-student` };
    return { kind: "wrong", exercise: wrong, source, line, ...slide };
  }
  if (points !== undefined) return { file, line, message: "points= belongs on an exercise cell: add exercise=ID" };
  return { kind: "code", locked: locked === true, source, line, ...slide, ...(output === undefined ? {} : { output }) };
}

/** Reads a lesson's text into its cells, or every problem found in it. */
export function parseLesson(text: string, file: string): Result<Lesson> {
  const id = path.basename(file).replace(/\.md$/, "");
  if (!LESSON_ID.test(id))
    return failed([{ file, message: `a lesson file is named NN-words.md (like 01-arrays.md), not '${path.basename(file)}'` }]);
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const front = splitFrontMatter(lines);
  if (!front)
    return failed([
      {
        file,
        line: 1,
        message: "the lesson must start with YAML front matter between two '---' lines (title, minutes, objectives, keypoints)",
      },
    ]);
  if (front.error) return failed([{ file, ...front.error }]);
  const meta = readMeta(front.data, file);

  const problems: Problem[] = meta.ok ? [] : [...meta.problems];
  const cells: LessonCell[] = [];
  let markdownFrom = front.bodyStart; // 0-based line where pending Markdown starts
  let pendingSlide: SlideHint | undefined; // from a slide comment, for the next cell
  const takeSlide = (own?: SlideHint): { slide?: SlideHint } => {
    const slide = own ?? pendingSlide;
    pendingSlide = undefined;
    return slide === undefined ? {} : { slide };
  };
  const flushMarkdown = (until: number): void => {
    const source = lines.slice(markdownFrom, until).join("\n").trim();
    if (source) cells.push({ kind: "markdown", source, line: markdownFrom + 1, ...takeSlide() });
  };

  const body = lines.slice(front.bodyStart).join("\n");
  for (const token of new MarkdownIt().parse(body, {})) {
    if (!token.map) continue;
    const start = token.map[0] + front.bodyStart;
    const end = token.map[1] + front.bodyStart; // exclusive
    const topLevel = token.level === 0;
    if (topLevel && token.type === "heading_open" && (token.tag === "h1" || token.tag === "h2")) {
      flushMarkdown(start); // a heading starts a cell: the deck starts a slide there
      markdownFrom = start;
      continue;
    }
    // With HTML off, the comment is text: the first line of a paragraph (the rest of it is the next cell's).
    const comment = topLevel && token.type === "paragraph_open" ? SLIDE_COMMENT.exec(lines[start]?.trim() ?? "") : null;
    if (comment) {
      flushMarkdown(start);
      markdownFrom = start + 1;
      if (!SLIDE_HINTS.includes(comment[1] ?? ""))
        problems.push({ file, line: start + 1, message: `<!-- slide=${comment[1]} --> must be <!-- slide=new --> or <!-- slide=join -->` });
      else pendingSlide = comment[1] as SlideHint;
      continue;
    }
    if (token.type !== "fence") continue;
    const cell = fenceToCell(token.info, token.content.replace(/\n$/, ""), start + 2, file);
    if (cell === undefined) continue;
    if ("message" in cell) {
      problems.push(cell);
      continue;
    }
    const closing = lines[end - 1]?.trim() ?? "";
    if (end - 1 === start || !/^(`{3,}|~{3,})$/.test(closing)) {
      problems.push({ file, line: start + 1, message: "this code fence is never closed: add a line with ``` after the code" });
    }
    flushMarkdown(start);
    cells.push(cell.kind === "instructor" ? cell : { ...cell, ...takeSlide(cell.slide) });
    markdownFrom = end;
  }
  flushMarkdown(lines.length);

  problems.push(...findMarkerProblems(cells, file), ...findExerciseProblems(cells, file));
  if (problems.length || !meta.ok) return failed(problems);
  return ok({ id, file, ...meta.value, cells, exercises: exercisesOf(cells) });
}

/** Pairs each exercise's answer cell with its check cell, in lesson order. */
function exercisesOf(cells: readonly LessonCell[]): Exercise[] {
  const exercises: Exercise[] = [];
  for (const answer of cells) {
    if (answer.kind !== "answer") continue;
    const check = cells.find((c): c is CheckCell => c.kind === "check" && c.exercise === answer.exercise);
    const wrongAnswers = cells.filter((c): c is WrongAnswer => c.kind === "wrong" && c.exercise === answer.exercise);
    if (check) exercises.push({ id: answer.exercise, points: answer.points, answer, check, wrongAnswers });
  }
  return exercises;
}

function findExerciseProblems(cells: readonly LessonCell[], file: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, { answer?: number; check?: number }>();
  cells.forEach((cell, index) => {
    if (cell.kind !== "answer" && cell.kind !== "check") return;
    const entry = seen.get(cell.exercise) ?? {};
    if (entry[cell.kind] !== undefined)
      problems.push({
        file,
        line: cell.line,
        message: `exercise '${cell.exercise}' has a second ${cell.kind} cell; each exercise has one answer cell and one check cell`,
      });
    entry[cell.kind] = index;
    seen.set(cell.exercise, entry);
  });
  for (const wrong of cells) {
    if (wrong.kind === "wrong" && !seen.has(wrong.exercise))
      problems.push({ file, line: wrong.line, message: `wrong=${wrong.exercise} names no exercise of this lesson` });
  }
  for (const [exercise, { answer, check }] of seen) {
    const line = cells[answer ?? check ?? 0]?.line;
    if (answer === undefined)
      problems.push({
        file,
        line,
        message: `check=${exercise} has no answer cell: add a \`\`\`ts exercise=${exercise} points=N cell before it`,
      });
    else if (check === undefined)
      problems.push({ file, line, message: `exercise '${exercise}' has no self-check: add a \`\`\`ts check=${exercise} cell after it` });
    else if (check < answer)
      problems.push({ file, line, message: `the check for '${exercise}' comes before its answer cell; move it after` });
  }
  return problems;
}

/** Where a cell's markers are missing, unbalanced or in the wrong kind of cell. */
export function findMarkerProblems(cells: readonly LessonCell[], file: string): Problem[] {
  const problems: Problem[] = [];
  for (const cell of cells) {
    if (cell.kind === "markdown" || cell.kind === "instructor") continue;
    const at = (lineInCell: number): number => cell.line + lineInCell - 1;
    const { regions, problem } = markedRegions(cell.source);
    if (problem) {
      problems.push({ file, line: at(problem.line ?? 1), message: problem.message });
      continue;
    }
    const allowed: MarkerKind | undefined = cell.kind === "answer" ? "SOLUTION" : cell.kind === "check" ? "HIDDEN TESTS" : undefined;
    for (const region of regions.filter((r) => r.kind !== allowed)) {
      const where =
        region.kind === "SOLUTION" ? "an exercise's answer cell (```ts exercise=ID points=N)" : "an exercise's check cell (```ts check=ID)";
      problems.push({ file, line: at(region.begin + 1), message: `// BEGIN ${region.kind} belongs only in ${where}` });
    }
    if (cell.kind === "check") {
      for (const plan of hiddenTestPlans(cell.source)) {
        if (plan.tests > 0 && plan.tester === undefined) problems.push({ file, line: at(plan.region.begin + 1), message: NO_TESTER });
      }
    }
    if (cell.kind === "answer" && !regions.some((r) => r.kind === "SOLUTION")) {
      problems.push({
        file,
        line: cell.line,
        message: `exercise '${cell.exercise}' has no // BEGIN SOLUTION … // END SOLUTION around the part the learner writes`,
      });
    }
  }
  return problems;
}
