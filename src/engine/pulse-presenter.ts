/**
 * The pulse of one exercise for the presenter's screen, from a running pulse
 * service: its counts as a small panel, and whom its Pick button may pick among
 * (those stuck, or those done). The presenter asks the service with the
 * instructor's token, as the dashboard does.
 *
 * The token never goes on a command line (any user of a shared machine can read
 * those): `npm run pulse` writes the dashboard's address and token into the
 * instructor-only classes folder, and `npm run present -- … --class NAME --pulse`
 * reads them from there.
 *
 * The panel is projected, so it shows numbers only: who is stuck is for the
 * instructor's dashboard, not for the class's screen.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import escapeHtml from "escape-html";
import { writeAtomically } from "./atomic-write.js";
import { failed, ok, type Result } from "./problem.js";
import type { ExercisePulse, LessonPulse } from "./pulse-summary.js";

export interface PulseSource {
  /** The pulse service, e.g. http://127.0.0.1:8765. */
  readonly url: string;
  readonly instructorToken: string;
}

/** Who a pick may be made among. */
export type PulseGroup = "stuck" | "done";

/** Where a running pulse service leaves its address and the instructor's token for the presenter (mode 0600). */
export const pulseSourceFile = (classesDir: string, className: string): string =>
  path.join(classesDir, `${className}-pulse-presenter.json`);

export async function writePulseSource(file: string, source: PulseSource): Promise<void> {
  await writeAtomically(file, `${JSON.stringify(source, null, 2)}\n`, 0o600);
}

/** The running pulse service of a class, as `npm run pulse` left it; a problem saying what to do when there is none. */
export async function readPulseSource(classesDir: string, className: string): Promise<Result<PulseSource>> {
  const file = pulseSourceFile(classesDir, className);
  const start = `start the class pulse first (npm run pulse -- --class ${className}), then the presenter`;
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return failed([{ message: `the class pulse of ${className} is not running: ${start}` }]);
  try {
    const { url, instructorToken } = JSON.parse(text) as Record<string, unknown>;
    if (typeof url === "string" && /^https?:\/\//.test(url) && typeof instructorToken === "string") return ok({ url, instructorToken });
  } catch {
    // reported below
  }
  return failed([{ file, message: `is not what npm run pulse writes: ${start}` }]);
}

/** The exercise's pulse now, or why there is none to show. */
export async function exercisePulse(source: PulseSource, lesson: string, exercise: string): Promise<Result<ExercisePulse>> {
  let response: Response;
  try {
    response = await fetch(`${source.url}/dashboard/pulse.json?lesson=${encodeURIComponent(lesson)}`, {
      headers: { Authorization: `Bearer ${source.instructorToken}` },
      signal: AbortSignal.timeout(2000),
    });
  } catch {
    return failed([{ message: `the class pulse at ${source.url} does not answer: is npm run pulse still running?` }]);
  }
  if (response.status === 401 || response.status === 403)
    return failed([{ message: "the class pulse was started again since: start the presenter again to use its new token" }]);
  if (!response.ok) return failed([{ message: `the class pulse answered ${response.status}` }]);
  const pulse = (await response.json()) as LessonPulse;
  const found = pulse.exercises.find((e) => e.exercise === exercise);
  return found ? ok(found) : failed([{ message: `the class pulse knows no exercise ${exercise} in ${lesson}` }]);
}

/**
 * The panel for the slide: "enroll: 12 passed · 5 trying (2 stuck) · 3 not started",
 * over a bar of the same three parts. Numbers only (see the header).
 */
export function renderExercisePulse(pulse: ExercisePulse): string {
  const parts = [
    { key: "passed", label: "passed", n: pulse.passed.length },
    { key: "trying", label: "trying", n: pulse.trying.length },
    { key: "not-started", label: "not started", n: pulse.notStarted.length },
  ];
  const total = Math.max(
    1,
    parts.reduce((sum, p) => sum + p.n, 0),
  );
  let x = 0;
  const bar = parts
    .map((p) => {
      const width = (p.n / total) * 300;
      const rect = `<rect class="pulse-${p.key}" x="${x.toFixed(1)}" y="0" width="${width.toFixed(1)}" height="10"></rect>`;
      x += width;
      return rect;
    })
    .join("");
  const stuck = pulse.stuck.length > 0 ? ` (<span data-count="stuck">${pulse.stuck.length}</span> stuck)` : "";
  const counts = parts.map((p) => `<span data-count="${p.key}">${p.n}</span> ${p.label}`);
  return (
    `<div class="pulse-line">${escapeHtml(pulse.exercise)}: ${counts[0]} · ${counts[1]}${stuck} · ${counts[2]}</div>` +
    `<svg class="pulse-bar" width="300" height="10" viewBox="0 0 300 10" aria-hidden="true">${bar}</svg>`
  );
}

/** Whom Pick may pick among (emails): those stuck on the exercise, or those who passed it. */
export const pickPool = (pulse: ExercisePulse, group: PulseGroup): readonly string[] => pulse.pickable[group];
