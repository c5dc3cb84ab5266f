/**
 * The trusted side of a grading worker: a realm of its own (a fresh V8 context
 * per submission) where the lesson's checks run, with their own copy of the
 * helper module and their own built-ins. Learner code never holds anything of
 * it: the graded names cross in through the membrane as copies or stand-ins,
 * and what the check compares is the copy. Only text comes out: each test's
 * name, status and message.
 */
import { readFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { types } from "node:util";
import vm from "node:vm";
import { linkSides, membraneSide, membraneSideIn, type MembraneSide } from "./membrane.js";
import { projectRoot } from "./paths.js";
import { failed, ok, type Result } from "./problem.js";

/** A lesson's check, compiled by the grader from the lesson (never from a submission). */
export interface CompiledCheck {
  readonly exercise: string;
  /** A function expression `(helpers, notebook, check) => Promise<void>`, plain JavaScript. */
  readonly js: string;
  /** The names the check takes from the learner's notebook: the graded functions and values. */
  readonly uses: readonly string[];
}

/** What one check found, as text only. */
export interface CheckVerdict {
  readonly exercise: string;
  readonly status: "pass" | "fail" | "todo";
  readonly tests: readonly { readonly name: string; readonly status: "pass" | "fail" | "error" | "todo"; readonly message: string }[];
}

const MAX_NODES = 200_000;
const MAX_TEXT = 2_000;
const helperEntry = path.join(projectRoot, "dist", "src", "index.js");
const hostRequire = createRequire(helperEntry);
const builtins = new Set(builtinModules);

/** Each module's code compiled once per worker; run anew in every realm. */
const compiled = new Map<string, vm.Script>();
function moduleScript(file: string): vm.Script {
  let script = compiled.get(file);
  if (!script) {
    const source = readFileSync(file, "utf8").replace(/^#!.*/, "");
    script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file });
    compiled.set(file, script);
  }
  return script;
}

/**
 * A module as the check realm sees it: copied when this file loads (in a worker, before
 * any learner's code has run), two levels deep, and frozen. Node freezes nothing and a
 * worker freezes its modules one level deep, so a learner could later swap something
 * nested (util.types, path.posix) that the realm would then call with its own objects.
 */
function snapshot(module: object): Readonly<Record<string | symbol, unknown>> {
  const copy: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(module)) {
    const value = (module as Record<string | symbol, unknown>)[key];
    copy[key] = typeof value === "object" && value !== null && !Array.isArray(value) ? Object.freeze({ ...value }) : value;
  }
  return Object.freeze(copy);
}

/**
 * `util.inspect` with every option said, so that its defaults (`inspect.defaultOptions`,
 * `inspect.colors`, which a learner's code can change for the whole process) never
 * apply inside the realm, nor run a learner's getter there.
 */
function fixedInspect(): Record<string, unknown> {
  const util = hostRequire("util") as typeof import("util");
  const fixed = Object.freeze({
    showHidden: false,
    depth: 2,
    colors: false,
    customInspect: false,
    showProxy: false,
    maxArrayLength: 100,
    maxStringLength: 10_000,
    breakLength: 80,
    compact: 3,
    sorted: false,
    getters: false,
    numericSeparator: false,
  });
  const inspect = (value: unknown, options?: object): string =>
    util.inspect(value, { ...fixed, ...options, colors: false, customInspect: false, getters: false, sorted: false });
  const format = (...args: unknown[]): string => util.formatWithOptions(fixed, ...args);
  return { ...snapshot(util), inspect: Object.freeze(Object.assign(inspect, { custom: util.inspect.custom })), format };
}

/**
 * Node's built-in modules a helper may use inside the check realm (trusted code only runs there), as they were at start:
 * the helper module loads whole, so every module one of its files imports (os: where submit and the pulse look) is here.
 */
const REALM_BUILTINS = new Map<string, object>([
  ["util", Object.freeze(fixedInspect())],
  ...["crypto", "fs", "os", "path"].map((name) => [name, snapshot(hostRequire(name) as object)] as [string, object]),
]);
/** The brand checks both sides of the membrane use, from that same copy. */
const BRANDS = (REALM_BUILTINS.get("util") as { types: typeof types }).types;

/** A CommonJS loader inside `context`: the helpers and their packages, loaded from files into that realm. */
function realmRequire(context: vm.Context): (id: string) => unknown {
  const cache = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const known = cache.get(file);
    if (known) return known.exports;
    if (file.endsWith(".json")) {
      const module = { exports: vm.runInContext(`(${readFileSync(file, "utf8")})`, context) };
      cache.set(file, module);
      return module.exports;
    }
    const module = { exports: vm.runInContext("({})", context) as unknown };
    cache.set(file, module);
    const from = createRequire(file);
    const require = Object.assign(
      (id: string) => {
        const name = id.replace(/^node:/, "");
        if (name === "tslab") return {}; // displays go nowhere: the grader reads verdicts, not outputs
        if (builtins.has(name)) {
          const builtin = REALM_BUILTINS.get(name);
          if (!builtin) throw new Error(`the check realm does not offer '${id}'`);
          return builtin;
        }
        return load(from.resolve(id));
      },
      { cache: {} },
    );
    const fn = moduleScript(file).runInContext(context) as (...args: unknown[]) => void;
    fn.call(module.exports, module.exports, require, module, file, path.dirname(file));
    return module.exports;
  };
  return (id) => load(hostRequire.resolve(id));
}

