#!/usr/bin/env node
/**
 * npm run present                               list the lessons
 * npm run present -- 02-random-picks            present a lesson: slides whose cells run live
 * npm run present -- 02-random-picks --no-browser --port 8000 --ip 127.0.0.1
 * npm run present -- 05-roll-call --class monday   with a Pick button for the class's roll call
 * npm run present -- 01-arrays --class monday --pulse   and the class pulse on exercise slides,
 *                                                     with Pick among those stuck or done
 *                                                     (npm run pulse -- --class monday must run)
 *
 * Ctrl-C stops the presenter and its kernel.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chalk } from "zx";
import { classesDir, openClass, type ClassFile } from "../src/engine/class-file.js";
import { lessonIds, loadLesson } from "../src/engine/lesson-files.js";
import { coursePresenter } from "../src/engine/present-course.js";
import { startPresenter } from "../src/engine/present-server.js";
import { formatProblem } from "../src/engine/problem.js";
import { readPulseSource, type PulseSource } from "../src/engine/pulse-presenter.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = "usage: npm run present -- LESSON [--port N] [--ip ADDRESS] [--no-browser] [--class NAME [--pulse]]";

const say = (message: string): void => console.log(`rollcall: ${message}`);
const isLoopback = (ip: string): boolean => ip === "localhost" || ip === "::1" || ip.startsWith("127.");
function fail(message: string): number {
  console.error(chalk.red(`rollcall: ${message}`));
  return 1;
}

/**
 * Opens the page in the desktop's browser, if there is one; the URL is printed either way.
 * The browser is handed a file that redirects to the page, as Jupyter does: a URL
 * with the token on a command line would be readable by every user of the machine
 * (/proc/PID/cmdline) for as long as the browser runs.
 */
async function openBrowser(url: string): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-present-")); // mode 0700
  const page = path.join(folder, "open.html");
  await writeFile(page, `<!doctype html><meta http-equiv="refresh" content="0;url=${url}"><a href="${url}">the presenter</a>\n`, {
    mode: 0o600,
  });
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(opener, [pathToFileURL(page).href], { stdio: "ignore", detached: true });
  child.on("error", () => say("could not open a browser: open the address above yourself"));
  child.unref();
  process.once("exit", () => rmSync(folder, { recursive: true, force: true }));
}

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    allowPositionals: true,
    options: {
      "no-browser": { type: "boolean", default: false },
      port: { type: "string", default: "8765" },
      ip: { type: "string", default: "127.0.0.1" },
      class: { type: "string" },
      pulse: { type: "boolean", default: false },
    },
  });
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [lessonId, ...extra] = positionals;
  if (lessonId === undefined) {
    console.log(`Lessons to present (${USAGE}):`);
    for (const id of await lessonIds()) {
      const lesson = await loadLesson(id);
      console.log(`  ${id}${lesson.ok ? `  ${lesson.value.title} (${lesson.value.minutes.teach} min)` : ""}`);
    }
    return 0;
  }
  if (extra.length) return fail(`present one lesson at a time, not ${positionals.join(" ")}\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return fail(`--port must be a whole number from 0 to 65535, not "${values.port}"`);
  const first = await loadLesson(lessonId);
  if (!first.ok) return fail(first.problems.map(formatProblem).join("\n"));

  let pulse: PulseSource | undefined;
  if (values.pulse) {
    if (values.class === undefined) return fail(`--pulse shows a class's pulse: say which class with --class NAME\n${USAGE}`);
    const source = await readPulseSource(classesDir(), values.class);
    if (!source.ok) return fail(source.problems.map(formatProblem).join("\n"));
    pulse = source.value;
  }

  let classFile: ClassFile | undefined;
  if (values.class !== undefined) {
    const opened = await openClass(values.class);
    if (!opened.ok) return fail(opened.problems.map(formatProblem).join("\n"));
    classFile = opened.value;
  }

  const presenter = await startPresenter({
    lesson: lessonId,
    host: values.ip,
    port,
    ...coursePresenter(lessonId),
    ...(classFile ? { classFile } : {}),
    ...(pulse ? { pulse } : {}),
  });
  if (!presenter.ok) {
    classFile?.close();
    return fail(presenter.problems.map(formatProblem).join("\n"));
  }
  const { url } = presenter.value;
  say(`presenting ${lessonId} at ${url}  (Ctrl-C stops it; press S on the slides for the speaker view)`);
  if (!isLoopback(values.ip))
    say(
      chalk.yellow(
        `--ip ${values.ip}: anyone on this network who sees the address (a projected terminal, the address bar) can run code here; plain HTTP, so keep to a network you trust`,
      ),
    );
  if (!values["no-browser"]) await openBrowser(url);
  presenter.value.kernel.ready().catch((error: Error) => say(chalk.yellow(`the kernel did not start: ${error.message}`)));

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  // A second Ctrl-C while stopping must not kill this process before its kernel (stopping takes a second at most).
  process.on("SIGINT", () => say("stopping the kernel…"));
  await presenter.value.close();
  classFile?.close();
  say("stopped");
  return 0;
}

runMain("present", main);
