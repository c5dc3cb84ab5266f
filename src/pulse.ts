// The class pulse, the notebook's side: when your class turned it on and you have
// your pulse settings, each self-check run tells the instructor's dashboard how it
// went: your name (from your token), the exercise, how many checks passed, and
// when. Never your code or your answers.
//
// A post never slows or breaks your cell: it is written to a queue folder in your
// home first, then sent in the background, and sent again later if the pulse
// service cannot be reached. A post older than a day is dropped.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Where your notebooks post, and who you are to the pulse (a token your instructor gave you). */
export interface PulseSettings {
  readonly url: string;
  readonly token: string;
}

/** The settings file, in your home or beside the notebooks: `{ "url": "http://…", "token": "…" }`. */
export const PULSE_SETTINGS_FILE = ".rollcall-pulse.json";

/** What a check's run shares: nothing else about it leaves the notebook. */
export interface SharedRun {
  readonly exercise: string;
  readonly status: "pass" | "fail" | "todo";
  readonly passed: number;
  readonly total: number;
}

/** The one line a notebook shows once when the pulse is on. */
export const PULSE_NOTICE =
  "Class pulse is on: each check shares your name, the exercise, how many checks passed and when with your instructor, never your code or answers.";

/**
 * The pulse settings: `$ROLLCALL_PULSE_URL` and `$ROLLCALL_PULSE_TOKEN`, else the
 * settings file beside the notebooks, else the one in your home; undefined when off,
 * and always off with `ROLLCALL_PULSE=off` (the grader's runs are not the learner's).
 */
export function pulseSettings(
  env: NodeJS.ProcessEnv = process.env,
  dirs: readonly string[] = [process.cwd(), os.homedir()],
): PulseSettings | undefined {
  if (env["ROLLCALL_PULSE"] === "off") return undefined;
  const url = env["ROLLCALL_PULSE_URL"];
  const token = env["ROLLCALL_PULSE_TOKEN"];
  if (url && token) return validSettings({ url, token });
  for (const dir of dirs) {
    const file = path.join(dir, PULSE_SETTINGS_FILE);
    if (!existsSync(file)) continue;
    try {
      return validSettings(JSON.parse(readFileSync(file, "utf8")));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The settings file's text, for `npm start -- --pulse URL --token TOKEN` and for a hub writing it into a learner's home. */
export function pulseSettingsText(settings: PulseSettings): string {
  return `${JSON.stringify({ url: settings.url, token: settings.token }, null, 2)}\n`;
}

function validSettings(value: unknown): PulseSettings | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { url, token } = value as Record<string, unknown>;
  if (typeof url !== "string" || !/^https?:\/\/[^\s]+$/.test(url) || typeof token !== "string" || !/^[A-Za-z0-9_-]{16,200}$/.test(token)) {
    return undefined;
  }
  return { url: url.replace(/\/+$/, ""), token };
}

/** The queue folder: `$ROLLCALL_PULSE_QUEUE`, or `.rollcall-pulse-queue` in your home. */
export function pulseQueueDir(env: NodeJS.ProcessEnv = process.env): string {
  return env["ROLLCALL_PULSE_QUEUE"] || path.join(os.homedir(), ".rollcall-pulse-queue");
}

/**
 * The lesson a check belongs to: the notebook beside this one (the kernel runs in
 * the notebooks' folder) that has this exercise's check cell says, in its metadata.
 */
export function lessonOf(exercise: string, dir: string = process.cwd()): string | undefined {
  const key = `${dir}\n${exercise}`;
  if (lessonCache.has(key)) return lessonCache.get(key);
  let found: string | undefined;
  try {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ipynb"))) {
      const notebook = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as {
        metadata?: { rollcall?: { lesson?: unknown } };
        cells?: { id?: unknown }[];
      };
      const lesson = notebook.metadata?.rollcall?.lesson;
      if (typeof lesson === "string" && notebook.cells?.some((c) => c.id === `${exercise}-check`)) {
        found = lesson;
        break;
      }
    }
  } catch {
    found = undefined;
  }
  lessonCache.set(key, found);
  return found;
}
const lessonCache = new Map<string, string | undefined>();

/** A post older than this is dropped: the pulse is about the class now. */
const MAX_AGE_MS = 24 * 60 * 60 * 1000;
const SEND_TIMEOUT_MS = 3000;
const RETRY_MAX_MS = 30_000;

/**
 * The notice a notebook's first cell shows (it imports "rollcall") when the pulse is
 * on, so a learner knows what is shared before any check shares it; undefined when off.
 */
export function pulseNotice(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    return pulseSettings(env) === undefined ? undefined : PULSE_NOTICE;
  } catch {
    return undefined; // a folder we may not read (the grader's realm) means off
  }
}

