/**
 * The grader's side of the workers: start them contained, run cells and checks one
 * at a time behind the kernel seam (`GradingKernel`) with time, memory, disk and
 * output limits, believe only signed messages, and recycle a worker after anything
 * abnormal. Kernel start (~1 s) is paid once per worker, not once per submission.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import type { Duplex } from "node:stream";
import type { CompiledCheck } from "./check-realm.js";
import { jsonLine, readJsonLines } from "./json-lines.js";
import type { CellStatus, CheckExecution, ExecuteOptions, GradingKernel } from "./kernel-seam.js";
import { interruptThenKill } from "./limits.js";
import { projectRoot } from "./paths.js";
import { keepStderrTail, type StderrTail } from "./stderr-tail.js";
import { signMessage, type Signed, type WorkerCommand, type WorkerMessage } from "./grade-protocol.js";

export interface Limits {
  readonly cellTimeoutMs: number;
  /** Wall clock for a whole notebook, every retry included. */
  readonly submissionTimeoutMs: number;
  readonly maxOutputChars: number;
  readonly memoryMb: number;
  /** What a learner's code may keep in its scratch folder at once. */
  readonly maxScratchBytes: number;
  /** Learners one worker process grades before a fresh one takes over (1: a process per learner). */
  readonly submissionsPerWorker: number;
}

export const DEFAULT_LIMITS: Limits = {
  cellTimeoutMs: 10_000,
  submissionTimeoutMs: 60_000,
  maxOutputChars: 20_000,
  memoryMb: 512,
  maxScratchBytes: 50 * 1024 * 1024,
  submissionsPerWorker: 100,
};

const WORKER_SCRIPT = path.join(projectRoot, "dist", "src", "engine", "grade-worker.js");
const TAMPERED = "stopped: the grader received a message it did not send (tampering)";

/**
 * What a grader keeps on disk while it runs, in node_modules/.cache/rollcall/grading/PID/: a
 * scratch folder per worker (N/, the only place a learner's code may write; see `makeOwnRoot`)
 * and node_modules/, what the cells' compiler resolves packages through. It is inside the
 * project, so that the compiler still finds the project's packages above it, and outside build/,
 * which a class's hub closes to everyone but root, so that a worker running as a uid of its own
 * can reach its folder. A grader that is killed leaves its folder; the next one removes it.
 */
export const gradingRoot = path.join(projectRoot, "node_modules", ".cache", "rollcall", "grading");
const ownRoot = path.join(gradingRoot, String(process.pid));
const runtimeModules = path.join(ownRoot, "node_modules");
const projectModules = path.join(projectRoot, "node_modules");

