/**
 * The presenter's page: reveal.js shows the deck (slides.ts made it), this runs its
 * cells through the presenter's server (present-server.ts).
 *
 * Plain JavaScript, served as it is: it is small, runs only in the browser, and so
 * needs no build step and no DOM types in the project's TypeScript; the browser
 * test (test/present-browser.test.ts) is what checks it.
 *
 * Run order: running a cell first runs every earlier cell of the lesson that this
 * kernel has not run yet (self-checks excepted: nothing later needs them), in lesson
 * order, with the code their slides show now. So a later slide never fails because
 * an earlier one was skipped, and a cell already run is not run twice. Demo cells
 * also run the first time their slide is shown; exercises and checks wait for Run.
 */
/* global document, window, location, URLSearchParams, CSS, Reveal, RevealNotes, RevealHighlight */

const data = JSON.parse(document.getElementById("deck-data").textContent);
/** The speaker view's previews load this page too: they show, never run. */
const preview = new URLSearchParams(location.search).has("receiver");
const order = data.cells;
/** Cells this kernel has run (as the server says), so catching up skips them. */
const ran = new Set();
const shown = new Set();
let hljs;

const cellElement = (id) => document.querySelector(`.reveal [data-cell-id="${CSS.escape(id)}"]`);
const codeOf = (id) => cellElement(id)?.querySelector("textarea")?.value ?? "";

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Terminal colours have no place on a slide. */
const ESC = String.fromCharCode(27);
const stripAnsi = (text) => text.replace(new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]`, "g"), "");

/** The token this page was opened with: every request carries it in a header (never a cookie, which other local servers would get too). */
const TOKEN = new URLSearchParams(location.search).get("token") ?? "";

async function api(route, body) {
  const response = await fetch(`/api/${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "x-rollcall-token": TOKEN, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `the presenter answered ${response.status}` }));
  if (!response.ok) throw new Error(answer.error ?? `the presenter answered ${response.status}`);
  return answer;
}

const kernelStatus = () => document.querySelector("[data-kernel-status]");

function setKernelStatus(text) {
  const status = kernelStatus();
  if (status) status.textContent = text;
}

// ---- the editor: a textarea over its own highlighted copy ----

function paint(cell) {
  const textarea = cell.querySelector("textarea");
  const view = cell.querySelector(".editor-view");
  const code = `${textarea.value}\n`;
  view.innerHTML = hljs ? hljs.highlight(code, { language: "typescript", ignoreIllegals: true }).value : escapeHtml(code);
}

function setUpEditor(cell) {
  const textarea = cell.querySelector("textarea");
  paint(cell);
  textarea.addEventListener("input", () => paint(cell));
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.shiftKey) {
      event.preventDefault();
      void run(cell.dataset.cellId);
    } else if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      paint(cell);
    } else if (event.key === "Escape") textarea.blur();
    event.stopPropagation(); // typing is not navigating
  });
}

// ---- outputs, as Jupyter shows them ----

const node = (tag, className, text) => {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
};

/** Node's and tslab's own stack frames say nothing to a class. */
const isInternalFrame = (line) => /^\s+at .*(node:|node_modules[\\/]|\(native\)|sigintHandlersWrap)/.test(line);

/** An error as one plain sentence, with the details a click away. */
function kindError(text) {
  const clean = stripAnsi(text);
  const lines = clean.split("\n");
  const box = node("div", "error");
  const interrupted = /interrupted by `SIGINT`|ERR_SCRIPT_EXECUTION_INTERRUPTED/.test(clean);
  const headline = interrupted
    ? "Stopped: the cell was interrupted."
    : (lines.find((l) => /^\s*\w*(Error|Exception)( \[\w+\])?:/.test(l) || /^\d+:\d+ - /.test(l)) ??
      lines.find((l) => l.trim()) ??
      "Error");
  box.append(node("div", "error-headline", headline.trim()));
  // No "line N": tslab numbers the lines of the JavaScript it compiled the cell to, not the cell's.
  if (!interrupted) {
    const details = node("details");
    details.append(
      node("summary", "", "details"),
      node(
        "pre",
        "",
        lines
          .filter((l) => !isInternalFrame(l))
          .join("\n")
          .trim(),
      ),
    );
    box.append(details);
  }
  return box;
}

