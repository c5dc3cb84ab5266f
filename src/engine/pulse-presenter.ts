/**
 * The pulse of one exercise for the presenter's screen, from a running pulse
 * service: its counts as a small panel, and whom its Pick button may pick among
 * (those stuck, or those done). The presenter imports this; it asks the service
 * with the instructor's token, as the dashboard does.
 */
import escapeHtml from "escape-html";
import type { ExercisePulse, LessonPulse } from "./pulse-summary.js";

export interface PulseSource {
  /** The pulse service, e.g. http://127.0.0.1:8765. */
  readonly url: string;
  readonly instructorToken: string;
}

/** The exercise's pulse now; undefined when the service cannot be reached or does not know it. */
export async function exercisePulse(source: PulseSource, lesson: string, exercise: string): Promise<ExercisePulse | undefined> {
  try {
    const response = await fetch(`${source.url}/dashboard/pulse.json?lesson=${encodeURIComponent(lesson)}`, {
      headers: { Authorization: `Bearer ${source.instructorToken}` },
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) return undefined;
    const pulse = (await response.json()) as LessonPulse;
    return pulse.exercises.find((e) => e.exercise === exercise);
  } catch {
    return undefined;
  }
}

/** One line for the slide: "enroll: 12 passed · 5 trying (2 stuck) · 3 not started". */
export function renderExercisePulse(pulse: ExercisePulse): string {
  const stuck = pulse.stuck.length > 0 ? ` (${pulse.stuck.length} stuck)` : "";
  return (
    `<div class="rollcall-pulse-panel">${escapeHtml(pulse.exercise)}: ${pulse.passed.length} passed · ` +
    `${pulse.trying.length} trying${stuck} · ${pulse.notStarted.length} not started</div>`
  );
}

/** Whom Pick may pick among: those stuck on the exercise, or those who passed it. */
export function pickPool(pulse: ExercisePulse, among: "stuck" | "done"): readonly string[] {
  return among === "stuck" ? pulse.stuck.map((s) => s.name) : pulse.passed;
}
