/**
 * A class on one server under load (root, Debian): N simulated learners
 * (ROLLCALL_BENCH_LEARNERS, default 30) through the hub's REST API with the
 * instructor's service token: make the users, start every server at once, then
 * each opens a tslab kernel over its server's WebSocket channels and runs lesson
 * 01's cells (the instructor copy, so every check passes) at the same moment.
 * Beside it, the same Run All on N kernels started directly (no hub): plain tslab,
 * then the kit's kernel (tslab from its start-up snapshot), with their ratio. Then, the class idle, where
 * one learner's warm cell spends the machine's CPU, part by part: the p95 under load is that cost
 * shared among every busy learner. The accounts are removed afterwards, even when the run fails.
 */
import { copyFile } from "node:fs/promises";
import { cpus } from "node:os";
import path from "node:path";
import { buildLesson } from "../src/engine/build.js";
import { HUB_STATE_FILES } from "../src/engine/hub-config.js";
import { hubApi, openKernel, startServer, type CellRun, type RemoteKernel } from "../src/engine/hub-client.js";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { tslabCommand, type KernelCommand } from "../src/engine/kernel-seam.js";
import { loadLesson } from "../src/engine/lesson-files.js";
import { projectRoot } from "../src/engine/paths.js";
import { formatProblem } from "../src/engine/problem.js";
import { ensureTslabSnapshot, kitKernelCommand } from "../src/engine/tslab-snapshot.js";
import { processesOf } from "../src/engine/unix-accounts.js";
import { hubClass } from "../test/support/hub-class.js";

const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const source = (s: string | readonly string[]): string => (typeof s === "string" ? s : s.join(""));

async function lessonCells(): Promise<string[]> {
  const lesson = await loadLesson("01-arrays");
  if (!lesson.ok) throw new Error(lesson.problems.map(formatProblem).join("\n"));
  return buildLesson(lesson.value)
    .instructor.cells.filter((c) => c.cell_type === "code")
    .map((c) => source(c.source as string | string[]));
}

/** Resident memory (kB) of every process of these uids, from /proc. */
async function residentKb(uids: readonly number[]): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  let total = 0;
  for (const uid of uids) {
    for (const pid of processesOf(uid)) {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
  }
  return total;
}

/** The CPU time (ms) each process on the machine has used, with what it is: from /proc, whose ticks are 10 ms. */
async function cpuOfProcesses(learnerUid: number, classUids: ReadonlySet<number>): Promise<Map<number, { part: string; ms: number }>> {
  const { readFile, readdir } = await import("node:fs/promises");
  const seen = new Map<number, { part: string; ms: number }>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const [stat, status, cmdline] = await Promise.all(
      ["stat", "status", "cmdline"].map((f) => readFile(`/proc/${entry}/${f}`, "utf8").catch(() => "")),
    );
    if (!stat || status === undefined || cmdline === undefined) continue;
    const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const command = cmdline.split("\0").join(" ");
    const part =
      Number(entry) === process.pid
        ? "the simulated learners (this bench)"
        : uid === learnerUid
          ? /tslab|--snapshot-blob/.test(command)
            ? "the learner's kernel"
            : "the learner's server"
          : classUids.has(uid)
            ? "the other learners (idle)"
            : /configurable-http-proxy/.test(command)
              ? "the proxy"
              : /jupyterhub/.test(command)
                ? "JupyterHub"
                : "the rest of the machine";
    seen.set(Number(entry), { part, ms });
  }
  return seen;
}

/**
 * Where a warm cell's CPU goes, on one learner's kernel while the class is idle: the CPU each
 * part of the machine used per cell. Under load every busy learner shares the cores fairly, so
 * with all N busy a cell waits about this total × N ÷ cores: what p95 is made of.
 */