function mimeOutput(bundle) {
  const html = bundle["text/html"];
  const svg = bundle["image/svg+xml"];
  const join = (v) => (Array.isArray(v) ? v.join("") : String(v));
  if (html !== undefined || svg !== undefined) {
    const div = node("div", "html-output");
    div.innerHTML = join(html ?? svg);
    return div;
  }
  for (const type of ["image/png", "image/jpeg"]) {
    if (bundle[type] !== undefined) {
      const img = node("img");
      img.src = `data:${type};base64,${join(bundle[type]).trim()}`;
      return img;
    }
  }
  if (bundle["text/plain"] !== undefined) return node("pre", "text-output", stripAnsi(join(bundle["text/plain"])));
  return node("pre", "text-output", "(an output this page cannot show)");
}

function renderResult(result) {
  const cell = cellElement(result.id);
  if (!cell) return;
  const out = cell.querySelector("[data-output]");
  const status = cell.querySelector("[data-status]");
  out.replaceChildren();
  const failed = result.status !== "ok";
  for (const output of result.outputs) {
    if (output.output_type === "stream") {
      const text = Array.isArray(output.text) ? output.text.join("") : output.text;
      out.append(output.name === "stderr" && failed ? kindError(text) : node("pre", `stream ${output.name}`, stripAnsi(text)));
    } else if (output.output_type === "error") {
      out.append(kindError([`${output.ename}: ${output.evalue}`, ...output.traceback].join("\n")));
    } else out.append(mimeOutput(output.data ?? {}));
  }
  if (result.message && result.status !== "error") out.append(node("div", "run-note", result.message));
  cell.dataset.state = result.status;
  status.textContent =
    result.status === "ok"
      ? `[${result.executionCount ?? " "}] ${Math.round(result.durationMs)} ms`
      : result.status === "skipped"
        ? "not run"
        : result.status === "died"
          ? "kernel stopped: press Restart"
          : "error";
}

// ---- running ----

/** Cells in a run still waiting for its answer: another run does not ask for them again. */
const pending = new Map();
/** Bumped by Restart: what a run asked of the kernel before it says nothing of the new one. */
let kernelGeneration = 0;

function chainFor(id) {
  const index = order.findIndex((c) => c.id === id);
  const before = order.slice(0, Math.max(index, 0)).filter((c) => c.role !== "check" && !ran.has(c.id) && !pending.get(c.id));
  return [...before, order[index] ?? { id }].map((c) => ({ id: c.id, code: codeOf(c.id) }));
}

async function run(id) {
  const chain = chainFor(id);
  for (const { id: waiting } of chain) {
    pending.set(waiting, (pending.get(waiting) ?? 0) + 1);
    const cell = cellElement(waiting);
    if (cell) {
      cell.dataset.state = "running";
      cell.querySelector("[data-status]").textContent = waiting === id ? "running…" : "running (an earlier cell first)…";
    }
  }
  setKernelStatus("busy");
  const generation = kernelGeneration;
  let results = [];
  try {
    ({ results } = await api("run", { chain }));
  } catch (error) {
    const cell = cellElement(id);
    if (cell && generation === kernelGeneration) cell.querySelector("[data-status]").textContent = error.message;
  }
  const stale = generation !== kernelGeneration;
  if (stale) results = []; // the old kernel's answers: Restart cleared those cells, and its status stays
  for (const result of results) {
    if (result.status !== "skipped") ran.add(result.id);
    renderResult(result);
  }
  const answered = new Set(results.map((r) => r.id));
  for (const { id: waited } of chain) {
    pending.set(waited, (pending.get(waited) ?? 1) - 1);
    const cell = cellElement(waited);
    // The server had run it already (another window, say): it is not running any more.
    if (!answered.has(waited) && !pending.get(waited) && cell?.dataset.state === "running") {
      delete cell.dataset.state;
      cell.querySelector("[data-status]").textContent = "";
    }
  }
  // a stale run leaves Restart's words, but not a "busy" that no run is left to clear
  if (![...pending.values()].some(Boolean) && (!stale || kernelStatus()?.textContent === "busy")) setKernelStatus("");
}