/** Folders of graders that are gone (killed, even with -9): nobody else removes them. */
export function removeStaleScratch(): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(gradingRoot);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/^(\d+)(-\d+)?$/.exec(entry)?.[1]);
    if (!pid || pid === process.pid || isRunning(pid)) continue;
    try {
      rmSync(path.join(gradingRoot, entry), { recursive: true, force: true });
    } catch {
      // another user's grader left it (root's, say): theirs to remove
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Bytes under a folder, stopping early past `cap` (a learner's many small files cost no more to count). */
function bytesUnder(dir: string, cap: number): number {
  let total = 0;
  const stack = [dir];
  while (stack.length && total <= cap) {
    const current = stack.pop() as string;
    let names: string[];
    try {
      names = readdirSync(current);
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        const info = lstatSync(path.join(current, name));
        total += info.isDirectory() ? 4096 : info.size;
        if (info.isDirectory()) stack.push(path.join(current, name));
      } catch {
        // gone meanwhile
      }
      if (total > cap) break;
    }
  }
  return total;
}

/** The project's packages, each by its own folder (scoped ones too), but for the `rollcall` link to the project itself. */
function projectPackages(): string[] {
  const packages: string[] = [];
  for (const entry of readdirSync(projectModules)) {
    if (entry === "rollcall" || entry.startsWith(".")) continue;
    const full = path.join(projectModules, entry);
    if (entry.startsWith("@")) packages.push(...readdirSync(full).map((name) => path.join(full, name)));
    else packages.push(full);
  }
  return packages.filter((p) => !lstatSync(p).isSymbolicLink());
}

/**
 * The node_modules the cells' compiler finds first: "rollcall" as a real folder holding
 * the helpers' types, and links to the @types packages. Node checks a path as written,
 * so a worker may read nothing under the project's node_modules/ as a whole (its
 * `rollcall` link leads to the whole project): this folder stands in for it.
 */
function writeRuntimeModules(): void {
  rmSync(runtimeModules, { recursive: true, force: true });
  const types = path.join(runtimeModules, "rollcall");
  mkdirSync(types, { recursive: true });
  const helpers = path.join(projectRoot, "dist", "src");
  writeFileSync(path.join(types, "package.json"), `${JSON.stringify({ name: "rollcall", private: true, types: "index.d.ts" })}\n`);
  for (const file of readdirSync(helpers)) if (file.endsWith(".d.ts")) copyFileSync(path.join(helpers, file), path.join(types, file));
  // public types, for a worker of any uid to read, whatever the umask or the copies' modes
  for (const dir of [runtimeModules, types]) chmodSync(dir, 0o755);
  for (const file of readdirSync(types)) chmodSync(path.join(types, file), 0o644);
  mkdirSync(path.join(runtimeModules, "@types"));
  chmodSync(path.join(runtimeModules, "@types"), 0o755);
  for (const name of readdirSync(path.join(projectModules, "@types")))
    symlinkSync(path.join(projectModules, "@types", name), path.join(runtimeModules, "@types", name));
}

/** What a worker may read: the packages cells need, the runtime node_modules above, the compiled helpers, its scratch folder. */
function readablePaths(scratch: string): string[] {
  // The compiler also looks for node_modules further up, where none is, until the project's own.
  const between: string[] = [];
  for (let dir = path.dirname(ownRoot); dir !== projectRoot && dir !== path.dirname(dir); dir = path.dirname(dir)) between.push(dir);
  const lookups = between.flatMap((dir) => [path.join(dir, "node_modules"), path.join(dir, "node_modules", "@types")]);
  return [
    ...projectPackages().map((p) => `${p}/`),
    `${runtimeModules}/`,
    `${path.join(projectRoot, "dist", "src")}/`,
    path.join(projectRoot, "package.json"),
    `${scratch}/`,
    ...lookups,
  ];
}

const isRoot = process.getuid?.() === 0;

/** Runs the worker without a network where this machine allows it (root, or unprivileged user namespaces). */
const networkless: readonly string[] = (() => {
  // root makes the namespace itself: mapping root to root there would leave no other uid to drop to
  if (isRoot && spawnSync("unshare", ["--net", "true"], { stdio: "ignore" }).status === 0) return ["unshare", "--net", "--"];
  const probe = spawnSync("unshare", ["--net", "--map-root-user", "true"], { stdio: "ignore" });
  return probe.status === 0 ? ["unshare", "--net", "--map-root-user", "--"] : [];
})();

export const networkIsolated = (): boolean => networkless.length > 0;

/** Where a worker's uid is drawn from, afresh for each worker: above any passwd or subordinate range a system hands out. */
const WORKER_UIDS = [3_000_000_000, 4_000_000_000] as const;
const freshUid = (): number => randomInt(WORKER_UIDS[0], WORKER_UIDS[1]);

/** The command prefix that runs what follows as `uid`: no groups, and nothing it starts may gain a privilege. */
const dropTo = (uid: number): readonly string[] => [
  "setpriv",
  `--reuid=${uid}`,
  `--regid=${uid}`,
  "--clear-groups",
  "--no-new-privs",
  "--",
];

/**
 * Whose the workers' processes are. A grader run as root (on a class's hub, after collect) still
 * runs each learner's code as nobody: a uid of its own that no account has, drawn afresh for each
 * worker, so that nothing past the worker's other walls (the permission model, the realm) is
 * root's to touch, and no worker may signal another. Where that cannot work (no setpriv, a kit
 * other users cannot read, a container that maps no such uid) they are root's, and grade says why.
 */
type WorkerAccounts =
  { readonly kind: "the grader's" } | { readonly kind: "their own" } | { readonly kind: "root's"; readonly why: string };
let accounts: WorkerAccounts = { kind: "the grader's" };

/** What a worker reads before it runs a learner's cell: each must be readable by a uid of no account. */
function readFirst(): string[] {
  const listed = (dir: string, ends: string): string[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith(ends))
      .map((f) => path.join(dir, f));
  const helpers = path.join(projectRoot, "dist", "src");
  return [
    path.join(projectRoot, "package.json"),
    ...listed(helpers, ".js"),
    ...listed(path.join(helpers, "engine"), ".js"),
    ...listed(path.join(runtimeModules, "rollcall"), ""),
    ...projectPackages().flatMap((p) => [p, path.join(p, "package.json")]),
    ...listed(path.join(projectModules, "tslab", "dist"), ".js"),
    ...listed(path.join(projectModules, "@tslab", "typescript-for-tslab", "lib"), ".d.ts"), // the cells' compiler
    path.join(projectModules, "@tslab", "typescript-for-tslab", "lib", "typescript.js"),
    path.join(projectModules, "ses", "package.json"),
    path.join(projectModules, "sql.js", "dist", "sql-wasm.wasm"),
  ];
}

/** Why a process of a uid of no account could not read `files` (or could not be started as one), or undefined when it could. */
export function cannotRunAsOwnUid(files: readonly string[]): string | undefined {
  const [program = "", ...args] = dropTo(freshUid());
  const check =
    "for (const f of process.argv.slice(1)) { try { require('fs').accessSync(f, 4) } catch { console.error(`cannot read ${f}`); process.exit(1) } }";
  const probe = spawnSync(program, [...args, process.execPath, "-e", check, ...files], { encoding: "utf8" });
  if (probe.error) return `${program}: ${probe.error.message}`;
  return probe.status === 0 ? undefined : probe.stderr.trim().split("\n").pop() || `exit code ${String(probe.status)}`;
}

/** Why learners' code runs as root here (a grader run as root that could not run it as nobody), or undefined: the grade command says so. */
export const workersRunAsRoot = (): string | undefined => (accounts.kind === "root's" ? accounts.why : undefined);

/**
 * The grader's own folder, made afresh: the runtime node_modules in it, then whose the workers
 * will be. Others may pass through it (0711) only when the workers are their own uids and need
 * to; a scratch folder in it is root's and its worker's group's (0770), so that the learner's
 * code, which may write there, cannot open it to anyone (only an owner may chmod). Otherwise it
 * is 0700: a worker of root's must find nothing in its scratch that someone else put there.
 */
function makeOwnRoot(): void {
  rmSync(ownRoot, { recursive: true, force: true });
  mkdirSync(gradingRoot, { recursive: true });
  mkdirSync(ownRoot);
  chmodSync(ownRoot, 0o700); // whatever the umask
  writeRuntimeModules();
  if (!isRoot) return;
  chmodSync(ownRoot, 0o711);
  const why = cannotRunAsOwnUid(readFirst());
  accounts = why === undefined ? { kind: "their own" } : { kind: "root's", why };
  if (why !== undefined) chmodSync(ownRoot, 0o700);
}

let nextWorker = 0;

/** A contained worker behind the kernel seam: one learner at a time, one cell or check at a time. */
export class GradingWorker implements GradingKernel {
  private readonly key = randomBytes(32).toString("hex");
  /** The command in flight and how to hand it its answer. */
  private waiter: { readonly id: number; readonly resolve: (m: WorkerMessage | undefined) => void } | undefined;
  private nextId = 0;
  private tampered = false;
  /** Set the moment a kill is sent: the process may take a while to be gone, but it is done. */
  private killed = false;
  private exitInfo: string | undefined;
  /** Why this worker was stopped (memory, disk, tampering): said for the cell that was running. */
  private stopReason: { readonly status: CellStatus; readonly message: string } | undefined;
  private readonly stderr: StderrTail;
  private readonly exited: Promise<void>;
  private readonly watch: NodeJS.Timeout;
  learners = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly scratch: string,
    private readonly limits: Limits,
  ) {
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${String(code)}`;
        clearInterval(this.watch);
        rmSync(this.scratch, { recursive: true, force: true });
        resolve();
      }),
    );
    child.on("error", () => {}); // a closed channel or a failed kill: the exit says what happened
    this.stderr = keepStderrTail(child.stderr);
    child.stdout?.resume(); // learner code writing straight to fd 1 is ignored
    // A line that is not even JSON: somebody else wrote on this worker's channel.
    readJsonLines(
      this.channel,
      (raw) => this.receive(raw as Signed),
      () => this.distrust(),
    );
    this.channel.on("error", () => {}); // a closed pipe: the exit says what happened
    // Memory and disk, checked whether or not a cell is running (a learner's timer runs between cells too).
    this.watch = setInterval(() => {
      if (this.residentMb() > limits.memoryMb) this.kill("error", `stopped: the code used more than ${limits.memoryMb} MB of memory`);
      else if (bytesUnder(this.scratch, limits.maxScratchBytes) > limits.maxScratchBytes)
        this.kill("error", `stopped: the code wrote more than ${Math.round(limits.maxScratchBytes / 2 ** 20)} MB to disk`);
    }, 100);
    this.watch.unref();
  }

  /** The worker's channel: a pipe at its fd 3, JSON lines each way. */
  private get channel(): Duplex {
    return this.child.stdio[3] as Duplex;
  }

  private receive(raw: Signed): void {
    const message = this.verify(raw);
    // Not signed by this worker's key: nothing it says is to be believed again.
    if (!message) this.distrust();
    else if (message.type === "ready" || message.id === this.waiter?.id) this.waiter?.resolve(message);
  }

  private distrust(): void {
    this.tampered = true;
    this.kill("error", TAMPERED);
  }

  /** Starts a worker; `ready` settles once it has answered (or failed to start). */
  static start(limits: Limits, checks: readonly CompiledCheck[]): { worker: GradingWorker; ready: Promise<GradingWorker> } {
    const scratch = path.join(ownRoot, String(nextWorker++));
    mkdirSync(scratch, { mode: 0o700 }); // never one that was there already
    const uid = accounts.kind === "their own" ? freshUid() : undefined;
    if (uid !== undefined) {
      chownSync(scratch, 0, uid);
      chmodSync(scratch, 0o770);
    }
    // Node 20 takes one path a flag; a folder ends in "/". dist/src only: dist/test and dist/bench hold right answers.
    const reads = readablePaths(scratch);
    const node = [
      process.execPath,
      "--experimental-permission",
      ...reads.map((r) => `--allow-fs-read=${r}`),
      `--allow-fs-write=${scratch}/`,
      `--max-old-space-size=${Math.max(64, Math.floor(limits.memoryMb / 2))}`,
      "--disable-warning=ExperimentalWarning",
      "--no-warnings",
      WORKER_SCRIPT,
    ];
    const [program, ...args] = [...networkless, ...(uid === undefined ? [] : dropTo(uid)), ...node];
    const env = { PATH: process.env.PATH ?? "", HOME: scratch, TMPDIR: scratch, NODE_ENV: "production" };
    const child = spawn(program ?? process.execPath, args, { cwd: scratch, env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const worker = new GradingWorker(child, scratch, limits);
    return { worker, ready: worker.handshake(checks).then(() => worker) };
  }

  private verify(raw: Signed): WorkerMessage | undefined {
    if (
      typeof raw !== "object" ||
      raw === null ||
      typeof raw.body !== "string" ||
      typeof raw.mac !== "string" ||
      raw.mac !== signMessage(this.key, raw.body)
    )
      return undefined;
    return JSON.parse(raw.body) as WorkerMessage;
  }

  private async handshake(checks: readonly CompiledCheck[]): Promise<void> {
    const ready = this.answer(0);
    this.channel.write(jsonLine({ type: "init", key: this.key, checks } satisfies WorkerCommand));
    if ((await ready)?.type !== "ready") {
      throw new Error(`the grading worker did not start (${this.exitInfo ?? "no answer"}): ${this.stderr.lines(3).join(" | ")}`);
    }
  }

  /** The answer to command `id`, or undefined once the worker is gone. */
  private answer(id: number): Promise<WorkerMessage | undefined> {
    return new Promise((resolve) => {
      this.waiter = { id, resolve };
      void this.exited.then(() => resolve(undefined));
    }).finally(() => {
      this.waiter = undefined;
    }) as Promise<WorkerMessage | undefined>;
  }

  get alive(): boolean {
    return this.exitInfo === undefined && !this.killed;
  }

  private kill(status: CellStatus, message: string): void {
    this.stopReason ??= { status, message };
    if (this.alive) this.child.kill("SIGKILL");
    this.killed = true;
  }

  /** Sends one command and waits for its answer, at most `timeoutMs` (then an interrupt, then a kill). */
  private async send(
    command: WorkerCommand & { id: number },
    timeoutMs: number,
    timeoutMessage: string,
  ): Promise<{ reply?: WorkerMessage; timedOut: boolean }> {
    if (!this.alive) return { timedOut: false };
    const reply = this.answer(command.id);
    let timedOut = false;
    const settled = interruptThenKill(timeoutMs, {
      interrupt: () => {
        timedOut = true;
        this.child.kill("SIGINT");
      },
      kill: () => this.kill("timeout", timeoutMessage),
    });
    this.channel.write(jsonLine(command));
    const answered = await reply;
    settled();
    return { ...(answered ? { reply: answered } : {}), timedOut };
  }

  /** How a cell or check ended, in the kernel seam's terms; never throws for anything the learner's code does. */
  private async cell(command: Extract<WorkerCommand, { type: "execute" | "check" }>, options: ExecuteOptions): Promise<CheckExecution> {
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? this.limits.cellTimeoutMs;
    const timeoutMessage = `stopped: this cell was still running after ${timeoutMs / 1000} s (an endless loop?)`;
    const { reply, timedOut } = await this.send(command, timeoutMs, timeoutMessage);
    const durationMs = performance.now() - started;
    const end = reply?.type === "cell-end" ? reply : undefined;
    const outputs = end?.outputs ?? [];
    if (this.tampered) return { status: "error", outputs, executionCount: null, durationMs, message: TAMPERED };
    if (timedOut) {
      // An interrupt can stop trusted code halfway (the check realm's bookkeeping, say): the next cells get a fresh worker.
      this.kill("timeout", timeoutMessage);
      return { status: "timeout", outputs, executionCount: null, durationMs, message: timeoutMessage };
    }
    if (!end) {
      const message =
        this.stopReason?.message ??
        (/heap out of memory/i.test(this.stderr.text)
          ? `stopped: the code used more than the ${this.limits.memoryMb} MB memory limit`
          : `stopped: the code ended the grading process (${this.exitInfo ?? "it stopped answering"}); code must not exit or crash the kernel`);
      this.kill("died", message);
      return { status: this.stopReason?.status ?? "died", outputs, executionCount: null, durationMs, message };
    }
    return { status: end.status, outputs, executionCount: null, durationMs, ...(end.check ? { check: end.check } : {}) };
  }

  execute(code: string, options: ExecuteOptions = {}): Promise<CheckExecution> {
    return this.cell(
      { type: "execute", id: ++this.nextId, source: code, maxOutputChars: options.maxOutputChars ?? this.limits.maxOutputChars },
      options,
    );
  }

  check(exercise: string, options: ExecuteOptions = {}): Promise<CheckExecution> {
    return this.cell(
      { type: "check", id: ++this.nextId, exercise, maxOutputChars: options.maxOutputChars ?? this.limits.maxOutputChars },
      options,
    );
  }

  async beginLearner(): Promise<void> {
    this.learners++;
    await this.send({ type: "begin", id: ++this.nextId }, this.limits.cellTimeoutMs, "stopped: the worker did not start the next learner");
  }

  async endLearner(): Promise<{ readonly recycle?: string }> {
    const { reply } = await this.send(
      { type: "end", id: ++this.nextId },
      this.limits.cellTimeoutMs,
      "stopped: the worker did not finish the learner",
    );
    if (reply?.type !== "ended") return { recycle: "the worker stopped answering" };
    return reply.recycle ? { recycle: reply.recycle } : {};
  }

  interrupt(): void {
    if (this.alive) this.child.kill("SIGINT");
  }

  private residentMb(): number {
    try {
      const pages = Number(readFileSync(`/proc/${this.child.pid}/statm`, "utf8").split(" ")[1]);
      return (pages * 4096) / (1024 * 1024);
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    if (this.exitInfo === undefined) this.child.kill("SIGKILL");
    this.killed = true;
    await this.exited;
  }
}

/** N warm workers; a worker that saw anything abnormal is replaced by a fresh one. */
export class WorkerPool {
  private readonly idle: GradingWorker[] = [];
  private readonly waiting: { resolve: (w: GradingWorker) => void; reject: (e: Error) => void }[] = [];
  private readonly starting = new Map<GradingWorker, Promise<void>>();
  private closed = false;
  /** Why a worker could not start: every wait fails with it, at once, rather than hang. */
  private failure: Error | undefined;

  constructor(
    size: number,
    private readonly limits: Limits,
    private readonly checks: readonly CompiledCheck[],
  ) {
    removeStaleScratch();
    makeOwnRoot();
    for (let i = 0; i < size; i++) this.spawnOne();
  }

  private spawnOne(): void {
    const { worker, ready } = GradingWorker.start(this.limits, this.checks);
    const started = ready.then(
      (w) => this.give(w),
      (error: Error) => {
        if (this.closed) return;
        this.failure = error;
        for (const waiter of this.waiting.splice(0)) waiter.reject(error);
      },
    );
    this.starting.set(worker, started);
    void started.finally(() => this.starting.delete(worker));
  }

  private give(worker: GradingWorker): void {
    if (this.closed) {
      void worker.stop();
      return;
    }
    const taker = this.waiting.shift();
    if (taker) taker.resolve(worker);
    else this.idle.push(worker);
  }

  acquire(): Promise<GradingWorker> {
    let worker = this.idle.shift();
    // A worker can die while idle (a timer a learner's code left behind): replace it, never hand it out.
    while (worker && !worker.alive) {
      this.spawnOne();
      worker = this.idle.shift();
    }
    if (worker) return Promise.resolve(worker);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(worker: GradingWorker, reusable: boolean): void {
    if (reusable && worker.alive) {
      this.give(worker);
      return;
    }
    void worker.stop();
    if (!this.closed) this.spawnOne();
  }

  async close(): Promise<void> {
    this.closed = true;
    // Workers still starting are not waited for: nobody will use them.
    await Promise.all([...this.starting].map(([worker, started]) => worker.stop().then(() => started)));
    await Promise.all(this.idle.splice(0).map((w) => w.stop()));
    rmSync(ownRoot, { recursive: true, force: true });
  }
}