async function cpuPerWarmCell(
  kernel: RemoteKernel,
  learnerUid: number,
  classUids: ReadonlySet<number>,
  cells: number,
): Promise<Record<string, number>> {
  for (let i = 0; i < 20; i++) await kernel.execute(`${i} * 2`); // warm again after the load
  const before = await cpuOfProcesses(learnerUid, classUids);
  for (let i = 0; i < cells; i++) await kernel.execute(`${i} * 3`);
  const after = await cpuOfProcesses(learnerUid, classUids);
  const parts: Record<string, number> = {};
  for (const [pid, now] of after) {
    const used = now.ms - (before.get(pid)?.ms ?? 0);
    if (used > 0) parts[now.part] = (parts[now.part] ?? 0) + used / cells;
  }
  return parts;
}

interface Learned {
  readonly runAll: number;
  readonly warm: number[];
  readonly failures: number;
}

/** Says on stderr why each failure in `settled` happened (the figures only count them). */
function sayWhy(label: string, settled: readonly PromiseSettledResult<unknown>[]): number {
  const failed = settled.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error)?.message ?? r.reason)] : []));
  for (const why of new Set(failed)) console.error(`${label}: ${failed.filter((f) => f === why).length}× ${why}`);
  return failed.length;
}

/** Run All, then a few warm cells, on one kernel; counts a cell that did not end ok as a failure. */
async function runAll(execute: (code: string) => Promise<CellRun>, cells: readonly string[], started: number): Promise<Learned> {
  let failures = 0;
  for (const cell of cells) if ((await execute(cell)).status !== "ok") failures += 1;
  const runAllAt = performance.now() - started;
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const run = await execute(`${i} + 1`);
    if (run.status !== "ok") failures += 1;
    warm.push(run.ms);
  }
  return { runAll: runAllAt, warm, failures };
}

/** `count` kernels of `command` started at once, then each runs the lesson's cells and a few warm ones. */
async function direct(label: string, command: KernelCommand, count: number, cells: readonly string[]): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const began = performance.now();
  let failures = 0;
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => JupyterKernel.start(command, { cwd: projectRoot, startTimeoutMs: 180_000 })),
  );
  failures += sayWhy(label, started);
  const kernels = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  figures[`${label}: all kernels up (s)`] = (performance.now() - began) / 1000;
  const pids = kernels.map((k) => (k as unknown as { child: { pid: number } }).child.pid);
  const runStart = performance.now();
  const results = await Promise.allSettled(
    kernels.map((k) =>
      runAll(
        async (code) => {
          const e = await k.execute(code, { timeoutMs: 120_000 });
          return { status: e.status === "ok" ? "ok" : "error", text: "", ms: e.durationMs };
        },
        cells,
        runStart,
      ),
    ),
  );
  const done = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  failures += sayWhy(label, results) + done.reduce((n, d) => n + d.failures, 0);
  figures[`${label}: every Run All done, from the first start (s)`] = (performance.now() - began) / 1000;
  const warm = done.flatMap((d) => d.warm);
  figures[`${label}: warm cell p50 under load (ms)`] = quantile(warm, 0.5);
  figures[`${label}: warm cell p95 under load (ms)`] = quantile(warm, 0.95);
  let rss = 0;
  for (const pid of pids) {
    const status = await import("node:fs/promises").then((fs) => fs.readFile(`/proc/${pid}/status`, "utf8")).catch(() => "");
    rss += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  figures[`${label}: memory per kernel (MB)`] = rss / 1024 / Math.max(1, kernels.length);
  figures[`${label}: failures`] = failures;
  await Promise.all(kernels.map((k) => k.stop()));
  return figures;
}

