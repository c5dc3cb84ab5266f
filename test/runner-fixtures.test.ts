/**
 * The headless runner, black box: `npm run execute` (dist/scripts/execute.mjs) on
 * the real tslab kernel, against the cases in test/fixtures/runner/<case>/:
 *
 *   case.json      what the case shows ("about") and the command-line flags ("args")
 *   input.ipynb    the notebook as a learner would have it
 *   expected.json  what the runner must make of it: the exit code; for each cell
 *                  its status and message (from the runner's report) and its
 *                  outputs and execution count (from --out); the summary line; stderr
 *
 * Only what is stable is compared: times are dropped, stack frames (Node's and
 * tslab's own lines) become one "at …" line, runs of one character longer than 99
 * become ⟨x ×N⟩, paths become <project> and <dir> (the case's folder), and
 * JSON.parse's own words (they change between Node versions) become "…".
 * Each case runs in a fresh folder of its own, so that its kernel writes nothing here.
 *
 * ROLLCALL_UPDATE_FIXTURES=1 rewrites each expected.json from what the runner does
 * now (the test then passes): read the diff before you keep it. Some cases only:
 * node --test --test-name-pattern=kernel-dies --test-name-pattern=malformed dist/test/runner-fixtures.test.js
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it, test } from "node:test";
import { projectRoot } from "../src/engine/paths.js";

const EXECUTE = path.join(projectRoot, "dist", "scripts", "execute.mjs");
const FIXTURES = path.join(projectRoot, "test", "fixtures", "runner");
const UPDATE = process.env.ROLLCALL_UPDATE_FIXTURES === "1";
/** Each case starts a kernel (~1 to 3 s of CPU): a few at once, not all. */
// One kernel per core: more, on a loaded 2-core CI machine, pushed a kernel start past its 30 s limit.
const AT_ONCE = Math.max(1, Math.min(2, os.availableParallelism()));
/** A runner that hangs fails its case instead of stalling the suite. */
const RUN_LIMIT_MS = 90_000;

interface Case {
  readonly about: string;
  readonly args: readonly string[];
}
/** What a run gave, made comparable. */
interface Outcome {
  readonly exitCode: number | null;
  readonly cells: readonly Record<string, unknown>[];
  readonly summary: string | null;
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
}

const STATUS_OF_MARK: Readonly<Record<string, string>> = {
  "✓": "ok",
  "✗": "error",
  "◷": "timeout",
  "-": "aborted",
  "†": "died",
  "·": "skipped",
};
const CELL_LINE = /^(\S+) cell (\d+) \((.*)\) \d+ ms(?:: (.*))?$/;
const SUMMARY_LINE = /^(.*): (\d+) cells in \d+ ms, (\d+) failed$/;

let tmp = "";
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-runner-fixtures-"));
});
after(async () => {
  if (tmp && !process.env.ROLLCALL_KEEP_RUNS) await rm(tmp, { recursive: true, force: true });
});

/** "a\nb\n" → ["a\n", "b\n"], as nbformat stores text. */
const toLines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
const joined = (value: unknown): string => (Array.isArray(value) ? value.join("") : String(value));

const FRAME = /^\s+at .+/;

function normalise(text: string, dir: string): string {
  const lines = text.split(dir).join("<dir>").split(projectRoot).join("<project>").split("\n");
  // A stack's frames name Node's and tslab's own files and lines: one "at …" for the lot (keeping the " {" of an error with fields).
  const kept = lines.flatMap((line, i) => {
    if (!FRAME.test(line)) return [line];
    if (FRAME.test(lines[i + 1] ?? "")) return [];
    return [`    at …${line.endsWith(" {") ? " {" : ""}`];
  });
  return (
    kept
      .join("\n")
      .replace(/(.)\1{99,}/gsu, (run: string, c: string) => `⟨${c} ×${run.length / c.length}⟩`)
      // JSON.parse words its errors differently from one Node version to the next.
      .replace(/its JSON does not parse \(.*\); open it/, "its JSON does not parse (…); open it")
  );
}

