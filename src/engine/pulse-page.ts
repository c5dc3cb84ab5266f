/**
 * The pulse dashboard's HTML: the page, and the panel of one lesson that the page
 * swaps in each time the event stream sends a new one. The panel is drawn here,
 * on the server (charts by display.ts's renderBarChart), so the page's own script
 * only connects, chooses, and replaces.
 */
import escapeHtml from "escape-html";
import { renderBarChart } from "../display.js";
import type { LessonPulse } from "./pulse-summary.js";

/** One lesson's pulse as HTML: per exercise its counts, a chart, and who is stuck. */
export function renderPulsePanel(pulse: LessonPulse): string {
  const exercises = pulse.exercises.map((e) => {
    const { svg } = renderBarChart({ passed: e.passed.length, trying: e.trying.length, "not started": e.notStarted.length });
    const stuck =
      e.stuck.length === 0
        ? `<p class="none">nobody stuck for ${pulse.stuckMinutes} minutes or more</p>`
        : `<p class="stuck">stuck: ${e.stuck.map((s) => `${escapeHtml(s.name)} (${s.minutes} min)`).join(", ")}</p>`;
    return [
      `<section class="exercise" data-exercise="${escapeHtml(e.exercise)}">`,
      `<h2>${escapeHtml(e.exercise)}</h2>`,
      `<p class="counts"><span data-count="passed">${e.passed.length}</span> passed · ` +
        `<span data-count="trying">${e.trying.length}</span> trying · ` +
        `<span data-count="not-started">${e.notStarted.length}</span> not started</p>`,
      svg,
      stuck,
      "</section>",
    ].join("\n");
  });
  const who = pulse.learners === 1 ? "1 learner" : `${pulse.learners} learners`;
  return [`<p class="who">${escapeHtml(pulse.lesson)} · ${who}</p>`, ...exercises].join("\n");
}

export function renderDashboardPage(options: {
  readonly className: string;
  readonly lessons: readonly string[];
  readonly lesson: string;
  readonly stuckMinutes: number;
  readonly panel: string;
  readonly nonce: string;
}): string {
  const { className, lessons, lesson, stuckMinutes, panel, nonce } = options;
  const choices = lessons.map((id) => `<option value="${escapeHtml(id)}"${id === lesson ? " selected" : ""}>${escapeHtml(id)}</option>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Class pulse · ${escapeHtml(className)}</title>
<style>
body { font-family: sans-serif; margin: 1.5rem; color: #1b1b1b; background: #fff; }
header { display: flex; gap: 1.5rem; align-items: center; flex-wrap: wrap; }
#panel { display: grid; grid-template-columns: repeat(auto-fill, minmax(26rem, 1fr)); gap: 1rem; margin-top: 1rem; }
.who { grid-column: 1 / -1; margin: 0; color: #444; }
.exercise { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; }
.exercise h2 { font-size: 1.1rem; margin: 0.3rem 0; }
.stuck { color: #a30000; font-weight: bold; }
.none { color: #555; }
#state { color: #555; }
</style>
</head>
<body>
<header>
<h1>Class pulse · ${escapeHtml(className)}</h1>
<label>Lesson <select id="lesson">${choices.join("")}</select></label>
<label>Stuck after <input id="stuck" type="number" min="1" max="240" value="${stuckMinutes}"> minutes</label>
<span id="state" aria-live="polite">connecting…</span>
</header>
<main id="panel">${panel}</main>
<script nonce="${nonce}">
const panel = document.getElementById("panel");
const state = document.getElementById("state");
const lessonBox = document.getElementById("lesson");
const stuckBox = document.getElementById("stuck");
let source;
function connect() {
  if (source) source.close();
  const query = new URLSearchParams({ lesson: lessonBox.value, stuck: stuckBox.value });
  history.replaceState(null, "", "/dashboard?" + query);
  source = new EventSource("/dashboard/events?" + query);
  source.addEventListener("pulse", (event) => {
    panel.innerHTML = JSON.parse(event.data).html;
    state.textContent = "live";
  });
  source.onerror = () => { state.textContent = "reconnecting…"; };
}
lessonBox.addEventListener("change", connect);
stuckBox.addEventListener("change", connect);
connect();
</script>
</body>
</html>
`;
}