function runShownDemos() {
  const slide = Reveal.getCurrentSlide();
  if (!slide || shown.has(slide)) return;
  shown.add(slide);
  for (const cell of slide.querySelectorAll("[data-cell-id]")) {
    const { cellId, role } = cell.dataset;
    if ((role === "code" || role === "locked") && !ran.has(cellId)) void run(cellId);
  }
}

async function restart() {
  setKernelStatus("restarting…");
  kernelGeneration++;
  try {
    await api("restart", {});
    ran.clear();
    shown.clear();
    for (const cell of document.querySelectorAll(".reveal [data-cell-id]")) {
      cell.querySelector("[data-output]").replaceChildren();
      cell.querySelector("[data-status]").textContent = "";
      delete cell.dataset.state;
    }
    setKernelStatus("new kernel"); // demos run again as their slides are shown, or on Run
  } catch (error) {
    setKernelStatus(error.message);
  }
}

// ---- the instructor's extras: solutions, the clock for the speaker view, the roll call ----

function revealSolution(cell, button) {
  const solution = data.solutions[cell.dataset.cellId];
  if (solution === undefined) return;
  const textarea = cell.querySelector("textarea");
  const showing = button.dataset.showing === "true";
  if (!showing) cell.dataset.stub = textarea.value;
  textarea.value = showing ? (cell.dataset.stub ?? "") : solution;
  button.dataset.showing = String(!showing);
  button.textContent = showing ? "Show solution" : "Hide solution";
  paint(cell);
}

/** The minutes left of the lesson's teaching time, counted from when the presenter started. */
function updateClock() {
  const left = Math.round(data.teachMinutes - (Date.now() - data.startedAt) / 60000);
  const text = left >= 0 ? `${left} of ${data.teachMinutes} minutes left` : `${-left} minutes over the ${data.teachMinutes}`;
  for (const clock of document.querySelectorAll("[data-minutes-left]")) clock.textContent = text;
}

function addClocks() {
  // Every slide's notes say the time, so that the speaker view (which shows the current slide's notes) has it.
  for (const slide of document.querySelectorAll(".reveal .slides section:not(:has(> section))")) {
    let notes = slide.querySelector(":scope > aside.notes");
    if (!notes) {
      notes = node("aside", "notes");
      slide.append(notes);
    }
    const clock = node("p", "minutes-left");
    clock.dataset.minutesLeft = "";
    notes.prepend(clock);
  }
  updateClock();
  window.setInterval(updateClock, 15000);
}

