/**
 * The class pulse service: learners' notebooks post their self-check runs, the
 * instructor's dashboard shows them live.
 *
 *   POST /api/checks             a learner's token (Authorization: Bearer); the learner is the token's
 *   GET  /dashboard              the instructor's page (?token= once, then a cookie)
 *   GET  /dashboard/events       server-sent events: the lesson's panel, again after every post
 *   GET  /dashboard/pulse.json   the lesson's numbers, for the presenter
 *
 * Node's http and server-sent events, no library: the stream only goes one way
 * (service → page), which is what SSE is, and EventSource reconnects by itself.
 * No CORS: no Access-Control-* header is ever sent, and a request a browser marks
 * as from another origin is refused before anything else.
 */
import escapeHtml from "escape-html";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { renderDashboardPage, renderPulsePanel } from "./pulse-page.js";
import type { PulseLearner, PulseStore } from "./pulse-store.js";
import { lessonPulse, type LessonPulse } from "./pulse-summary.js";
import { MAX_BODY_BYTES, validatePost, type Catalogue } from "./pulse-validate.js";

export interface PulseServerOptions {
  readonly className: string;
  readonly store: PulseStore;
  readonly catalogue: Catalogue;
  readonly host?: string;
  /** 0 (default) for any free port. */
  readonly port?: number;
  /** The lesson the dashboard opens on; the first of the catalogue unless said. */
  readonly lesson?: string;
  /** A learner is stuck on an exercise after failing it this long; 5 unless said. */
  readonly stuckMinutes?: number;
  /** Posts a learner may make in a burst, then one more per `refillMs`; 20 and 1000 unless said. */
  readonly burst?: number;
  readonly refillMs?: number;
  readonly now?: () => Date;
}

export interface PulseServer {
  readonly url: string;
  /** The URL that signs the instructor in (it sets the cookie, then drops the token from the address bar). */
  dashboardUrl(instructorToken: string): string;
  close(): Promise<void>;
}

const COOKIE = "rollcall_pulse";
/** How often open dashboards are redrawn without a post: the stuck minutes grow by themselves. */
const REFRESH_MS = 20_000;
/** Posts that land together are sent to the dashboards together. */
const COALESCE_MS = 25;

interface Watcher {
  readonly res: ServerResponse;
  readonly lesson: string;
  readonly stuckMinutes: number;
}

