/**
 * One learner's feedback page: a self-contained HTML file (inline CSS, no
 * scripts, nothing fetched) that reads on a phone and prints cleanly.
 * Pure: results in, text out. Everything that comes from the results or the
 * learner's answers is untrusted and escaped; hidden tests' code is never here.
 */

import escapeHtml from "escape-html";
import { formatPoints, OUTPUT_CAP, roundPoints, totalPoints, type LearnerResults, type Status, type TestOutcome } from "./results.js";

export interface FeedbackContext {
  /** The lesson's title, as the learner saw it. */
  readonly title: string;
  /** The lesson's exercises in lesson order. */
  readonly exercises: readonly { id: string; points: number }[];
  /** The learner's answer code, by exercise id. */
  readonly answers: ReadonlyMap<string, string>;
}

const html = (text: string | number): string => escapeHtml(String(text));
const pointsWord = (n: number): string => (roundPoints(n) === 1 ? "point" : "points");

const ICON: Record<Status, { icon: string; words: string }> = {
  pass: { icon: "✓", words: "passed" },
  fail: { icon: "✗", words: "not yet" },
  error: { icon: "!", words: "could not run" },
};

const OVERALL: Record<Status, { words: string; detail: string }> = {
  pass: { words: "Pass", detail: "Every test passed. Well done!" },
  fail: { words: "Not yet", detail: "Some tests did not pass yet. Each one below says what was expected." },
  error: { words: "Could not be graded", detail: "Something stopped the grader from running all the tests." },
};

function capped(output: string): string {
  if (output.length <= OUTPUT_CAP) return output;
  return `${output.slice(0, OUTPUT_CAP)}\n… (${output.length - OUTPUT_CAP} more characters not shown)`;
}

function renderTest(t: TestOutcome): string {
  const { icon, words } = ICON[t.status];
  return [
    `<li class="test ${t.status}">`,
    `<div class="test-head"><span class="icon" aria-hidden="true">${icon}</span>`,
    `<span class="test-name">${html(t.name)}</span>`,
    `<span class="test-points">${html(formatPoints(t.points))} / ${html(formatPoints(t.max_points))}</span></div>`,
    `<span class="visually-hidden">${words}</span>`,
    t.message !== undefined && t.message !== "" ? `<p class="message">${html(t.message)}</p>` : "",
    t.output !== undefined && t.output !== ""
      ? `<p class="label">Your code printed</p><pre class="output">${html(capped(t.output))}</pre>`
      : "",
    `</li>`,
  ].join("");
}

/** How much of a learner's answer the page shows. */
const ANSWER_CAP = 20_000;

function renderAnswer(answer: string | undefined): string {
  if (answer === undefined) return `<p class="missing">Your answer: no answer found for this exercise.</p>`;
  if (answer.trim() === "") return `<p class="missing">Your answer: the answer cell was empty.</p>`;
  const shown =
    answer.length <= ANSWER_CAP ? answer : `${answer.slice(0, ANSWER_CAP)}\n… (${answer.length - ANSWER_CAP} more characters not shown)`;
  return `<p class="label">Your answer</p><pre class="answer"><code>${html(shown)}</code></pre>`;
}

function renderExercise(n: number, id: string, maxPoints: number, tests: readonly TestOutcome[], answer: string | undefined): string {
  const scored = totalPoints(tests);
  const state =
    tests.length === 0
      ? "none"
      : tests.some((t) => t.status === "error")
        ? "error"
        : tests.every((t) => t.status === "pass")
          ? "pass"
          : "fail";
  return [
    `<section class="exercise ${state}" id="exercise-${html(id)}">`,
    `<h2><span class="number">${n}.</span> <span class="exercise-id">${html(id)}</span>`,
    `<span class="exercise-points">${html(formatPoints(scored))} / ${html(formatPoints(maxPoints))} ${pointsWord(maxPoints)}</span></h2>`,
    tests.length > 0
      ? `<ul class="tests">${tests.map(renderTest).join("")}</ul>`
      : `<p class="missing">No test results for this exercise.</p>`,
    renderAnswer(answer),
    `</section>`,
  ].join("\n");
}

