/**
 * GitHub Classroom: the JSON its autograding reporter reads, the command that
 * writes it, and the workflow an instructor copies into the template repository.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { classroomResults, type ClassroomResults } from "../src/engine/classroom.js";
import { projectRoot } from "../src/engine/paths.js";
import { outcome, results } from "./support/results.js";

const run = promisify(execFile);
const WORKFLOW = path.join(projectRoot, "deploy", "github-classroom", "classroom.yml");

let tmp = "";
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "rollcall-classroom-"));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("the reporter's JSON: version, status, max_score, and per test its name, status, score and message", () => {
  const graded = results("ada", [
    outcome("add-student", "adds one", 1.5, 1.5),
    outcome("add-student", "keeps order", 0, 1.5, "fail", { message: "expected [Ada, Bo]", hidden: true }),
    outcome("count-rows", "count-rows", 0, 1, "error", { message: "your answer cell did not run" }),
  ]);
  const common = { test_code: "", filename: "", line_no: 0, duration: 0 };
  assert.deepEqual(classroomResults(graded), {
    version: 1,
    status: "error",
    max_score: 6,
    tests: [
      { name: "add-student: adds one", status: "pass", score: 1.5, message: "", ...common },
      // A hidden test keeps its name and its expected value out of the log the learner can read.
      {
        name: "add-student: hidden test 1",
        status: "fail",
        score: 0,
        message: "a hidden test did not pass: try more cases of your own",
        ...common,
      },
      { name: "count-rows", status: "error", score: 0, message: "your answer cell did not run", ...common },
    ],
  });
});

interface Step {
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, string>;
}
interface Workflow {
  readonly on: string[];
  readonly env: Record<string, string>;
  readonly jobs: Record<string, { steps: Step[] }>;
}
const readWorkflow = async (): Promise<{ workflow: Workflow; steps: Step[] }> => {
  const workflow = parse(await readFile(WORKFLOW, "utf8")) as Workflow;
  return { workflow, steps: Object.values(workflow.jobs).flatMap((j) => j.steps) };
};

test("the workflow's grading step writes that JSON, base64-encoded, as its `result` (a folder without a notebook scores 0)", async () => {
  const { workflow, steps } = await readWorkflow();
  const grading = steps.find((s) => s.run?.includes("npm run classroom"));
  assert.ok(grading?.run);
  // The step as Actions runs it, in the kit's folder; `npm run classroom` stands for its compiled script, without the rebuild.
  const bin = path.join(tmp, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(
    path.join(bin, "npm"),
    `#!/usr/bin/env bash\n[ "$1 $2 $3" = "run classroom --" ] || exit 64\nshift 3\nexec "${process.execPath}" "${path.join(projectRoot, "dist", "scripts", "classroom.mjs")}" "$@"\n`,
    { mode: 0o755 },
  );
  await mkdir(path.join(tmp, "workspace", "submission", ".github", "workflows"), { recursive: true });
  const output = path.join(tmp, "github-output");
  await writeFile(output, "");
  const env = {
    ...process.env,
    ...workflow.env,
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    RUNNER_TEMP: tmp,
    GITHUB_WORKSPACE: path.join(tmp, "workspace"),
    GITHUB_OUTPUT: output,
  };
  const { stdout } = await run("bash", ["-e", "-c", grading.run], { cwd: projectRoot, env });
  assert.match(stdout, /01-arrays: 0\/\d+ \(error\)/);
  const line = (await readFile(output, "utf8")).trim();
  assert.match(line, /^result=[A-Za-z0-9+/=]+$/);
  // What the reporter does with the env var it is given.
  const decoded = JSON.parse(Buffer.from(line.slice("result=".length), "base64").toString("utf8")) as ClassroomResults;
  assert.equal(decoded.version, 1);
  assert.equal(decoded.status, "error");
  assert.ok(decoded.max_score > 0);
  assert.ok(decoded.tests.length >= 1);
  for (const t of decoded.tests) {
    assert.deepEqual(Object.keys(t).sort(), ["duration", "filename", "line_no", "message", "name", "score", "status", "test_code"]);
    assert.equal(t.score, 0);
    assert.match(t.message, /no notebook: submit 01-arrays\.ipynb/);
  }
});

test("the workflow parses, runs only npm scripts the kit has, and hands the reporter the grading step's result", async () => {
  const { workflow, steps } = await readWorkflow();
  assert.ok(workflow.on.includes("push"));
  const scripts = (JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;
  const commands = steps.flatMap((s) => [...(s.run ?? "").matchAll(/\bnpm (?:run )?([\w:-]+)/g)].map((m) => m[1] as string));
  assert.ok(commands.includes("classroom"), "the workflow runs npm run classroom");
  for (const command of commands) assert.ok(command === "ci" || command in scripts, `package.json has a script '${command}'`);

  const grading = steps.find((s) => s.run?.includes("npm run classroom"));
  assert.ok(grading?.id, "the grading step has an id");
  const reporter = steps.find((s) => s.uses?.startsWith("classroom-resources/autograding-grading-reporter@"));
  assert.ok(reporter, "the reporter step");
  assert.equal(reporter.with?.runners, grading.id);
  // The reporter reads `<RUNNER ID in capitals>_RESULTS`.
  assert.equal(reporter.env?.[`${grading.id.toUpperCase()}_RESULTS`], `\${{ steps.${grading.id}.outputs.result }}`);
});