/**
 * Queues a check's run for the pulse and sends it in the background. Never throws,
 * never waits: "queued", or "off" when the pulse is off.
 */
export function sharePulse(run: SharedRun, env: NodeJS.ProcessEnv = process.env): "off" | "queued" {
  try {
    const settings = pulseSettings(env);
    const lesson = settings === undefined ? undefined : (env["ROLLCALL_PULSE_LESSON"] ?? lessonOf(run.exercise));
    if (settings === undefined || lesson === undefined) return "off";
    const at = new Date();
    const post = {
      id: randomBytes(12).toString("base64url"),
      lesson,
      exercise: run.exercise,
      ...counts(run),
      status: run.status,
      at: at.toISOString(),
    };
    const dir = pulseQueueDir(env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Time, then a counter for runs in the same millisecond: the names sort oldest first.
    const name = `${at.getTime()}.${String(++queued % 1e6).padStart(6, "0")}-${post.id}.json`;
    // Whole or not at all: written aside, then renamed into the queue.
    writeFileSync(path.join(dir, `.${name}.tmp`), JSON.stringify(post), { mode: 0o600 });
    renameSync(path.join(dir, `.${name}.tmp`), path.join(dir, name));
    scheduleFlush(settings, dir, 0);
    return "queued";
  } catch {
    return "off";
  }
}
let queued = 0;

const counts = (run: SharedRun): { passed: number; total: number } => ({
  total: run.total,
  passed: run.status === "pass" ? run.total : Math.min(run.passed, run.total),
});

/** The next background send, and how long to wait after a failed one, per queue folder. */
const timers = new Map<string, NodeJS.Timeout>();
const retryMs = new Map<string, number>();
/** The flush under way, per queue folder: one at a time, so that a post is not sent twice at once. */
const flushing = new Map<string, Promise<FlushResult>>();

function scheduleFlush(settings: PulseSettings, dir: string, delay: number): void {
  if (timers.has(dir)) return;
  const timer = setTimeout(() => {
    timers.delete(dir);
    void flushPulseQueue(settings, dir).then((result) => {
      if (result.kept === 0) return void retryMs.delete(dir);
      const wait = retryMs.get(dir) ?? 500;
      retryMs.set(dir, Math.min(RETRY_MAX_MS, wait * 2));
      scheduleFlush(settings, dir, wait);
    });
  }, delay);
  // The kernel stays up by itself; a plain script may end without waiting for the pulse.
  timer.unref();
  timers.set(dir, timer);
}

export interface FlushResult {
  readonly sent: number;
  /** Still queued: the service could not be reached, or asked to wait. */
  readonly kept: number;
  /** Dropped: older than a day, or refused for good (a bad token, say). */
  readonly dropped: number;
}

/** Sends every queued post, oldest first; what was sent or refused for good leaves the queue. */
export function flushPulseQueue(settings: PulseSettings, dir: string = pulseQueueDir()): Promise<FlushResult> {
  const running = flushing.get(dir) ?? sendAll(settings, dir).finally(() => flushing.delete(dir));
  flushing.set(dir, running);
  return running;
}

async function sendAll(settings: PulseSettings, dir: string): Promise<FlushResult> {
  let sent = 0;
  let kept = 0;
  let dropped = 0;
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith(".json") && !f.startsWith("."))
      .sort();
  } catch {
    return { sent, kept, dropped };
  }
  for (const file of files) {
    const full = path.join(dir, file);
    let body: string;
    try {
      body = readFileSync(full, "utf8");
    } catch {
      continue; // another kernel sent it
    }
    if (Date.now() - Number(file.split("-")[0]) > MAX_AGE_MS) {
      rmSync(full, { force: true });
      dropped++;
      continue;
    }
    const status = await send(settings, body);
    if (status === undefined || status === 429 || status >= 500) {
      kept++;
      if (status === undefined) {
        // Unreachable: the rest would fail the same way; they wait for the next try.
        kept += files.length - files.indexOf(file) - 1;
        break;
      }
      continue;
    }
    rmSync(full, { force: true });
    if (status < 300) sent++;
    else dropped++;
  }
  return { sent, kept, dropped };
}

async function send(settings: PulseSettings, body: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${settings.url}/api/checks`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${settings.token}` },
      body,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.status;
  } catch {
    return undefined;
  }
}
