/**
 * Work done in a learner's home with the learner's own rights. The learner owns that home and may
 * have put links anywhere in it (to /etc/shadow, to another learner's work): run as root, a write
 * there could be sent where they could never write. So the work runs in a child with their uid and
 * gid, an empty environment and cwd "/": it can reach no further than they could, and what it
 * makes is theirs. The child is a worker module compiled to dist (`hand-out-worker.ts`,
 * `learner-files-worker.ts`) that reads its input as JSON on stdin and prints its answer as JSON.
 */
import { spawn } from "node:child_process";

/** Who the work runs as. */
export interface LearnerId {
  readonly uid: number;
  readonly gid: number;
}

/** A piece of learner-side work: the worker that does it in a child, and the same work for this process. */
export interface LearnerTask<I, O> {
  /** The compiled worker, `path.join(__dirname, "NAME-worker.js")`, which calls `serveLearnerTask(run)`. */
  readonly worker: string;
  /** The work itself; input and answer must survive JSON. */
  readonly run: (input: I) => Promise<O>;
}

export type LearnerAnswer<O> = { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: string };

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs the task as `who`: in a child with their uid and gid, or in this process when it is that
 * user already (a Kubernetes postStart hook, a learner's own server). The answer, or why not.
 *
 * @example
 * const done = await asLearner({ uid: 1001, gid: 1001 }, LEARNER_FILES, { op: "remove", file, digest });
 * if (!done.ok) console.error(done.error);
 */
export async function asLearner<I, O>(who: LearnerId, task: LearnerTask<I, O>, input: I): Promise<LearnerAnswer<O>> {
  if (process.getuid?.() === who.uid) {
    try {
      return { ok: true, value: await task.run(input) };
    } catch (error) {
      return { ok: false, error: messageOf(error) };
    }
  }
  return runWorker(who, task.worker, JSON.stringify(input));
}

/** Learner-side work is a few files: past this, something in the home is holding it up. */
const WORKER_TIMEOUT_MS = 120_000;

function runWorker<O>(who: LearnerId, worker: string, input: string): Promise<LearnerAnswer<O>> {
  return new Promise((resolve) => {
    // detached: Ctrl-C in the instructor's terminal reaches only the command, which lets this work finish
    const child = spawn(process.execPath, [worker], {
      uid: who.uid,
      gid: who.gid,
      cwd: "/",
      env: {},
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    // whatever a learner planted (a FIFO, a file that never ends), the class's command goes on without them
    const late = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({
        ok: false,
        error: `the work as uid ${who.uid} did not finish within ${WORKER_TIMEOUT_MS / 1000} s; look for something odd in that home`,
      });
    }, WORKER_TIMEOUT_MS);
    child.on("close", () => clearTimeout(late));
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdin.on("error", () => undefined); // a child that dies before reading: its exit says why
    child.on("error", (error) => resolve({ ok: false, error: `could not start a process as uid ${who.uid}: ${error.message}` }));
    child.on("close", (code, signal) => {
      if (code !== 0) return resolve({ ok: false, error: workerError(err, code === null ? `killed by ${signal}` : `exit code ${code}`) });
      try {
        resolve({ ok: true, value: JSON.parse(out) as O });
      } catch {
        resolve({ ok: false, error: `the worker as uid ${who.uid} answered no JSON: ${JSON.stringify(out.slice(0, 200))}` });
      }
    });
    child.stdin.end(input);
  });
}

/** A worker prints its error's message alone; a crash (a module it could not load) prints a stack, whose `…Error: …` line says it. */
function workerError(stderr: string, fallback: string): string {
  const text = stderr.trim();
  if (text === "") return fallback;
  return text.split("\n").find((line) => /^\w*Error\b/.test(line)) ?? text;
}

/**
 * The worker's side: reads the input as JSON on stdin, runs the work, prints the answer as JSON;
 * on failure the message alone on stderr and exit code 1. A worker module is this call and nothing else.
 */
export function serveLearnerTask<I, O>(run: (input: I) => Promise<O>): void {
  (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const answer = await run(JSON.parse(Buffer.concat(chunks).toString("utf8")) as I);
    process.stdout.write(JSON.stringify(answer));
  })().catch((error: unknown) => {
    process.stderr.write(`${messageOf(error)}\n`);
    process.exitCode = 1;
  });
}
