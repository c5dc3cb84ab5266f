/**
 * The class pulse under a class's load: 30 learners × 20 self-checks spread over
 * 60 s, each through the notebook's own path (queued on disk, sent in the
 * background) to `npm run pulse` in its own process, while a dashboard listens to
 * the event stream. Figures: how many posts were lost, and how long from the check's
 * run to its arrival on the dashboard (p50, p95, max).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openClass } from "../src/engine/class-file.js";
import { projectRoot } from "../src/engine/paths.js";
import { openPulseStore, pulseFileFor } from "../src/engine/pulse-store.js";
import { parseRoster } from "../src/engine/roster-csv.js";
import { flushPulseQueue, sharePulse } from "../src/pulse.js";

const LEARNERS = 30;
const CHECKS = 20;
const SPREAD_MS = 60_000;
const EXERCISES = ["last-student", "enroll", "withdraw", "starting-with", "cohort-emails"];

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function benchPulse(): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-bench-pulse-"));
  const roster = parseRoster(
    ["name,email", ...Array.from({ length: LEARNERS }, (_, i) => `Learner ${i},learner${i}@example.org`)].join("\n"),
    "roster.csv",
  );
  if (!roster.ok) throw new Error("the bench roster is wrong");
  const opened = await openClass("bench", { dir, create: true });
  if (!opened.ok) throw new Error("could not make the bench class");
  opened.value.importRoster(roster.value, "roster.csv");
  const store = openPulseStore(pulseFileFor(dir, "bench"));
  const learners = store
    .issueLearnerTokens(opened.value.learners())
    .map(({ token }, i) => ({ token, queue: path.join(dir, `queue-${i}`) }));
  opened.value.close();
  store.close();

  const child = spawn(
    process.execPath,
    [path.join(projectRoot, "dist", "scripts", "pulse.mjs"), "--class", "bench", "--classes", dir, "--port", "0"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const dashboard = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /dashboard: (\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`npm run pulse exited (${code}):\n${output}`)));
  });
  const { origin, searchParams } = new URL(dashboard);
  const instructor = searchParams.get("token") ?? "";

  const ranAt = new Map<string, number>();
  const latencies: number[] = [];
  const controller = new AbortController();
  const stream = await fetch(`${origin}/dashboard/events?lesson=01-arrays`, {
    headers: { Cookie: `rollcall_pulse=${instructor}` },
    signal: controller.signal,
  });
  const reading = (async () => {
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const data = buffer
            .slice(0, end)
            .split("\n")
            .find((l) => l.startsWith("data: "));
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const arrived = performance.now();
          for (const id of (JSON.parse(data.slice(6)) as { ids: string[] }).ids) {
            const ran = ranAt.get(id);
            if (ran !== undefined) latencies.push(arrived - ran);
          }
        }
      }
    } catch {
      // aborted at the end
    }
  })();

  const started = performance.now();
  await Promise.all(
    learners.map(async (learner, i) => {
      const env = {
        ROLLCALL_PULSE_URL: origin,
        ROLLCALL_PULSE_TOKEN: learner.token,
        ROLLCALL_PULSE_QUEUE: learner.queue,
        ROLLCALL_PULSE_LESSON: "01-arrays",
      };
      for (let n = 0; n < CHECKS; n++) {
        // Each learner's checks at their own steady pace, the class's start times spread over one interval.
        const due = started + ((n + i / LEARNERS) * SPREAD_MS) / CHECKS;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        const before = new Set(existsSync(learner.queue) ? readdirSync(learner.queue) : []);
        const ran = performance.now();
        sharePulse(
          { exercise: EXERCISES[(i + n) % EXERCISES.length] ?? "enroll", status: n % 4 === 3 ? "pass" : "fail", passed: 1, total: 1 },
          env,
        );
        for (const file of readdirSync(learner.queue)) {
          if (!before.has(file) && file.endsWith(".json")) ranAt.set(file.slice(file.indexOf("-") + 1, -".json".length), ran);
        }
      }
      await flushPulseQueue({ url: origin, token: learner.token }, learner.queue);
    }),
  );
  const deadline = performance.now() + 5000;
  while (latencies.length < ranAt.size && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const elapsed = (performance.now() - started) / 1000;
  controller.abort();
  await reading;
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));

  const after = openPulseStore(pulseFileFor(dir, "bench"));
  const stored = new Set(after.posts().map((p) => p.id));
  after.close();
  await rm(dir, { recursive: true, force: true });
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    "posts (30 learners × 20 checks)": ranAt.size,
    "posts lost (not stored)": [...ranAt.keys()].filter((id) => !stored.has(id)).length,
    "posts never seen on the dashboard": ranAt.size - latencies.length,
    "check run → dashboard, p50 ms": quantile(sorted, 0.5),
    "check run → dashboard, p95 ms": quantile(sorted, 0.95),
    "check run → dashboard, max ms": sorted.at(-1) ?? NaN,
    "seconds for the whole load": elapsed,
  };
}