/** An output as nbformat writes it, its texts normalised and kept as lines. */
function normaliseOutput(output: Record<string, unknown>, dir: string): Record<string, unknown> {
  const lines = (value: unknown): string[] => toLines(normalise(joined(value), dir));
  if (output.output_type === "stream") return { ...output, text: lines(output.text) };
  if (output.output_type === "error")
    return {
      ...output,
      evalue: normalise(String(output.evalue), dir),
      traceback: (output.traceback as unknown[]).map((l) => normalise(String(l), dir)),
    };
  const data = Object.fromEntries(
    Object.entries((output.data ?? {}) as Record<string, unknown>).map(([mime, v]) => [
      mime,
      typeof v === "string" || Array.isArray(v) ? lines(v) : v,
    ]),
  );
  return { ...output, data };
}

function runCli(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [EXECUTE, ...args],
      { cwd, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" }, timeout: RUN_LIMIT_MS, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr: error && error.killed ? `${stderr}\n(killed after ${RUN_LIMIT_MS} ms)` : stderr });
      },
    );
  });
}

async function runCase(name: string, spec: Case): Promise<Outcome> {
  const dir = await mkdtemp(path.join(tmp, `${name}-`));
  await copyFile(path.join(FIXTURES, name, "input.ipynb"), path.join(dir, "input.ipynb"));
  const { code, stdout, stderr } = await runCli(["input.ipynb", "--out", "result.ipynb", ...spec.args], dir);

  const reported = new Map<string, { status: string; message?: string }>();
  const order: string[] = [];
  const rest: string[] = [];
  let summary: string | null = null;
  for (const line of stdout.split("\n").filter((l) => l.trim())) {
    const cell = CELL_LINE.exec(line);
    const total = SUMMARY_LINE.exec(line);
    if (cell) {
      const [, mark = "", index = "", id = "", message] = cell;
      reported.set(id, {
        status: STATUS_OF_MARK[mark] ?? `unknown mark ${mark}`,
        ...(message !== undefined ? { message: normalise(message, dir) } : {}),
      });
      order.push(`${index}:${id}`);
    } else if (total) summary = `${total[1]}: ${total[2]} cells in … ms, ${total[3]} failed`;
    else rest.push(normalise(line, dir));
  }

  const result = path.join(dir, "result.ipynb");
  let cells: Record<string, unknown>[] = [];
  if (existsSync(result)) {
    const notebook = JSON.parse(await readFile(result, "utf8")) as { cells: Record<string, unknown>[] };
    // The runner reports each code cell it meant to run, once, in order, by its 1-based place in the notebook.
    const expectedOrder = notebook.cells.flatMap((c, i) => (reported.has(String(c.id)) ? [`${i + 1}:${String(c.id)}`] : []));
    assert.deepEqual(order, expectedOrder, "the runner's report does not follow the notebook's cells");
    cells = notebook.cells.map((c) =>
      c.cell_type !== "code"
        ? { id: c.id, cell_type: c.cell_type }
        : {
            id: c.id,
            ...reported.get(String(c.id)),
            execution_count: c.execution_count,
            outputs: (c.outputs as Record<string, unknown>[]).map((o) => normaliseOutput(o, dir)),
          },
    );
  } else assert.deepEqual(order, [], "cells were reported but no result notebook was written");

  return {
    exitCode: code,
    cells,
    summary,
    stdout: rest,
    stderr: normalise(stderr, dir)
      .split("\n")
      .filter((l) => l.trim()),
  };
}

const cases = readdirSync(FIXTURES)
  .filter((name) => existsSync(path.join(FIXTURES, name, "case.json")))
  .sort();

test("the runner fixtures are all there, each with its notebook and expected result", () => {
  assert.ok(cases.length >= 9, `only ${cases.length} cases in ${FIXTURES}`);
  for (const name of cases) {
    for (const file of ["input.ipynb", ...(UPDATE ? [] : ["expected.json"])])
      assert.ok(existsSync(path.join(FIXTURES, name, file)), `${name}/${file} is missing`);
  }
});

describe("runner fixtures (test/fixtures/runner/)", { concurrency: AT_ONCE }, () => {
  for (const name of cases) {
    it(name, { timeout: RUN_LIMIT_MS + 10_000 }, async () => {
      const spec = JSON.parse(await readFile(path.join(FIXTURES, name, "case.json"), "utf8")) as Case;
      const actual = await runCase(name, spec);
      const expectedFile = path.join(FIXTURES, name, "expected.json");
      if (UPDATE) await writeFile(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      const expected = JSON.parse(await readFile(expectedFile, "utf8")) as Outcome;
      assert.deepEqual(actual, expected, `${name}: ${spec.about}`);
    });
  }
});
