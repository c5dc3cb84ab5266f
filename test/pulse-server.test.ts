/**
 * The class pulse service, attacked the way an attacker would: forged learner
 * fields, another's post replayed with one's own token, oversized bodies, unknown
 * exercises, a flood, cross-origin requests, the dashboard and its event stream
 * without the instructor's token. One service per test group, on loopback.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { pulseSettingsFor } from "../src/engine/pulse-hub.js";
import { exercisePulse, pickPool, renderExercisePulse } from "../src/engine/pulse-presenter.js";
import { startPulseServer, type PulseServer } from "../src/engine/pulse-server.js";
import { openPulseStore, type PulseStore } from "../src/engine/pulse-store.js";
import { lessonPulse } from "../src/engine/pulse-summary.js";
import { courseCatalogue, type Catalogue } from "../src/engine/pulse-validate.js";

const ADA = { email: "ada@example.org", name: "Ada Lovelace" };
const MEI = { email: "mei@example.org", name: "Mei Chen" };

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw HTTP request, so that any header (Origin, Host, Content-Length) can be what an attacker sends. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      if (/event-stream/.test(res.headers["content-type"] ?? "")) {
        // An open stream never ends: its status and headers are the answer.
        res.destroy();
        return resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" });
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

let serial = 0;
const post = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: `post-${Date.now()}-${++serial}`,
  lesson: "01-arrays",
  exercise: "enroll",
  passed: 1,
  total: 2,
  status: "fail",
  at: new Date().toISOString(),
  ...overrides,
});

const postAs = (server: PulseServer, token: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  send(`${server.url}/api/checks`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("the class pulse service", { timeout: 30_000 }, () => {
  let dir: string;
  let store: PulseStore;
  let server: PulseServer;
  let catalogue: Catalogue;
  let adaToken: string;
  let meiToken: string;
  let instructorToken: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-pulse-"));
    store = openPulseStore(path.join(dir, "p3-pulse.db"));
    const issued = store.issueLearnerTokens([ADA, MEI]);
    adaToken = issued[0]?.token ?? "";
    meiToken = issued[1]?.token ?? "";
    instructorToken = store.issueInstructorToken();
    catalogue = await courseCatalogue();
    server = await startPulseServer({ className: "p3", store, catalogue, burst: 30, refillMs: 60_000 });
  });
  after(async () => {
    await server.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("tokens are 256 random bits, and the file keeps only their sha256", () => {
    for (const token of [adaToken, meiToken, instructorToken]) assert.equal(Buffer.from(token, "base64url").length, 32);
    assert.equal(new Set([adaToken, meiToken, instructorToken]).size, 3);
    const bytes = readFileSync(store.file).toString("latin1") + readFileSync(`${store.file}-wal`).toString("latin1");
    for (const token of [adaToken, meiToken, instructorToken]) {
      assert.ok(!bytes.includes(token), "a token is on disk as it is");
      assert.ok(bytes.includes(createHash("sha256").update(token).digest("hex")), "the token's hash is kept");
    }
  });

  test("a learner's post is stored as the token's learner; a forged learner field is refused", async () => {
    const good = post();
    assert.equal((await postAs(server, adaToken, good)).status, 201);
    const forged = await postAs(server, adaToken, post({ learner: MEI.email }));
    assert.equal(forged.status, 422);
    assert.match(forged.body, /comes from the token/);
    const forgedEmail = await postAs(server, adaToken, post({ email: MEI.email, name: MEI.name }));
    assert.equal(forgedEmail.status, 422);
    const stored = store.posts().filter((p) => p.id === good["id"]);
    assert.deepEqual(
      stored.map((p) => p.email),
      [ADA.email],
    );
    assert.equal(store.posts().filter((p) => p.email === MEI.email).length, 0, "nothing was stored as Mei");
  });

  test("a post replayed with another's token counts for the token's owner only, and a retry is stored once", async () => {
    const adas = post({ status: "pass", passed: 2, total: 2, exercise: "withdraw" });
    assert.equal((await postAs(server, adaToken, adas)).status, 201);
    assert.equal((await postAs(server, adaToken, adas)).status, 200, "the same post again is a retry");
    assert.equal((await postAs(server, meiToken, adas)).status, 201);
    const withdraw = store.posts("01-arrays").filter((p) => p.exercise === "withdraw");
    assert.deepEqual(withdraw.map((p) => p.email).sort(), [ADA.email, MEI.email]);
    assert.equal(withdraw.filter((p) => p.email === ADA.email).length, 1);
  });

  test("no token is 401, a made-up or the instructor's token is 403", async () => {
    assert.equal((await postAs(server, undefined, post())).status, 401);
    assert.equal((await postAs(server, "A".repeat(43), post())).status, 403);
    assert.equal((await postAs(server, instructorToken, post())).status, 403);
  });

  test("every field is checked, with a clear 4xx", async () => {
    const before = store.posts().length;
    const cases: [Record<string, unknown> | string, number, RegExp][] = [
      [post({ exercise: "drop-table" }), 422, /no exercise 'drop-table'/],
      [post({ exercise: "pick-student" }), 422, /01-arrays has no exercise/], // real, but another lesson's
      [post({ lesson: "../../etc/passwd" }), 422, /no lesson/],
      [post({ passed: 3, total: 2 }), 422, /passed must be/],
      [post({ passed: -1 }), 422, /passed must be/],
      [post({ total: 1.5 }), 422, /total must be/],
      [post({ status: "pass", passed: 1, total: 2 }), 422, /passed must equal total/],
      [post({ status: "hacked" }), 422, /status must be/],
      [post({ at: "yesterday" }), 422, /ISO 8601/],
      [post({ at: new Date(Date.now() + 3_600_000).toISOString() }), 422, /future/],
      [post({ at: new Date(Date.now() - 2 * 86_400_000).toISOString() }), 422, /more than a day/],
      [post({ id: "x" }), 422, /id must be/],
      [post({ lesson: 7 }), 422, /lesson must be/],
      ["[1,2]", 422, /JSON object/],
      ["{not json", 400, /not JSON/],
    ];
    for (const [body, status, message] of cases) {
      const reply = await postAs(server, meiToken, body);
      assert.equal(reply.status, status, `${JSON.stringify(body)} → ${reply.status} ${reply.body}`);
      assert.match(JSON.parse(reply.body).error, message);
    }
    const notJson = await postAs(server, meiToken, JSON.stringify(post()), { "Content-Type": "text/plain" });
    assert.equal(notJson.status, 415);
    assert.equal(store.posts().length, before, "nothing was stored");
  });

  test("an oversized body is refused with 413, whether or not it says its length", async () => {
    const huge = JSON.stringify(post({ exercise: "x".repeat(1_000_000) }));
    assert.equal((await postAs(server, meiToken, huge)).status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/api/checks`);
      const req = request(
        url,
        { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${meiToken}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 20; i++) req.write("x".repeat(1000));
      req.end();
    });
    assert.equal(chunked, 413);
  });

  test("a flood from one learner gets 429 with Retry-After, and does not stop another learner", async () => {
    const flood = await Promise.all(Array.from({ length: 40 }, () => postAs(server, adaToken, post({ exercise: "starting-with" }))));
    const limited = flood.filter((r) => r.status === 429);
    assert.ok(limited.length >= 10, `only ${limited.length} of 40 were limited`);
    assert.ok(limited[0]?.headers["retry-after"]);
    assert.equal((await postAs(server, meiToken, post({ exercise: "starting-with" }))).status, 201);
  });

  test("cross-origin requests are refused and no CORS header is ever sent", async () => {
    const evil = { Origin: "http://evil.example" };
    const fromEvil = await postAs(server, meiToken, post(), evil);
    assert.equal(fromEvil.status, 403);
    assert.equal(fromEvil.headers["access-control-allow-origin"], undefined);
    const preflight = await send(`${server.url}/api/checks`, {
      method: "OPTIONS",
      headers: { ...evil, "Access-Control-Request-Method": "POST" },
    });
    assert.notEqual(preflight.status, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], undefined);
    const cookie = `rollcall_pulse=${instructorToken}`;
    const events = await send(`${server.url}/dashboard/pulse.json`, { headers: { ...evil, Cookie: cookie } });
    assert.equal(events.status, 403, "a page elsewhere cannot read the numbers, even with the instructor's cookie");
    const fetchMeta = await send(`${server.url}/dashboard`, { headers: { "Sec-Fetch-Site": "cross-site", Cookie: cookie } });
    assert.equal(fetchMeta.status, 403);
    const sameOrigin = await send(`${server.url}/dashboard/pulse.json`, { headers: { Origin: server.url, Cookie: cookie } });
    assert.equal(sameOrigin.status, 200);
    assert.equal(sameOrigin.headers["access-control-allow-origin"], undefined);
  });

  test("the dashboard and its event stream refuse anyone without the instructor's token", async () => {
    assert.equal((await send(`${server.url}/dashboard`)).status, 401);
    assert.equal((await send(`${server.url}/dashboard/events`)).status, 401);
    assert.equal((await send(`${server.url}/dashboard/pulse.json`)).status, 401);
    assert.equal((await send(`${server.url}/dashboard?token=${adaToken}`)).status, 403, "a learner's token is not the instructor's");
    assert.equal((await send(`${server.url}/dashboard/events`, { headers: { Cookie: `rollcall_pulse=${adaToken}` } })).status, 403);
    assert.equal((await send(`${server.url}/dashboard/events`, { headers: { Authorization: `Bearer ${meiToken}` } })).status, 403);
    const signIn = await send(server.dashboardUrl(instructorToken));
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.location, "/dashboard", "the token leaves the address bar");
    const setCookie = String(signIn.headers["set-cookie"]);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const page = await send(`${server.url}/dashboard?lesson=01-arrays`, { headers: { Cookie: setCookie.split(";")[0] ?? "" } });
    assert.equal(page.status, 200);
    assert.match(page.body, /data-exercise="enroll"/);
    const xss = await send(`${server.url}/dashboard?lesson=<script>alert(1)</script>`, {
      headers: { Cookie: setCookie.split(";")[0] ?? "" },
    });
    assert.equal(xss.status, 400);
    assert.doesNotMatch(xss.body, /<script>/);
  });

  test("a hub's settings file holds a working token of that learner; the presenter reads an exercise's pulse", async () => {
    const grace = { email: "grace@example.org", name: "Grace <Hopper>" };
    const settings = pulseSettingsFor(store, server.url, grace);
    assert.equal(settings.file, ".rollcall-pulse.json");
    assert.equal(settings.mode, 0o600);
    const { url, token } = JSON.parse(settings.text) as { url: string; token: string };
    assert.equal(url, server.url);
    assert.equal((await postAs(server, token, post({ exercise: "last-student", status: "todo", passed: 0 }))).status, 201);
    const asLearner = await exercisePulse({ url: server.url, instructorToken: token }, "01-arrays", "last-student");
    assert.ok(!asLearner.ok && /started again/.test(asLearner.problems[0]?.message ?? ""), "a learner's token reads nothing");
    const read = await exercisePulse({ url: server.url, instructorToken }, "01-arrays", "last-student");
    assert.ok(read.ok);
    const pulse = read.value;
    assert.deepEqual(pulse.trying, [grace.name]);
    const panel = renderExercisePulse(pulse);
    assert.match(panel.replace(/<[^>]+>/g, ""), /last-student: 0 passed · 1 trying · 2 not started/);
    assert.doesNotMatch(panel, /Grace|Hopper/, "the projected panel names nobody");
    assert.deepEqual(pickPool(pulse, "done"), []);
    const withdraw = await exercisePulse({ url: server.url, instructorToken }, "01-arrays", "withdraw");
    assert.ok(withdraw.ok);
    assert.deepEqual([...pickPool(withdraw.value, "done")].sort(), [ADA.email, MEI.email], "by email: names can be shared");
    const unknown = await exercisePulse({ url: server.url, instructorToken }, "01-arrays", "no-such-exercise");
    assert.ok(!unknown.ok && /knows no exercise no-such-exercise/.test(unknown.problems[0]?.message ?? ""));
    const down = await exercisePulse({ url: "http://127.0.0.1:9", instructorToken }, "01-arrays", "withdraw");
    assert.ok(!down.ok && /does not answer: is npm run pulse still running/.test(down.problems[0]?.message ?? ""));
  });

  test("the event stream sends the lesson's panel, then again within a second of a post", async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/dashboard/events?lesson=01-arrays`, {
      headers: { Cookie: `rollcall_pulse=${instructorToken}` },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const nextEvent = async (): Promise<{ ids: string[]; pulse: ReturnType<typeof lessonPulse> }> => {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const chunk = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = chunk.split("\n").find((l) => l.startsWith("data: "));
          if (data) return JSON.parse(data.slice(6));
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    };
    const first = await nextEvent();
    const cohort = first.pulse.exercises.find((e) => e.exercise === "cohort-emails");
    assert.deepEqual(cohort?.notStarted, [ADA.name, "Grace <Hopper>", MEI.name]);
    const sent = post({ exercise: "cohort-emails", status: "pass", passed: 3, total: 3 });
    const started = performance.now();
    assert.equal((await postAs(server, meiToken, sent)).status, 201);
    const next = await nextEvent();
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(next.ids, [sent["id"]]);
    assert.deepEqual(next.pulse.exercises.find((e) => e.exercise === "cohort-emails")?.passed, [MEI.name]);
    controller.abort();
  });
});

test("who passed, is trying, has not started, and is stuck", () => {
  const now = new Date("2026-01-05T10:00:00Z");
  const at = (minutesAgo: number): string => new Date(now.getTime() - minutesAgo * 60_000).toISOString();
  const stored = (who: typeof ADA, exercise: string, status: "pass" | "fail" | "todo", minutesAgo: number) => ({
    ...who,
    id: `${who.email}-${exercise}-${minutesAgo}`,
    lesson: "01-arrays",
    exercise,
    passed: status === "pass" ? 2 : 0,
    total: 2,
    status,
    at: at(minutesAgo),
    received: at(minutesAgo),
  });
  const grace = { email: "grace@example.org", name: "Grace Hopper" };
  const pulse = lessonPulse(
    "01-arrays",
    ["enroll", "withdraw"],
    [ADA, MEI, grace],
    [
      stored(ADA, "enroll", "fail", 12),
      stored(ADA, "enroll", "pass", 2),
      stored(MEI, "enroll", "fail", 9),
      stored(grace, "enroll", "todo", 3),
    ],
    now,
    5,
  );
  const [enroll, withdraw] = pulse.exercises;
  assert.deepEqual(enroll?.passed, [ADA.name], "passed once is passed");
  assert.deepEqual(enroll?.trying, [MEI.name, grace.name]);
  assert.deepEqual(enroll?.stuck, [{ name: MEI.name, minutes: 9 }], "trying for 5 minutes or more");
  assert.deepEqual(enroll?.pickable, { done: [ADA.email], stuck: [MEI.email] }, "whom Pick may pick among, by email");
  assert.deepEqual(withdraw?.notStarted, [ADA.name, MEI.name, grace.name]);
});
