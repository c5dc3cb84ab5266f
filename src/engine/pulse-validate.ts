/**
 * What a learner's notebook may post to the class pulse, checked field by field.
 * Pure: the body in, a post or the reason it was refused out. Who posted is never
 * in the body: it comes from the token (pulse-server.ts).
 */
import { lessonIds, loadLesson } from "./lesson-files.js";

/** One self-check run, as a learner's notebook posts it. */
export interface CheckPost {
  /** The notebook's own id for this run, so a retried post is stored once. */
  readonly id: string;
  readonly lesson: string;
  readonly exercise: string;
  /** How many of the check's tests passed, of `total`. */
  readonly passed: number;
  readonly total: number;
  readonly status: "pass" | "fail" | "todo";
  /** When the check ran, ISO 8601. */
  readonly at: string;
}

/** The course's lessons and the exercises of each, in order: the only ids a post may name. */
export type Catalogue = ReadonlyMap<string, readonly string[]>;

export async function courseCatalogue(): Promise<Catalogue> {
  const catalogue = new Map<string, readonly string[]>();
  for (const id of await lessonIds()) {
    const lesson = await loadLesson(id);
    if (lesson.ok)
      catalogue.set(
        id,
        lesson.value.exercises.map((e) => e.id),
      );
  }
  return catalogue;
}

/** The biggest body a post may have: a post is about 200 bytes. */
export const MAX_BODY_BYTES = 2048;
/** A post older than this is dropped by the notebook too: the pulse is about now. */
export const MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** How far ahead of the service's clock a learner's clock may be. */
const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;
const MAX_TESTS = 1000;
const FIELDS = ["id", "lesson", "exercise", "passed", "total", "status", "at"] as const;
const STATUSES: readonly string[] = ["pass", "fail", "todo"];

export type Checked = { readonly ok: true; readonly post: CheckPost } | { readonly ok: false; readonly message: string };

const refuse = (message: string): Checked => ({ ok: false, message });

export function validatePost(body: unknown, catalogue: Catalogue, now: Date): Checked {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("the body must be a JSON object");
  const record = body as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) {
    const who = extra.some((k) => /learner|name|email|user/i.test(k)) ? " (who posted comes from the token, never from the body)" : "";
    return refuse(`unknown field '${extra[0]}'${who}; a post has only ${FIELDS.join(", ")}`);
  }
  const { id, lesson, exercise, passed, total, status, at } = record;
  if (typeof id !== "string" || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) return refuse("id must be 8 to 64 letters, digits, '-' or '_'");
  if (typeof lesson !== "string" || lesson.length > 100) return refuse("lesson must be the id of a lesson, like 01-arrays");
  const exercises = catalogue.get(lesson);
  if (exercises === undefined) return refuse(`there is no lesson '${lesson.slice(0, 100)}'`);
  if (typeof exercise !== "string" || exercise.length > 100 || !exercises.includes(exercise)) {
    return refuse(`lesson ${lesson} has no exercise '${String(exercise).slice(0, 100)}'`);
  }
  const count = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_TESTS;
  if (!count(total)) return refuse(`total must be a whole number from 0 to ${MAX_TESTS}`);
  if (!count(passed) || passed > total) return refuse("passed must be a whole number from 0 to total");
  if (typeof status !== "string" || !STATUSES.includes(status)) return refuse(`status must be one of ${STATUSES.join(", ")}`);
  if (status === "pass" && passed !== total) return refuse("a passing check passed all its tests: passed must equal total");
  const when = typeof at === "string" && at.length <= 40 && /^\d{4}-\d\d-\d\dT/.test(at) ? Date.parse(at) : NaN;
  if (!Number.isFinite(when)) return refuse("at must be a date and time in ISO 8601, like 2026-01-05T09:30:00.000Z");
  if (when > now.getTime() + MAX_CLOCK_AHEAD_MS) return refuse("at is in the future: check the clock of this computer");
  if (when < now.getTime() - MAX_AGE_MS) return refuse("at is more than a day ago: the pulse keeps only today's checks");
  return {
    ok: true,
    post: { id, lesson, exercise, passed, total, status: status as CheckPost["status"], at: new Date(when).toISOString() },
  };
}