export async function startPulseServer(options: PulseServerOptions): Promise<PulseServer> {
  const { store, catalogue, className } = options;
  const now = options.now ?? (() => new Date());
  const lessons = [...catalogue.keys()];
  const defaultLesson = options.lesson ?? lessons[0] ?? "";
  const defaultStuck = options.stuckMinutes ?? 5;
  const burst = options.burst ?? 20;
  const refillMs = options.refillMs ?? 1000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const watchers = new Set<Watcher>();
  /** Post ids not yet sent to the dashboards, by lesson. */
  const pending = new Map<string, string[]>();
  let flushTimer: NodeJS.Timeout | undefined;

  const pulseOf = (lesson: string, stuckMinutes: number): LessonPulse =>
    lessonPulse(lesson, catalogue.get(lesson) ?? [], store.learners(), store.posts(lesson), now(), stuckMinutes);

  function send(watcher: Watcher, ids: readonly string[]): void {
    const pulse = pulseOf(watcher.lesson, watcher.stuckMinutes);
    const data = JSON.stringify({ html: renderPulsePanel(pulse), pulse, ids });
    watcher.res.write(`event: pulse\ndata: ${data}\n\n`);
  }

  function flush(): void {
    flushTimer = undefined;
    const batches = [...pending];
    pending.clear();
    for (const [lesson, ids] of batches) for (const w of watchers) if (w.lesson === lesson) send(w, ids);
  }

  const refresh = setInterval(() => {
    for (const w of watchers) send(w, []);
  }, REFRESH_MS);
  refresh.unref();

  /** A token bucket per learner: true when this post may go in. */
  function allowed(learner: PulseLearner): boolean {
    const t = Date.now();
    const bucket = buckets.get(learner.email) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + (t - bucket.at) / refillMs);
    bucket.at = t;
    buckets.set(learner.email, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  function instructorIn(req: IncomingMessage): boolean {
    const token = bearer(req) ?? cookie(req, COOKIE);
    return token !== undefined && store.isInstructor(token);
  }

  async function postCheck(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = bearer(req);
    if (token === undefined) return reply(res, 401, { error: "send your pulse token: Authorization: Bearer TOKEN" });
    const learner = store.learnerFor(token);
    if (learner === undefined)
      return reply(res, 403, { error: "this token is not a learner's of this class: ask your instructor for yours" });
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      return reply(res, 415, { error: "send the post as application/json" });
    }
    if (!allowed(learner)) {
      res.setHeader("Retry-After", String(Math.ceil(refillMs / 1000)));
      return reply(res, 429, { error: "too many posts: wait a moment and try again" });
    }
    const text = await readBody(req, MAX_BODY_BYTES);
    if (text === undefined) return reply(res, 413, { error: `a post is at most ${MAX_BODY_BYTES} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return reply(res, 400, { error: "the body is not JSON" });
    }
    const checked = validatePost(body, catalogue, now());
    if (!checked.ok) return reply(res, 422, { error: checked.message });
    const stored = store.record(learner, checked.post, now());
    if (stored) {
      pending.set(checked.post.lesson, [...(pending.get(checked.post.lesson) ?? []), checked.post.id]);
      flushTimer ??= setTimeout(flush, COALESCE_MS);
    }
    reply(res, stored ? 201 : 200, { stored: true, id: checked.post.id });
  }

  function lessonAndStuck(url: URL): { lesson: string; stuckMinutes: number } | string {
    const lesson = url.searchParams.get("lesson") ?? defaultLesson;
    if (!catalogue.has(lesson)) return `there is no lesson '${lesson.slice(0, 100)}': choose one of ${lessons.join(", ")}`;
    const stuckText = url.searchParams.get("stuck");
    const stuckMinutes = stuckText === null || stuckText === "" ? defaultStuck : Number(stuckText);
    if (!Number.isInteger(stuckMinutes) || stuckMinutes < 1 || stuckMinutes > 240)
      return "stuck must be a whole number of minutes from 1 to 240";
    return { lesson, stuckMinutes };
  }

  function dashboard(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const given = url.searchParams.get("token");
    if (given !== null) {
      if (!store.isInstructor(given))
        return page(res, 403, "This is not the instructor's token of this class: use the URL npm run pulse printed.");
      // The token goes into a cookie only this origin's pages send, and out of the address bar and history.
      url.searchParams.delete("token");
      res.setHeader("Set-Cookie", `${COOKIE}=${given}; HttpOnly; SameSite=Strict; Path=/dashboard`);
      res.writeHead(303, { Location: `/dashboard${url.search}` });
      res.end();
      return;
    }
    if (!instructorIn(req))
      return page(res, 401, "Sign in with the dashboard URL npm run pulse printed (it holds the instructor's token).");
    const chosen = lessonAndStuck(url);
    if (typeof chosen === "string") return page(res, 400, chosen);
    const nonce = randomBytes(16).toString("base64");
    res.setHeader(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'`,
    );
    const panel = renderPulsePanel(pulseOf(chosen.lesson, chosen.stuckMinutes));
    page(res, 200, renderDashboardPage({ className, lessons, ...chosen, panel, nonce }), true);
  }

  function events(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (!instructorIn(req))
      return reply(res, (bearer(req) ?? cookie(req, COOKIE)) ? 403 : 401, { error: "the instructor's token is needed" });
    const chosen = lessonAndStuck(url);
    if (typeof chosen === "string") return reply(res, 400, { error: chosen });
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    const watcher: Watcher = { res, ...chosen };
    watchers.add(watcher);
    req.socket.setNoDelay(true);
    res.on("close", () => watchers.delete(watcher));
    send(watcher, []);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Cache-Control", "no-store");
    if (fromElsewhere(req)) return reply(res, 403, { error: "requests from other sites are refused" });
    const url = new URL(req.url ?? "/", "http://pulse.invalid");
    const route = `${req.method ?? ""} ${url.pathname}`;
    switch (route) {
      case "POST /api/checks":
        return postCheck(req, res);
      case "GET /dashboard":
        return dashboard(req, res, url);
      case "GET /dashboard/events":
        return events(req, res, url);
      case "GET /dashboard/pulse.json": {
        if (!instructorIn(req)) return reply(res, 401, { error: "the instructor's token is needed" });
        const chosen = lessonAndStuck(url);
        return typeof chosen === "string"
          ? reply(res, 400, { error: chosen })
          : reply(res, 200, pulseOf(chosen.lesson, chosen.stuckMinutes));
      }
      case "GET /":
        res.writeHead(303, { Location: "/dashboard" });
        res.end();
        return;
      default:
        return reply(res, url.pathname === "/api/checks" || url.pathname.startsWith("/dashboard") ? 405 : 404, { error: `no ${route}` });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { error: "the pulse service failed on this request" });
      process.stderr.write(`rollcall pulse: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  return {
    url,
    dashboardUrl: (token) => `${url}/dashboard?token=${encodeURIComponent(token)}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(refresh);
        if (flushTimer) clearTimeout(flushTimer);
        for (const w of watchers) w.res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** True for what a browser says came from a page of another origin (Origin, or Sec-Fetch-Site). */
function fromElsewhere(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return true;
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${req.headers.host ?? ""}`;
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(req.headers.authorization ?? "");
  return match?.[1];
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, value] = part.trim().split("=");
    if (key === name && value !== undefined && /^[A-Za-z0-9_-]{1,200}$/.test(value)) return value;
  }
  return undefined;
}

/** The body as text, or undefined when it is longer than `limit` bytes (then the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Read on and drop the rest, so that the 413 reaches the sender.
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function page(res: ServerResponse, status: number, html: string, whole = false): void {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" });
  res.end(whole ? html : `<!doctype html><meta charset="utf-8"><title>Class pulse</title><p>${escapeHtml(html)}</p>`);
}
