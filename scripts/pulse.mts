#!/usr/bin/env node
/**
 * npm run pulse -- --class CLASS [--port N] [--ip ADDRESS] [--lesson ID] [--stuck MINUTES] [--classes DIR]
 * npm run pulse -- tokens CLASS [--classes DIR]
 * npm run pulse -- report CLASS [--csv] [--classes DIR]
 *
 * The first starts the class pulse service and prints the dashboard's URL (with a
 * new instructor token: each start makes one, and the one before stops working).
 * `tokens` gives every learner of the class a new pulse token, written to
 * classes/CLASS-pulse-tokens.csv (readable by you only): hand each learner theirs.
 * `report` prints the class's progress per lesson and exercise.
 */
import { stringify } from "csv-stringify/sync";
import { writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { chalk } from "zx";
import { renderTable } from "../src/display.js";
import { classesDir, fromUserFolder, openClass } from "../src/engine/class-file.js";
import { formatProblem } from "../src/engine/problem.js";
import { pulseSourceFile, writePulseSource } from "../src/engine/pulse-presenter.js";
import { startPulseServer } from "../src/engine/pulse-server.js";
import { openPulseStore, pulseFileFor, pulseTokensFileFor } from "../src/engine/pulse-store.js";
import { progressReport } from "../src/engine/pulse-summary.js";
import { courseCatalogue } from "../src/engine/pulse-validate.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = [
  "usage: npm run pulse -- --class CLASS [--port N] [--ip ADDRESS] [--lesson ID] [--stuck MINUTES] [--classes DIR]",
  "       npm run pulse -- tokens CLASS [--classes DIR]",
  "       npm run pulse -- report CLASS [--csv] [--classes DIR]",
].join("\n");

const fail = (message: string, code = 1): number => {
  console.error(chalk.red(`rollcall: ${message}`));
  return code;
};

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    allowPositionals: true,
    options: {
      class: { type: "string" },
      classes: { type: "string" },
      port: { type: "string", default: "8765" },
      ip: { type: "string", default: "127.0.0.1" },
      lesson: { type: "string" },
      stuck: { type: "string", default: "5" },
      csv: { type: "boolean", default: false },
    },
  });
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const dir = values.classes !== undefined ? fromUserFolder(values.classes) : classesDir();
  const [command, name, ...rest] = positionals;
  if (command === "tokens" && name !== undefined && rest.length === 0) return tokens(dir, name);
  if (command === "report" && name !== undefined && rest.length === 0) return report(dir, name, values.csv);
  if (command === undefined && values.class !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      return fail(`--port must be a whole number from 0 to 65535, not "${values.port}"`, 2);
    const stuck = Number(values.stuck);
    if (!Number.isInteger(stuck) || stuck < 1 || stuck > 240) return fail(`--stuck must be a whole number of minutes from 1 to 240`, 2);
    return serve(dir, values.class, { port, ip: values.ip, stuck, ...(values.lesson !== undefined ? { lesson: values.lesson } : {}) });
  }
  console.error(USAGE);
  return 2;
}

/** The class's learners who are still on its roster; a message when there is no such class. */
async function rosterOf(dir: string, name: string): Promise<{ email: string; name: string }[] | string> {
  const opened = await openClass(name, { dir });
  if (!opened.ok) return opened.problems.map(formatProblem).join("\n");
  try {
    return opened.value.learners().filter((l) => !l.left);
  } finally {
    opened.value.close();
  }
}

async function tokens(dir: string, name: string): Promise<number> {
  const learners = await rosterOf(dir, name);
  if (typeof learners === "string") return fail(learners);
  if (learners.length === 0)
    return fail(`class ${name} has no learners: import a roster first (npm run class -- import ${name} roster.csv)`);
  const store = openPulseStore(pulseFileFor(dir, name));
  try {
    const issued = store.issueLearnerTokens(learners);
    const file = pulseTokensFileFor(dir, name);
    const rows = issued.map(({ learner, token }) => ({ name: learner.name, email: learner.email, token }));
    writeFileSync(file, stringify(rows, { header: true }), { mode: 0o600 });
    console.log(`rollcall: ${issued.length} new pulse tokens in ${file} (readable by you only; the tokens before them stop working)`);
    console.log("rollcall: a learner turns the pulse on with npm start -- --pulse URL --token THEIR_TOKEN");
    return 0;
  } finally {
    store.close();
  }
}

async function report(dir: string, name: string, csv: boolean): Promise<number> {
  const learners = await rosterOf(dir, name);
  if (typeof learners === "string") return fail(learners);
  const store = openPulseStore(pulseFileFor(dir, name));
  try {
    const rows = progressReport(await courseCatalogue(), store.learners(), store.posts(), new Date());
    const shown = rows.map((r) => ({
      lesson: r.lesson,
      exercise: r.exercise,
      passed: r.passed,
      trying: r.trying,
      "not started": r.notStarted,
    }));
    console.log(csv ? stringify(shown, { header: true }).trimEnd() : renderTable(shown).text);
    return 0;
  } finally {
    store.close();
  }
}

async function serve(dir: string, name: string, options: { port: number; ip: string; stuck: number; lesson?: string }): Promise<number> {
  const learners = await rosterOf(dir, name);
  if (typeof learners === "string") return fail(learners);
  const catalogue = await courseCatalogue();
  if (options.lesson !== undefined && !catalogue.has(options.lesson)) {
    return fail(`there is no lesson '${options.lesson}': choose one of ${[...catalogue.keys()].join(", ")}`, 2);
  }
  const store = openPulseStore(pulseFileFor(dir, name));
  if (store.learners().length === 0)
    console.log(chalk.yellow(`rollcall: no learner has a pulse token yet: run npm run pulse -- tokens ${name}`));
  if (options.ip !== "127.0.0.1" && options.ip !== "localhost" && options.ip !== "::1") {
    console.log(
      chalk.yellow(
        `rollcall: listening on ${options.ip}: anyone on that network can reach the service (tokens still guard it; it is plain HTTP)`,
      ),
    );
  }
  let server;
  try {
    server = await startPulseServer({
      className: name,
      store,
      catalogue,
      host: options.ip,
      port: options.port,
      stuckMinutes: options.stuck,
      ...(options.lesson !== undefined ? { lesson: options.lesson } : {}),
    });
  } catch (error) {
    store.close();
    const code = (error as { code?: unknown }).code;
    if (code === "EADDRINUSE") return fail(`port ${options.port} is taken: try another, e.g. --port ${options.port + 1}`);
    if (code === "EADDRNOTAVAIL") return fail(`--ip ${options.ip} is not an address of this machine: try --ip 127.0.0.1`);
    throw error;
  }
  console.log(`rollcall: the class pulse of ${name} is at ${server.url}  (Ctrl-C stops it)`);
  const instructorToken = store.issueInstructorToken();
  // For npm run present -- … --class NAME --pulse, which reads it here rather than from a command line;
  // written before the dashboard line, so that whoever sees that line finds it.
  const sourceFile = pulseSourceFile(dir, name);
  await writePulseSource(sourceFile, { url: loopbackUrl(server.url), instructorToken });
  console.log(`rollcall: dashboard: ${server.dashboardUrl(instructorToken)}`);
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void running.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  store.close();
  await rm(sourceFile, { force: true });
  console.log("rollcall: the class pulse stopped");
  return 0;
}

/** The service's address as this machine reaches it: a service on every address (0.0.0.0, ::) is also on loopback. */
const loopbackUrl = (url: string): string => url.replace(/^http:\/\/(0\.0\.0\.0|\[::\])(?=:)/, "http://127.0.0.1");

runMain("pulse", main);
