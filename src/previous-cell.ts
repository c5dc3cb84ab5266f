// Did the cell you ran just before this one fail?
//
// When your answer cell has a mistake, the notebook prints the error and your new
// code may never take effect: the old code (often the `throw todo(...)` stub) is
// still the one in use. A check run right after it would test that old code and say
// "not done yet", which is confusing. So `check` asks `previousCellError()` first,
// and when the cell before it failed, it tells you to fix that cell instead.
//
// How it can tell, for the curious. tslab, the notebook's TypeScript kernel, does
// two things we can watch from here:
//
// 1. Each time you run a cell, tslab first sets `process.stderr.write` (the function
//    error text goes through) to one that sends text to that cell's output. We make
//    that property a getter and setter, so the setter sees every cell start. A start
//    counts only when tslab's own file (tslab/dist/jupyter.js) sets it, so a cell of
//    yours that sets it does not count as a new cell.
// 2. When a cell fails, tslab prints why with `console.error`, from its own file
//    tslab/dist/executor.js: a type error as "line:column - message", a crash as the
//    error itself. `console.error` writes through `process.stderr.write`, so the
//    function our getter hands out looks at who called `console.error`: tslab's
//    executor.js means "this cell failed"; anything else (your own console.error)
//    is just output, passed on unchanged.
//
// Why not simply replace `console.error`? tslab keeps the `console.error` it found
// when it started, so a replacement would never see its messages; but every message
// still goes through `process.stderr.write`, which is looked up each time.
// What this cannot see: a crash that happens later, in a timer the cell started
// (tslab reports that apart from any cell), or code that removes the property.
//
// Only the cell run just before counts: each new cell forgets the one before that.
// All this is set up only in a tslab kernel (`tslab kernel …` started this process).
// Anywhere else (a plain Node program, the grader) nothing is changed and the
// answer is always "no error known". If this file is loaded twice, the second copy
// uses the first one's watcher instead of adding its own.

/**
 * The first line of the error the cell run just before this one stopped with, or
 * `undefined` when it ran fine (or when nobody can tell, outside a notebook).
 *
 * @example
 * import { previousCellError } from "./previous-cell";
 * previousCellError();   // "1:5 - Type 'number' is not assignable to type 'string'." after a cell with a type error
 */
export function previousCellError(): string | undefined {
  try {
    return watcher?.previousCellError();
  } catch {
    return undefined; // never let this stop a check
  }
}

// ---------------------------------------------------------------------------
// How it works

/** What the watcher offers. Kept tiny: a second copy of this file calls the first one's. */
interface Watcher {
  previousCellError(): string | undefined;
}

/** Where the watcher is kept, on the getter itself, for a second copy of this file to find. */
const WATCHER = Symbol.for("rollcall.previousCellWatcher");

/** tslab's file that starts each cell, and the one that runs it and reports its errors. */
const CELL_STARTER = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;
const CELL_RUNNER = /[\\/]tslab[\\/]dist[\\/]executor\.js$/;

/** Is this process a tslab kernel (`…/tslab kernel --config-path …`, as Jupyter starts it)? */
function inTslabKernel(): boolean {
  const argv = typeof process === "object" && Array.isArray(process.argv) ? process.argv : [];
  const [, script = "", command] = argv;
  return command === "kernel" && /(^|[\\/])tslab(\.js)?$/.test(script);
}

/** A `write` function, as tslab and Node give them to a stream. */
type Writer = (this: unknown, ...args: unknown[]) => unknown;

/**
 * The file of the code that called `below` (the nearest frame outside Node's own
 * code), read from V8's structured stack, or "" when it cannot be told.
 */