const STYLE = `
:root{color-scheme:light;--green:#1a7f37;--green-bg:#e9f7ec;--amber:#9a5b00;--amber-bg:#fff4de;--red:#c62828;--red-bg:#fdecec;--ink:#1f2328;--muted:#5b636d;--line:#e3ddd3;--paper:#fffdf9}
*{box-sizing:border-box}
body{margin:0;background:var(--paper);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:46rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:0 0 .25rem}
.learner{color:var(--muted);margin:0 0 1.25rem}
.learner strong{color:var(--ink)}
.summary{border-radius:12px;padding:1rem 1.25rem;margin-bottom:1.5rem;border-left:6px solid}
.summary.pass{background:var(--green-bg);border-color:var(--green)}
.summary.fail{background:var(--amber-bg);border-color:var(--amber)}
.summary.error{background:var(--red-bg);border-color:var(--red)}
.score{font-size:2rem;font-weight:700;line-height:1.1;margin:0}
.score small{font-size:1rem;font-weight:400;color:var(--muted)}
.status{font-weight:700;font-size:1.1rem;margin:.35rem 0 .15rem}
.summary.pass .status{color:var(--green)}.summary.fail .status{color:var(--amber)}.summary.error .status{color:var(--red)}
.summary p{margin:.2rem 0}
.grader-message{white-space:pre-wrap;overflow-wrap:anywhere}
.notes{background:#fff;border:1px solid var(--line);border-radius:12px;padding:.75rem 1.25rem;margin-bottom:1.5rem}
.notes h2{font-size:1.05rem;margin:0 0 .25rem}
.notes ul{margin:0;padding-left:1.25rem}
.exercise{background:#fff;border:1px solid var(--line);border-top:5px solid var(--line);border-radius:12px;padding:1rem 1.25rem;margin-bottom:1.25rem}
.exercise.pass{border-top-color:var(--green)}.exercise.fail{border-top-color:var(--amber)}.exercise.error{border-top-color:var(--red)}
.exercise h2{font-size:1.2rem;margin:0 0 .75rem;display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:baseline}
.exercise-id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.number{color:var(--muted)}
.exercise-points{margin-left:auto;font-size:.95rem;font-weight:600;white-space:nowrap}
.tests{list-style:none;margin:0 0 1rem;padding:0}
.test{padding:.5rem 0;border-top:1px solid var(--line);break-inside:avoid}
.test:first-child{border-top:0}
.test-head{display:flex;gap:.5rem;align-items:baseline}
.icon{font-weight:700;width:1.2rem;flex:none;text-align:center}
.test.pass .icon{color:var(--green)}.test.fail .icon{color:var(--amber)}.test.error .icon{color:var(--red)}
.test-name{flex:1;overflow-wrap:anywhere}
.test-points{color:var(--muted);font-size:.9rem;white-space:nowrap}
.message{margin:.25rem 0 0 1.7rem;white-space:pre-wrap;overflow-wrap:anywhere}
.test .label,.test pre{margin-left:1.7rem}
.label{font-size:.85rem;font-weight:600;color:var(--muted);margin:.6rem 0 .2rem}
pre{margin:0;padding:.6rem .75rem;border-radius:8px;font:.85rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
pre.output{background:#f6f3ee;border:1px solid var(--line)}
pre.answer{background:#2b2a33;color:#f4f1ea}
.missing{color:var(--muted);font-style:italic;margin:.5rem 0 0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:30rem){main{padding:1rem .6rem 2rem}.exercise,.summary,.notes{padding:.8rem .85rem}.message,.test .label,.test pre{margin-left:0}}
@media print{body{background:#fff;font-size:11pt}main{max-width:none;padding:0}.exercise,.notes,.summary{break-inside:avoid-page;border-color:#999}pre.answer{background:#fff;color:#000;border:1px solid #999}.summary{background:#fff}}
`;

/**
 * The feedback page for one learner: total and status, what the grader noticed,
 * then each exercise in lesson order with its tests and the learner's own answer.
 *
 * @example
 * const page = renderFeedback(results, { title: "Keeping a roster", exercises, answers });
 * await writeFile("feedback/ada.html", page);
 */
export function renderFeedback(results: LearnerResults, context: FeedbackContext): string {
  const overall = OVERALL[results.status];
  const passed = results.tests.filter((t) => t.status === "pass").length;
  const inLesson = new Set(context.exercises.map((e) => e.id));
  // Tests for exercises the lesson does not list are still shown, after the lesson's own.
  const extra = [...new Set(results.tests.map((t) => t.exercise).filter((id) => !inLesson.has(id)))];
  const sections = [
    ...context.exercises.map((e) => ({ id: e.id, points: e.points })),
    ...extra.map((id) => ({ id, points: results.tests.filter((t) => t.exercise === id).reduce((sum, t) => sum + t.max_points, 0) })),
  ].map((e, i) =>
    renderExercise(
      i + 1,
      e.id,
      e.points,
      results.tests.filter((t) => t.exercise === e.id),
      context.answers.get(e.id),
    ),
  );

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${html(context.title)}: feedback for ${html(results.learner)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${html(context.title)}</h1>
<p class="learner">Feedback for <strong>${html(results.learner)}</strong></p>
</header>
<section class="summary ${results.status}">
<p class="score">${html(formatPoints(results.score))} <small>/ ${html(formatPoints(results.max_score))} ${pointsWord(results.max_score)}</small></p>
<p class="status">${overall.words}</p>
<p>${results.status === "error" && results.message !== undefined ? "" : overall.detail}${results.tests.length > 0 ? ` ${passed} of ${results.tests.length} tests passed.` : ""}</p>
${results.message !== undefined && results.message !== "" ? `<p class="grader-message">${html(results.message)}</p>` : ""}
</section>
${
  results.notes.length > 0
    ? `<section class="notes">\n<h2>What the grader noticed</h2>\n<ul>${results.notes.map((n) => `<li>${html(n)}</li>`).join("")}</ul>\n</section>`
    : ""
}
${sections.join("\n")}
</main>
</body>
</html>
`;
}