export async function benchClass(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) throw new Error("npm run bench -- class makes Unix accounts: run it as root");
  const count = Number(process.env["ROLLCALL_BENCH_LEARNERS"] ?? 30);
  const cells = await lessonCells();
  const hub = await hubClass("load");
  const figures: Record<string, number> = { learners: count };
  // Ctrl-C still removes the accounts
  const interrupted = (): void => void hub.dispose().finally(() => process.exit(130));
  process.once("SIGINT", interrupted);
  try {
    await hub.addLearners(Array.from({ length: count }, (_, i) => ({ name: `Learner ${i + 1}`, email: `load${i + 1}@bench.example` })));
    const { url, token } = await hub.start();
    const admin = hubApi(url, token);
    const users = hub.accounts().map((e) => e.user);
    const uids = hub.accounts().map((e) => e.uid);
    const before = await residentKb(uids);

    const began = performance.now();
    let failures = 0;
    const up = await Promise.allSettled(users.map((u) => startServer(admin, u, 180_000)));
    failures += sayWhy("hub", up);
    figures["hub: all servers up (s)"] = (performance.now() - began) / 1000;

    const ready = users.filter((_, i) => up[i]?.status === "fulfilled");
    const opened = await Promise.allSettled(ready.map((u) => openKernel(new URL(`user/${u}/`, url).href, token)));
    failures += sayWhy("hub", opened);
    const kernels = opened.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const runStart = performance.now();
    const results = await Promise.allSettled(kernels.map((k) => runAll((c) => k.execute(c), cells, runStart)));
    failures += sayWhy("hub", results);
    const done = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    failures += done.reduce((n, d) => n + d.failures, 0);
    figures["hub: every Run All done, from the first request (s)"] = (performance.now() - began) / 1000;
    figures["hub: Run All under load, slowest (s)"] = Math.max(...done.map((d) => d.runAll)) / 1000;
    const warm = done.flatMap((d) => d.warm);
    figures["hub: warm cell p50 under load (ms)"] = quantile(warm, 0.5);
    figures["hub: warm cell p95 under load (ms)"] = quantile(warm, 0.95);
    figures["hub: memory per learner, server + kernel (MB)"] = ((await residentKb(uids)) - before) / 1024 / Math.max(1, kernels.length);
    figures["hub: failures"] = failures;
    const [alone] = kernels;
    const aloneUid = hub.accounts().find((e) => e.user === ready.filter((_, i) => opened[i]?.status === "fulfilled")[0])?.uid;
    if (alone !== undefined && aloneUid !== undefined) {
      const parts = await cpuPerWarmCell(alone, aloneUid, new Set(uids), 200);
      // the server's side: what a class of real learners, whose browsers are elsewhere, would cost this machine
      const serverSide = ["the learner's kernel", "the learner's server", "the proxy", "JupyterHub", "the other learners (idle)"];
      let total = 0;
      for (const [part, ms] of Object.entries(parts).sort(([, a], [, b]) => b - a)) {
        figures[`hub, one learner alone: CPU per warm cell, ${part} (ms)`] = ms;
        if (serverSide.includes(part)) total += ms;
      }
      figures["hub, one learner alone: CPU per warm cell, the server's side (ms)"] = total;
      // a fair share of the cores among every learner's busy kernel: the wait a cell meets when all are busy
      figures["hub: warm cell with every learner busy, by fair share (ms)"] = (total * kernels.length) / cpus().length;
    }
    await Promise.all(kernels.map((k: RemoteKernel) => k.close()));
  } finally {
    process.off("SIGINT", interrupted);
    // ROLLCALL_BENCH_HUB_LOG=FILE keeps JupyterHub's log (its learners' servers log there too): removing the class removes it
    const keep = process.env["ROLLCALL_BENCH_HUB_LOG"];
    if (keep) await copyFile(path.join(hub.stateDir, HUB_STATE_FILES.log), keep).catch(() => undefined);
    await hub.dispose();
  }

  // beside it: the same Run All on kernels started directly, no hub: plain tslab, then the kit's (from its snapshot)
  Object.assign(figures, await direct("plain", tslabCommand(projectRoot), count, cells));
  const snapshot = await ensureTslabSnapshot(projectRoot);
  if (!snapshot.ok) throw new Error(snapshot.problems.map(formatProblem).join("\n"));
  Object.assign(figures, await direct("kit", kitKernelCommand(projectRoot), count, cells));
  const plainDone = figures["plain: every Run All done, from the first start (s)"] ?? NaN;
  figures["kit ÷ plain: every Run All done"] = (figures["kit: every Run All done, from the first start (s)"] ?? NaN) / plainDone;
  // the whole class through the hub (servers included) against bare plain tslab kernels: a ratio that survives the machine's pace
  figures["hub ÷ plain: every Run All done"] = (figures["hub: every Run All done, from the first request (s)"] ?? NaN) / plainDone;
  return figures;
}