function callerFile(below: Writer): string {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  try {
    Error.stackTraceLimit = 20;
    Error.prepareStackTrace = (_error, sites) => sites; // the frames as objects, whatever formatter is set
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, below);
    const sites = holder.stack;
    if (!Array.isArray(sites)) return "";
    for (const site of sites as NodeJS.CallSite[]) {
      const file = site.getFileName() ?? "";
      if (file !== "" && !file.startsWith("node:")) return file;
    }
    return "";
  } catch {
    return "";
  } finally {
    try {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
    } catch {
      // a frozen Error: nothing was changed then either
    }
  }
}

/** The line that says what went wrong: "TypeError: boom", not where or the stack under it; at most 200 characters. */
export function errorLine(chunk: unknown): string {
  const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? new TextDecoder().decode(chunk) : String(chunk);
  // eslint-disable-next-line no-control-regex -- \u001b starts the colour codes tslab prints
  let lines = text.replace(/\u001b\[[0-9;]*m/g, "").split("\n");
  // A crash in a cell's code starts with where it happened ("evalmachine.<anonymous>:4"),
  // that line of code, a ^ under it and an empty line: the error comes after.
  const blank = lines.findIndex((l) => l.trim() === "");
  if (/^\S+:\d+$/.test(lines[0] ?? "") && blank > 0) lines = lines.slice(blank + 1);
  const line = lines.map((l) => l.trim()).find((l) => l !== "") ?? "";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** One cell run: the error tslab reported while it ran, if any. */
interface Run {
  error: string | undefined;
}

/** Turns `stream.write` into the getter and setter described at the top of this file. */
function watch(stream: NodeJS.WriteStream): Watcher {
  // This file is loaded by a cell that is already running: that cell is the current run.
  let current: Run = { error: undefined };
  let previous: Run | undefined;

  // Each function given to `write` is handed out wrapped: the wrapper looks at who is
  // writing, then calls that very function. A wrapper per function (not one that calls
  // "whatever is set now"), so that code which keeps the old `write` and calls it from a
  // new one still reaches the old one, instead of going round in circles.
  const ours = new WeakSet<Writer>();
  const wrap = (fn: Writer | undefined): Writer => {
    if (fn !== undefined && ours.has(fn)) return fn; // already a wrapper of ours
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      try {
        if (current.error === undefined && CELL_RUNNER.test(callerFile(wrapper))) current.error = errorLine(args[0]) || "an error";
      } catch {
        // looking never stops the text from being written
      }
      const to = fn ?? (Object.getPrototypeOf(stream) as { write: Writer }).write;
      return Reflect.apply(to, this, args);
    };
    ours.add(wrapper);
    return wrapper;
  };

  const own = Object.getOwnPropertyDescriptor(stream, "write");
  let write: unknown = wrap(typeof own?.value === "function" ? (own.value as Writer) : undefined); // tslab's function for this cell
  const get = (): unknown => write;
  const set = (value: unknown): void => {
    write = typeof value === "function" ? wrap(value as Writer) : value; // not a function: kept as it is, as a plain property would
    if (CELL_STARTER.test(callerFile(set))) {
      previous = current;
      current = { error: undefined };
    }
  };
  const watcher: Watcher = { previousCellError: () => previous?.error };
  Object.defineProperty(get, WATCHER, { value: watcher });
  Object.defineProperty(stream, "write", { get, set, enumerable: true, configurable: true });
  return watcher;
}

/** The watcher already set up by another copy of this file, if any. */
function existingWatcher(stream: NodeJS.WriteStream): Watcher | undefined {
  const getter = Object.getOwnPropertyDescriptor(stream, "write")?.get as { [WATCHER]?: Watcher } | undefined;
  const found = getter?.[WATCHER];
  return typeof found?.previousCellError === "function" ? found : undefined;
}

function setUp(): Watcher | undefined {
  try {
    if (!inTslabKernel()) return undefined;
    const stream = process.stderr;
    return existingWatcher(stream) ?? watch(stream);
  } catch {
    return undefined; // whatever went wrong, the notebook works as before
  }
}

const watcher: Watcher | undefined = setUp();
