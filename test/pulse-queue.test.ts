/**
 * The notebook's side of the class pulse: settings, the lesson a check belongs to,
 * the queue on disk (a check never waits for the service), sending it when the
 * service is up, and dropping what is a day old.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { check } from "../src/check.js";
import { notebooksDir } from "../src/engine/paths.js";
import { startPulseServer, type PulseServer } from "../src/engine/pulse-server.js";
import { openPulseStore, type PulseStore } from "../src/engine/pulse-store.js";
import { courseCatalogue } from "../src/engine/pulse-validate.js";
import { flushPulseQueue, lessonOf, PULSE_SETTINGS_FILE, pulseSettings, pulseSettingsText, sharePulse } from "../src/pulse.js";
import { captureStdout } from "./support/capture-stdout.js";

let dir: string;
let store: PulseStore;
let server: PulseServer;
let token: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-pulse-queue-"));
  store = openPulseStore(path.join(dir, "p3-pulse.db"));
  token = store.issueLearnerTokens([{ email: "ada@example.org", name: "Ada Lovelace" }])[0]?.token ?? "";
  server = await startPulseServer({ className: "p3", store, catalogue: await courseCatalogue() });
});
after(async () => {
  await server.close();
  store.close();
  await rm(dir, { recursive: true, force: true });
});

test("the settings come from the environment, else the file beside the notebooks, else home; off otherwise", async () => {
  const here = await mkdtemp(path.join(dir, "here-"));
  const home = await mkdtemp(path.join(dir, "home-"));
  assert.equal(pulseSettings({}, [here, home]), undefined);
  writeFileSync(path.join(home, PULSE_SETTINGS_FILE), pulseSettingsText({ url: "http://10.0.0.5:8765/", token }));
  assert.deepEqual(pulseSettings({}, [here, home]), { url: "http://10.0.0.5:8765", token });
  writeFileSync(path.join(here, PULSE_SETTINGS_FILE), "{ not json");
  assert.equal(pulseSettings({}, [here, home]), undefined, "a broken file turns the pulse off, it does not throw");
  assert.deepEqual(pulseSettings({ ROLLCALL_PULSE_URL: "http://a.example", ROLLCALL_PULSE_TOKEN: token }, [here, home]), {
    url: "http://a.example",
    token,
  });
  assert.equal(pulseSettings({ ROLLCALL_PULSE_URL: "javascript:alert(1)", ROLLCALL_PULSE_TOKEN: token }, []), undefined);
  assert.equal(pulseSettings({ ROLLCALL_PULSE: "off" }, [here, home]), undefined, "ROLLCALL_PULSE=off turns it off");
});

test("a check's lesson is the one whose notebook holds its check cell", () => {
  assert.equal(lessonOf("enroll", notebooksDir), "01-arrays");
  assert.equal(lessonOf("answer-counts", notebooksDir), "05-roll-call");
  assert.equal(lessonOf("no-such-exercise", notebooksDir), undefined);
});

test("check() with the pulse on shares in the background, says nothing about it (the first cell did), and does not wait", () => {
  const queue = path.join(dir, "queue-check");
  const saved = { ...process.env };
  // The service is down: the check must not notice.
  Object.assign(process.env, {
    ROLLCALL_PULSE_URL: "http://127.0.0.1:9",
    ROLLCALL_PULSE_TOKEN: token,
    ROLLCALL_PULSE_QUEUE: queue,
    ROLLCALL_PULSE_LESSON: "01-arrays",
  });
  try {
    const started = performance.now();
    const output = captureStdout(() => {
      check("enroll", (t) => t.equal("adds", () => 1 + 1, 2));
      check("enroll", (t) => t.equal("adds", () => 1 + 1, 2));
    });
    assert.ok(performance.now() - started < 200, "a check does not wait for the pulse");
    assert.ok(!output.includes("Class pulse is on"), output);
    assert.equal(readdirSync(queue).filter((f) => f.endsWith(".json")).length, 2);
  } finally {
    process.env = saved;
  }
});

test("while the service is down, runs wait in the queue (only the counts, never code); once it is up they arrive", async () => {
  const queue = path.join(dir, "queue-down");
  const env = {
    ROLLCALL_PULSE_URL: "http://127.0.0.1:9",
    ROLLCALL_PULSE_TOKEN: token,
    ROLLCALL_PULSE_QUEUE: queue,
    ROLLCALL_PULSE_LESSON: "01-arrays",
  };
  assert.equal(sharePulse({ exercise: "enroll", status: "fail", passed: 1, total: 3 }, env), "queued");
  assert.equal(sharePulse({ exercise: "enroll", status: "pass", passed: 3, total: 3 }, env), "queued");
  const files = readdirSync(queue);
  assert.equal(files.length, 2);
  const queued = JSON.parse(readFileSync(path.join(queue, files[0] ?? ""), "utf8"));
  assert.deepEqual(Object.keys(queued).sort(), ["at", "exercise", "id", "lesson", "passed", "status", "total"]);
  const down = await flushPulseQueue({ url: "http://127.0.0.1:9", token }, queue);
  assert.equal(down.kept, 2);
  assert.equal(readdirSync(queue).length, 2, "nothing is lost while the service is down");

  const up = await flushPulseQueue({ url: server.url, token }, queue);
  assert.deepEqual(up, { sent: 2, kept: 0, dropped: 0 });
  assert.deepEqual(readdirSync(queue), []);
  const enroll = store.posts("01-arrays").filter((p) => p.exercise === "enroll");
  assert.deepEqual(
    enroll.map((p) => [p.name, p.status, p.passed, p.total]),
    [
      ["Ada Lovelace", "fail", 1, 3],
      ["Ada Lovelace", "pass", 3, 3],
    ],
  );
});

test("a queued run older than a day is dropped, and one refused for good leaves the queue", async () => {
  const queue = path.join(dir, "queue-old");
  const env = {
    ROLLCALL_PULSE_URL: server.url,
    ROLLCALL_PULSE_TOKEN: "B".repeat(43),
    ROLLCALL_PULSE_QUEUE: queue,
    ROLLCALL_PULSE_LESSON: "01-arrays",
  };
  sharePulse({ exercise: "withdraw", status: "fail", passed: 0, total: 2 }, env);
  const old = Date.now() - 25 * 3_600_000;
  writeFileSync(path.join(queue, `${old}-oldpost1.json`), JSON.stringify({ id: "oldpost1" }));
  const result = await flushPulseQueue({ url: server.url, token: "B".repeat(43) }, queue);
  assert.equal(result.dropped, 2, "the old one, and the one a bad token cannot ever send");
  assert.ok(!existsSync(path.join(queue, `${old}-oldpost1.json`)));
});