function barChart(counts) {
  const max = Math.max(1, ...counts.map((c) => c.count));
  const rows = counts
    .map((c, i) => {
      const y = 6 + i * 26;
      const width = Math.round((c.count / max) * 360);
      return `<text x="170" y="${y + 16}" text-anchor="end">${escapeHtml(c.name)}</text><rect x="180" y="${y + 2}" width="${width}" height="18"></rect><text x="${186 + width}" y="${y + 16}">${c.count}</text>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="${counts.length * 26 + 12}" font-size="15" fill="currentColor">${rows}</svg>`;
}

/** The exercise the slide shown now is about: its exercise or self-check cell's. */
function currentExercise() {
  const cell = Reveal.getCurrentSlide()?.querySelector('[data-role="answer"], [data-role="check"]');
  return cell ? cell.dataset.cellId.replace(/-check$/, "") : undefined;
}

/** On an exercise's slide, the class pulse of that exercise, asked again every second; elsewhere nothing. */
async function showPulse() {
  const panel = document.querySelector("[data-pulse-panel]");
  const exercise = currentExercise();
  for (const button of document.querySelectorAll("[data-pulse-only]")) button.hidden = exercise === undefined;
  if (exercise === undefined) {
    panel.hidden = true;
    return;
  }
  try {
    const pulse = await api(`pulse?exercise=${encodeURIComponent(exercise)}`);
    if (currentExercise() !== pulse.exercise) return; // the slide moved on while we asked
    panel.innerHTML = pulse.html;
    panel.dataset.exercise = pulse.exercise;
  } catch (error) {
    panel.textContent = `class pulse: ${error.message}`;
    delete panel.dataset.exercise;
  }
  panel.hidden = false;
}

const GROUP_CAPTION = { stuck: "among those stuck on", done: "among those who passed" };

/** Pick the next student; `group` ("stuck" or "done") picks among that group of the slide's exercise. */
async function pick(group) {
  const panel = document.querySelector("[data-picked-panel]");
  const name = document.querySelector("[data-picked]");
  const caption = document.querySelector("[data-picked-caption]");
  const exercise = group ? currentExercise() : undefined;
  panel.hidden = false;
  name.textContent = "…";
  caption.textContent = "";
  try {
    const { picked } = await api("pick", group ? { among: group, exercise } : {});
    name.textContent = picked.name;
    name.dataset.round = String(picked.round);
    if (group) caption.textContent = `${GROUP_CAPTION[group]} ${exercise}${picked.extra ? " (an extra turn)" : ""}`;
    const { counts } = await api("answers", {});
    document.querySelector("[data-answers]").innerHTML = barChart(counts.filter((c) => !c.left));
  } catch (error) {
    name.textContent = error.message;
  }
}

function onClick(event) {
  const button = event.target.closest("[data-action]");
  if (!button) {
    if (event.target.closest("[data-picked-panel]")) document.querySelector("[data-picked-panel]").hidden = true;
    return;
  }
  const cell = button.closest("[data-cell-id]");
  switch (button.dataset.action) {
    case "run":
      return void run(cell.dataset.cellId);
    case "stop":
      return void api("interrupt", {});
    case "restart":
      return void restart();
    case "reveal":
      return revealSolution(cell, button);
    case "pick":
      return void pick();
    case "pick-stuck":
      return void pick("stuck");
    case "pick-done":
      return void pick("done");
    case "theme": {
      const link = document.getElementById("theme");
      const dark = link.getAttribute("href") === link.dataset.dark;
      link.setAttribute("href", dark ? link.dataset.light : link.dataset.dark);
      document.body.classList.toggle("light", dark);
      return;
    }
  }
}

async function main() {
  if (!preview) addClocks();
  await Reveal.initialize({
    hash: true,
    center: false,
    width: 1280,
    height: 760,
    margin: 0.03,
    transition: "none",
    slideNumber: "c/t",
    totalTime: data.teachMinutes * 60,
    plugins: [RevealHighlight, RevealNotes],
  });
  hljs = Reveal.getPlugin("highlight")?.hljs;
  for (const cell of document.querySelectorAll(".reveal [data-cell-id]")) setUpEditor(cell);
  if (preview) {
    document.body.classList.add("preview");
    return;
  }
  document.addEventListener("click", onClick);
  try {
    const state = await api("state");
    for (const result of Object.values(state.ran)) {
      ran.add(result.id);
      renderResult(result);
    }
  } catch (error) {
    setKernelStatus(error.message);
  }
  Reveal.on("slidechanged", runShownDemos);
  runShownDemos();
  if (data.pulse) {
    Reveal.on("slidechanged", () => void showPulse());
    void showPulse();
    window.setInterval(() => void showPulse(), 1000);
  }
  document.body.dataset.ready = "true";
}

void main();
