/**
 * The grading worker: a child process with two sides.
 *
 * - The learner's side runs learners' cells in tslab's own executor, one
 *   submission at a time, each with a fresh executor (its own `exports`, the
 *   namespace a cell's names live in) and an emptied scratch folder.
 * - The trusted side runs the lesson's checks in a realm of their own
 *   (check-realm.ts), made fresh for each submission; the learner's functions
 *   reach it only through the membrane, as copies and stand-ins.
 *
 * Started by grade-pool.ts under Node's permission model (reads: the packages
 * cells need, dist/src and its scratch folder; writes: the scratch folder; no
 * processes, no workers) and, where it can, without a network. Before any
 * learner's code runs it freezes JavaScript's built-ins (SES lockdown), the
 * helper module and the Node modules a cell may require, hides the rest, and
 * keeps the key that signs its messages in a closure.
 */
import { createHook } from "node:async_hooks";
import { readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { format } from "node:util";
import { CheckRealm, type CompiledCheck } from "./check-realm.js";
import { projectRoot } from "./paths.js";
import type { MimeBundle } from "./notebook.js";
import { OutputCollector } from "./output-collector.js";
import { failed } from "./problem.js";
import { signMessage, type CheckOutcome, type Signed, type WorkerCommand, type WorkerMessage } from "./grade-protocol.js";

/**
 * Node modules a lesson's cell may use; everything else (processes, network, vm, v8,
 * inspector, …) is refused. Not crypto either: its Hmac objects sign this worker's
 * messages, and a cell that could patch them could have a forgery signed.
 */
const ALLOWED_MODULES = new Set([
  "assert",
  "buffer",
  "events",
  "fs",
  "fs/promises",
  "os",
  "path",
  "perf_hooks",
  "querystring",
  "readline",
  "stream",
  "string_decoder",
  "timers",
  "timers/promises",
  "url",
  "util",
  "zlib",
]);

/** An error as a learner reads it: its stack when there is one (frozen errors format as {} otherwise). */
function describeError(value: unknown): unknown {
  if (value instanceof Error || (typeof value === "object" && value !== null && "message" in value)) {
    const e = value as Error & { code?: string; resource?: string };
    const head = typeof e.stack === "string" && e.stack ? e.stack : `${e.name ?? "Error"}: ${e.message}`;
    return e.resource ? `${head}\n(${e.code ?? "denied"}: ${e.resource})` : head;
  }
  return value;
}

/** Async resources that run code later: what a learner's code must not leave behind. */
const LEFTOVER_TYPES = new Set(["Timeout", "Immediate", "FSREQCALLBACK", "FSREQPROMISE", "STATWATCHER", "FSEVENTWRAP"]);
/** Host properties that change by themselves as the process works. */
const VOLATILE = new Set<string | symbol>(["_eventsCount", "exitCode", "_exiting", "_writableState", "_readableState"]);

type Executor = ReturnType<typeof import("tslab/dist/executor").createExecutor>;

type Watch = (...args: unknown[]) => { close(): void };
type WatchingSystem = { watchFile?: Watch; watchDirectory?: Watch };

/**
 * The cells' compiler watches the folders where it looked for packages and found
 * none, up to the project's own node_modules/, which a worker may not read (it
 * holds the hidden tests through the rollcall link). How far up it goes depends on
 * how deep the project sits, so a refused watch is left unwatched rather than
 * stopping the worker: nothing on disk changes under a grader anyway.
 */
function ignoreRefusedWatches(system: WatchingSystem): void {
  for (const kind of ["watchFile", "watchDirectory"] as const) {
    const watch = system[kind];
    if (!watch) continue;
    system[kind] = (...args) => {
      try {
        return watch.apply(system, args);
      } catch (error) {
        if ((error as { code?: string }).code === "ERR_ACCESS_DENIED") return { close: () => {} };
        throw error;
      }
    };
  }
}

function main(): void {
  // Captured before any learner's code, which could set globalThis.JSON to one that rewrites results.
  const stringify = JSON.stringify;
  const require = createRequire(path.join(projectRoot, "package.json"));
  // Everything trusted is loaded and captured now, before any learner's code.
  const { createConverter } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
  const { createExecutor } = require("tslab/dist/executor") as typeof import("tslab/dist/executor");
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
  const tslabPublic = require("tslab") as object;
  // By its path: the worker may not read through the node_modules/rollcall link.
  const rollcall = require(path.join(projectRoot, "dist", "src", "index.js")) as object;
  require("ses");
  ignoreRefusedWatches((require("@tslab/typescript-for-tslab") as { sys: WatchingSystem }).sys);

  const converter = createConverter({ isJS: false, isBrowser: false });
  // A cell compiled once (with the same declarations before it) is the same for the next learner.
  const compiled = new Map<string, ReturnType<typeof converter.convert>>();
  let compiling = false;
  const convert = converter.convert.bind(converter);
  converter.convert = (prevDecl: string, src: string) => {
    const key = `${prevDecl}\u0000${src}`;
    let result = compiled.get(key);
    if (!result) {
      compiling = true; // the compiler's own file watchers are no learner's leftovers
      try {
        result = convert(prevDecl, src);
      } finally {
        compiling = false;
      }
      if (compiled.size > 5000) compiled.clear();
      compiled.set(key, result);
    }
    return result;
  };
  // Modules registered from a cell (tslab's `//@module`) would stay in the shared compiler for the next learner.
  converter.addModule = () => [
    {
      start: { offset: 0, line: 0, character: 0 },
      end: { offset: 0, line: 0, character: 0 },
      messageText: "module cells are not available while grading",
      category: 1,
      code: 0,
    },
  ];

  // Per-cell capture of what the learner's code prints and displays, joined and capped as the runner does.
  let outputs = new OutputCollector(0);
  const stream = (name: "stdout" | "stderr", text: string): void => outputs.add("stream", { name, text });
  const cellConsole = {
    log: (...args: unknown[]) => stream("stdout", `${format(...args)}\n`),
    error: (...args: unknown[]) => stream("stderr", `${format(...args.map(describeError))}\n`),
  };
  const writeTo = (name: "stdout" | "stderr") =>
    ((chunk: string | Uint8Array) => {
      stream(name, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = writeTo("stdout");
  process.stderr.write = writeTo("stderr");
  jupyter.lastWriteDisplayData = (content: { data: MimeBundle }) => {
    outputs.add("display_data", { data: content.data, metadata: {} });
  };

  // The cells' `require`: the helper module, tslab's display, and a short list of Node modules, all frozen.
  const baseRequire = require;
  const safeRequire = (id: string): unknown => {
    const name = id.replace(/^node:/, "");
    if (name === "rollcall") return rollcall;
    if (name === "tslab") return tslabPublic;
    if (ALLOWED_MODULES.has(name)) return baseRequire(name);
    throw new Error(`require("${id}") is not available while grading: lessons use "rollcall" and Node's basic modules only`);
  };

  // tslab hands each cell `__tslab__.exports` and `.require`. Here the global reads the current
  // submission's executor, is set only while this worker makes one, and cannot be replaced.
  let cells: { exports: object; require: unknown } | undefined;
  let making = false;
  Object.defineProperty(globalThis, "__tslab__", {
    get: () => cells,
    set: (given: { exports: object }) => {
      if (making) cells = Object.freeze({ exports: given.exports, require: safeRequire });
    },
    configurable: false,
  });
  const freshExecutor = (): Executor => {
    making = true;
    try {
      return createExecutor(process.cwd(), { node: converter, browser: converter, close: () => converter.close() }, cellConsole);
    } finally {
      making = false;
    }
  };
  let executor: Executor | undefined;

  // The channel to the grader: a pipe at fd 3, JSON lines, read and written with plain
  // synchronous calls on the file descriptor (captured now), so that no stream or event
  // object of it exists for a cell to reach. Between commands this worker waits in a
  // blocking read: nothing of a learner's runs while no command is being answered.
  const CHANNEL = 3;
  const { readSync, writeSync } = require("fs") as typeof import("fs");
  const { StringDecoder } = require("string_decoder") as typeof import("string_decoder");
  const parse = JSON.parse;
  // Bound now: a cell can change StringDecoder.prototype (nobody froze it), and the channel must not call through it.
  const decode = StringDecoder.prototype.write.bind(new StringDecoder("utf8"));
  const chunk = Buffer.alloc(1 << 20);
  let unread = "";
  /** The grader's next command, waited for; undefined once the grader is gone. */
  const nextCommand = (): WorkerCommand | undefined => {
    for (;;) {
      const end = unread.indexOf("\n");
      if (end >= 0) {
        const line = unread.slice(0, end);
        unread = unread.slice(end + 1);
        try {
          return parse(line) as WorkerCommand;
        } catch {
          continue;
        } // not the grader's: it writes whole lines
      }
      let read = 0;
      try {
        read = readSync(CHANNEL, chunk, 0, chunk.length, null);
      } catch {
        return undefined;
      }
      if (read === 0) return undefined;
      unread += decode(chunk.subarray(0, read));
    }
  };
  const sendSigned = (sign: (text: string) => string, message: WorkerMessage): void => {
    const body = stringify(message);
    const bytes = Buffer.from(`${stringify({ body, mac: sign(body) } satisfies Signed)}\n`);
    for (let sent = 0; sent < bytes.length;) sent += writeSync(CHANNEL, bytes, sent);
  };

  // What a learner's code could leave behind to run during the next learner's cells:
  // timers (even unref'd ones, which no resource list shows) and pending file operations.
  const pending = new Set<number>();
  let learnerRunning = false;
  createHook({
    init: (id, type) => {
      if (learnerRunning && !compiling && LEFTOVER_TYPES.has(type)) pending.add(id);
    },
    destroy: (id) => {
      pending.delete(id);
    },
  }).enable();
  // ... and the host objects every cell shares (process, its streams, EventEmitter): a
  // swapped property or an added listener there reaches the next learner. Compared by identity.
  const EventEmitter = require("events") as { prototype: object };
  const streams = require("stream") as typeof import("stream");
  const { eventNames, rawListeners } = process;
  // (Their prototypes are not frozen: Node's own code assigns over their data properties on instances.)
  const hosts = {
    process,
    "process.stdout": process.stdout,
    "process.stderr": process.stderr,
    "EventEmitter.prototype": EventEmitter.prototype,
    "StringDecoder.prototype": StringDecoder.prototype,
    "Readable.prototype": streams.Readable.prototype,
    "Writable.prototype": streams.Writable.prototype,
    "Duplex.prototype": streams.Duplex.prototype,
    "Transform.prototype": streams.Transform.prototype,
    "fs.Stats.prototype": (require("fs") as typeof import("fs")).Stats.prototype,
  };
  const hostFingerprint = (): Map<string, unknown[]> => {
    const parts = new Map<string, unknown[]>();
    for (const [hostName, host] of Object.entries(hosts)) {
      for (const key of Reflect.ownKeys(host)) {
        if (VOLATILE.has(key)) continue;
        const d = Object.getOwnPropertyDescriptor(host, key);
        parts.set(`${hostName}.${String(key)}`, [d?.value ?? d?.get, d?.set]);
      }
    }
    for (const name of eventNames.call(process)) parts.set(`process listeners of ${String(name)}`, rawListeners.call(process, name));
    return parts;
  };
  /** The first host property or listener list that is not what it was, if any. */
  const changedHost = (before: Map<string, unknown[]>): string | undefined => {
    const now = hostFingerprint();
    for (const key of new Set([...before.keys(), ...now.keys()])) {
      const [a, b] = [before.get(key) ?? [], now.get(key) ?? []];
      if (a.length !== b.length || a.some((v, i) => v !== b[i])) return key;
    }
    return undefined;
  };

  /** The scratch folder (this worker's cwd) as the next learner must find it: empty. */
  const emptyScratch = (): void => {
    for (const entry of readdirSync(".")) rmSync(entry, { recursive: true, force: true });
  };

  /** Set by `init`, once this worker is hardened: how each later command is answered. */
  let answer: (command: Exclude<WorkerCommand, { type: "init" }>) => Promise<void> = async () => {};
  // Commands one at a time, each answered before the next is read. A grader that is
  // killed (even with -9) closes the channel, and the worker goes too.
  void (async () => {
    const first = nextCommand();
    if (first?.type !== "init") process.exit(0);
    init(first);
    for (let command = nextCommand(); command; command = nextCommand()) {
      if (command.type !== "init") await answer(command);
    }
    process.exit(0);
  })();

  function init(first: Extract<WorkerCommand, { type: "init" }>): void {
    const key = (body: string): string => signMessage(first.key, body);
    const checks = new Map<string, CompiledCheck>(first.checks.map((c) => [c.exercise, c]));
    // TextEncoder and TextDecoder too: the check realm's helpers use them (seeding from a string).
    harden(rollcall, tslabPublic, TextEncoder, TextDecoder);
    const baselineGlobals = new Set(Reflect.ownKeys(globalThis));
    let baselineHost = new Map<string, unknown[]>();

    process.on("SIGINT", () => executor?.interrupt());
    // One learner at a time: `begin`, then cells and checks one by one, then `end`.
    let realm: CheckRealm | undefined;
    answer = async function answerCommand(command: Exclude<WorkerCommand, { type: "init" }>): Promise<void> {
      switch (command.type) {
        case "begin":
          pending.clear();
          emptyScratch();
          executor = freshExecutor();
          realm = new CheckRealm(); // made before this learner's first cell runs
          learnerRunning = true; // from here to `end`, what is left running is the learner's
          sendSigned(key, { type: "begun", id: command.id });
          return;
        case "execute": {
          const current = executor ?? freshExecutor();
          outputs = new OutputCollector(command.maxOutputChars);
          const ok = await current.execute(command.source).catch((error: unknown) => {
            stream("stderr", `${String(error)}\n`);
            return false;
          });
          sendSigned(key, { type: "cell-end", id: command.id, status: ok ? "ok" : "error", outputs: outputs.result().outputs });
          return;
        }
        case "check": {
          const current = executor ?? freshExecutor();
          outputs = new OutputCollector(command.maxOutputChars);
          const check = checks.get(command.exercise);
          let outcome: CheckOutcome;
          if (!check) outcome = failed([{ message: `the grader has no check for '${command.exercise}'` }]);
          else {
            realm ??= new CheckRealm();
            // A name is read off the learner's namespace as data: no getter, no prototype.
            const learnerName = (name: string): unknown => Reflect.getOwnPropertyDescriptor(current.locals, name)?.value;
            outcome = await realm
              .run(check, learnerName)
              .catch((error: unknown) =>
                failed([{ message: `the check could not run: ${String((error as Error)?.message ?? error).split("\n")[0]}` }]),
              );
          }
          sendSigned(key, { type: "cell-end", id: command.id, status: "ok", outputs: outputs.result().outputs, check: outcome });
          return;
        }
        case "end": {
          learnerRunning = false; // (this worker's own immediate below is no leftover)
          await new Promise((resolve) => setImmediate(resolve)); // let what finishes now finish
          const extraGlobals = Reflect.ownKeys(globalThis).filter((k) => !baselineGlobals.has(k));
          const changed = changedHost(baselineHost);
          const recycle = extraGlobals.length
            ? "the learner's code added globals"
            : changed
              ? `the learner's code changed ${changed}`
              : pending.size
                ? "the learner's code left timers or file operations running"
                : undefined;
          sendSigned(key, { type: "ended", id: command.id, ...(recycle ? { recycle } : {}) });
          return;
        }
      }
    };

    baselineHost = hostFingerprint(); // with this worker's own listeners in place
    sendSigned(key, { type: "ready" });
  }

  /** Freezes the language's built-ins and what cells can reach, and hides the rest. */
  function harden(...reachable: object[]): void {
    for (const name of ["fetch", "WebSocket", "EventSource"]) Reflect.deleteProperty(globalThis, name);
    // process.mainModule.require is Node's own require, past the cells' safe one (net, http, vm, …);
    // the active handles and requests are this worker's own pipes, watchers and timers.
    for (const name of ["mainModule", "_getActiveHandles", "_getActiveRequests"]) Reflect.deleteProperty(process, name);
    // No signals at all: not to the grader, its process group, another worker, nor this one
    // (a SIGINT sent to itself would cut a check short).
    const refuse = (): never => {
      throw new Error("process.kill() is not available while grading");
    };
    for (const name of ["kill", "_kill"]) Object.defineProperty(process, name, { value: refuse, writable: false, configurable: false });
    const g = globalThis as unknown as { lockdown: (options: object) => void; harden: (o: unknown) => unknown };
    g.lockdown({
      errorTaming: "unsafe",
      consoleTaming: "unsafe",
      overrideTaming: "severe",
      stackFiltering: "verbose",
      domainTaming: "unsafe",
      evalTaming: "unsafeEval",
    });
    // Node's modules are frozen one level deep: a cell cannot swap the functions
    // the checks rely on (util.isDeepStrictEqual, …), and Node keeps working inside.
    for (const name of [...ALLOWED_MODULES, "events"]) Object.freeze(baseRequire(name));
    for (const object of reachable) g.harden(object);
    for (const name of ["process", "globalThis", "Buffer", "console"]) {
      const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
      if (descriptor?.configurable)
        Object.defineProperty(globalThis, name, {
          ...descriptor,
          configurable: false,
          ...("value" in descriptor ? { writable: false } : {}),
        });
    }
    // The names of the built-ins too: a cell that set globalThis.JSON, Set or Array would
    // change what this worker calls. (Lazy accessors stay as they are.)
    for (const name of Reflect.ownKeys(globalThis)) {
      const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
      if (descriptor?.configurable && "value" in descriptor)
        Object.defineProperty(globalThis, name, { ...descriptor, writable: false, configurable: false });
    }
  }
}

main();