/** A realm with the helper module loaded; one per submission, so that no learner meets another's state. */
export class CheckRealm {
  private readonly helpers: Record<string, unknown>;
  private readonly runCheck: (...args: unknown[]) => unknown;
  private readonly inner: MembraneSide;
  private readonly outer: MembraneSide;
  private readonly context: vm.Context;

  constructor() {
    this.context = vm.createContext({}, { name: "rollcall check" });
    // sql.js finds Node by its `process`, and the helpers print through it: a small one of the
    // realm's own, never the worker's. What checks print goes nowhere (the grader reads verdicts).
    vm.runInContext(
      `
      const quiet = { write() { return true; } };
      globalThis.process = { versions: { node: ${JSON.stringify(process.versions.node)} }, argv: ["node", "check"], env: {}, platform: "linux", stdout: quiet, stderr: quiet };
      globalThis.console = { log() {}, info() {}, warn() {}, error() {}, debug() {}, table() {}, dir() {} };
      // The realm formats its own errors' stacks. Without this, Node would format them with the
      // worker's Error.prepareStackTrace, which a learner's cell can set, and hand it this realm's error.
      Object.defineProperty(Error, "prepareStackTrace", {
        value: (error) => { try { return String(error.name) + ": " + String(error.message); } catch { return "Error"; } },
        writable: false, configurable: false,
      });
      Object.defineProperty(globalThis, "Error", { value: Error, writable: false, configurable: false });
    `,
      this.context,
    );
    // Text codecs are the host's (hardened in a worker before any learner's code runs).
    Object.assign(vm.runInContext("globalThis", this.context) as object, { TextEncoder, TextDecoder });
    const load = realmRequire(this.context);
    this.helpers = load(helperEntry) as Record<string, unknown>;
    // The same module instance the helpers' `check` uses (one loader, one cache): not a helper lessons import.
    this.runCheck = (load("./check.js") as { runCheck: (...args: unknown[]) => unknown }).runCheck;
    this.inner = membraneSideIn(this.context, MAX_NODES, BRANDS);
    this.outer = membraneSide(BRANDS, { maxNodes: MAX_NODES });
    linkSides(this.outer, this.inner);
  }

  /**
   * Runs a check against the learner's notebook. `notebook(name)` reads one of the
   * learner's names (undefined when missing); it is read once, before the check runs.
   */
  async run(check: CompiledCheck, notebook: (name: string) => unknown): Promise<Result<CheckVerdict>> {
    const none = (message: string): Result<CheckVerdict> => failed([{ message: message.slice(0, MAX_TEXT) }]);
    const names: Record<string, unknown> = {};
    for (const name of check.uses) {
      try {
        names[name] = this.inner.receive(this.outer.send(notebook(name)));
      } catch (error) {
        return none(`'${name}' cannot be checked: ${String((error as Error)?.message ?? error)}`);
      }
    }
    // The notebook's names as one object of the check realm's own.
    const inRealm = vm.runInContext("(names) => Object.assign(Object.create(null), names)", this.context) as (n: object) => object;
    const fn = vm.runInContext(check.js, this.context, { filename: `rollcall:check:${check.exercise}` }) as (
      ...args: unknown[]
    ) => Promise<void>;
    const verdicts: string[] = [];
    // `check(...)` inside the realm: run the tests and keep the result as text, made by the realm's own JSON.
    const record = vm.runInContext(
      `(runCheck, keep) => (exercise, define, options) => { keep(JSON.stringify(runCheck(exercise, define, options))); }`,
      this.context,
    ) as (...a: unknown[]) => unknown;
    try {
      await fn(
        this.helpers,
        inRealm(names),
        record(this.runCheck, (text: string) => verdicts.push(text)),
      );
    } catch (error) {
      if (!verdicts.length) return none(`the check stopped: ${String((error as Error)?.message ?? error).split("\n")[0]}`);
    }
    const mine = verdicts.map((text) => JSON.parse(text) as CheckVerdict).filter((v) => v.exercise === check.exercise);
    if (mine.length !== 1) return none(mine.length ? "the check ran more than once" : "the check gave no result");
    const [verdict] = mine as [CheckVerdict];
    const text = (s: unknown): string => String(s ?? "").slice(0, MAX_TEXT);
    return ok({
      exercise: check.exercise,
      status: verdict.status,
      tests: verdict.tests.map((t) => ({ name: text(t.name), status: t.status, message: text(t.message) })),
    });
  }
}
