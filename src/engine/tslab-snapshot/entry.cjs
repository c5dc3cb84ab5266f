// The script of the kit's tslab start-up snapshot (`node --build-snapshot`, see
// ../tslab-snapshot.ts). Plain CommonJS because Node's snapshot builder runs it
// bare: only built-in modules, no `exports`.
//
// A tslab kernel spends most of its start parsing the same declaration files
// (TypeScript's lib, @types/node, the helper module's types) and loading the
// 8 MB compiler. Here both happen once, at set-up: the compiler is evaluated, the
// declaration files a kernel reads are parsed, and the heap is saved. Every kernel
// then starts from that heap and runs tslab as it is.
//
// The files are also bound (the binder's symbols and scopes), which a kernel would
// otherwise do for all of them in its first program: the binder leaves a bound file
// as it is. They are bound with tslab's options as far as the binder reads them,
// and a program that binds one with other options is counted (a test checks that
// none does).
//
// The compiler is given a hook at the top of its `createSourceFile`: a file parsed
// here is handed back only when its path, its text, the language version and the
// options are exactly those it was parsed with, and at most once (a program may
// change what it is given). Anything else, say a declaration file changed since, is
// parsed as tslab always does. Two of its pure functions keep their answers (HOOKS
// says which), and tslab's converter is hooked to compile a cell with less work to
// the same result (./converter-hooks.cjs). So the snapshot can make a kernel faster,
// never different.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const v8 = require("node:v8");
const vm = require("node:vm");

const root = process.env.ROLLCALL_SNAPSHOT_ROOT;
const listFile = process.env.ROLLCALL_SNAPSHOT_FILES;
if (!root || !listFile) throw new Error("ROLLCALL_SNAPSHOT_ROOT and ROLLCALL_SNAPSHOT_FILES are needed");

const compilerFile = path.join(root, "node_modules", "@tslab", "typescript-for-tslab", "lib", "typescript.js");
// The converter's hooks (./converter-hooks.cjs), read now: a learner's kernel need not read the project's src/.
const converterHooks = { exports: {} };
const converterHooksFile = path.join(root, "src", "engine", "tslab-snapshot", "converter-hooks.cjs");
vm.compileFunction(fs.readFileSync(converterHooksFile, "utf8"), ["exports", "require", "module", "__filename"], {
  filename: converterHooksFile,
})(converterHooks.exports, require, converterHooks, converterHooksFile);
const { applyHooks, hookConverter } = converterHooks.exports;
const loadConverter = hookConverter(fs.realpathSync(path.join(root, "node_modules", "tslab", "dist", "converter.js")));

const HOOKS = [
  {
    at: "function createSourceFile(fileName, sourceText, languageVersionOrOptions, setParentNodes = false, scriptKind) {",
    add: "{ const parsed = globalThis.__rollcallSnapshot?.parsed(fileName, sourceText, languageVersionOrOptions, setParentNodes); if (parsed) return parsed; }",
  },
  { at: "function bindSourceFile(file, options) {", add: "globalThis.__rollcallSnapshot?.binding(file, options);" },
  // Two answers made once instead of at every call: pure functions, so the same answers. A
  // cell's program asks for a path's normalized form a few thousand times, mostly the same
  // paths; a name a cell's JavaScript leaves unresolved (checked again when it is turned into
  // CommonJS) makes the checker build the table of which lib has what, a new Map each time.
  {
    at: "  function getNormalizedAbsolutePath(fileName, currentDirectory) {\n    return getPathFromPathComponents(getNormalizedPathComponents(fileName, currentDirectory));\n  }\n",
    replace: `  var rollcallAbsolutePaths = new Map();
  function getNormalizedAbsolutePath(fileName, currentDirectory) {
    if (typeof fileName !== "string" || (currentDirectory !== undefined && typeof currentDirectory !== "string")) return getPathFromPathComponents(getNormalizedPathComponents(fileName, currentDirectory));
    const key = (currentDirectory ?? "") + "\\0" + fileName;
    let normalized = rollcallAbsolutePaths.get(key);
    if (normalized === undefined) {
      if (rollcallAbsolutePaths.size >= 20000) rollcallAbsolutePaths.clear();
      rollcallAbsolutePaths.set(key, (normalized = getPathFromPathComponents(getNormalizedPathComponents(fileName, currentDirectory))));
    }
    return normalized;
  }
`,
  },
  {
    at: "  function getScriptTargetFeatures() {\n",
    replace:
      "  var rollcallScriptTargetFeatures;\n  function getScriptTargetFeatures() {\n    return rollcallScriptTargetFeatures ??= scriptTargetFeatures();\n  }\n  function scriptTargetFeatures() {\n",
  },
];
const source = fs.readFileSync(compilerFile, "utf8");
const hooked = applyHooks(source, HOOKS, `this TypeScript (${compilerFile})`);

const compilerModule = { exports: {} };
vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${hooked}\n})`, {
  filename: compilerFile,
})(compilerModule.exports, require, compilerModule, compilerFile, path.dirname(compilerFile));
const ts = compilerModule.exports;

/** tslab compiles for the newest target this Node supports; for Node 20, ES2022. */
const LANGUAGE_VERSION = ts.ScriptTarget.ES2022;
/** The options the files are bound with: tslab's, as far as the binder reads them (it sets none of the others). */
const BOUND_WITH = { target: LANGUAGE_VERSION };
/** What of the options the binder reads (binder.ts: the target, strict mode, which unreachable code and labels it reports, const enums). */
const binderReads = (o) =>
  JSON.stringify([
    ts.getEmitScriptTarget(o),
    ts.getStrictOptionValue(o, "alwaysStrict"),
    o.allowUnreachableCode,
    o.noFallthroughCasesInSwitch,
    o.allowUnusedLabels,
    ts.shouldPreserveConstEnums(o),
  ]);
const BINDER_READS_BOUND_WITH = binderReads(BOUND_WITH);
const sameBinding = new WeakMap();
const files = new Map();
const bound = new WeakSet();
for (const file of JSON.parse(fs.readFileSync(listFile, "utf8"))) {
  const text = fs.readFileSync(file, "utf8");
  const parsed = ts.createSourceFile(file, text, { languageVersion: LANGUAGE_VERSION }, false);
  // Bound here too: the binder leaves a bound file alone, so no kernel binds these again.
  ts.bindSourceFile(parsed, BOUND_WITH);
  bound.add(parsed);
  files.set(file, { text, parsed });
}

const snapshot = {
  /** How many files were handed back, and which installed declaration files were parsed anew: a test reads these from a cell. */
  given: 0,
  parsedAnew: [],
  /** Files of the snapshot a program would have bound with options the binder reads differently (a test checks there are none). */
  boundOtherwise: [],
  binding(file, options) {
    if (!bound.has(file)) return;
    // once per program's options, not once per file: this runs for every file of every cell's program
    let same = sameBinding.get(options);
    if (same === undefined) sameBinding.set(options, (same = binderReads(options) === BINDER_READS_BOUND_WITH));
    if (!same && snapshot.boundOtherwise.length < 50) snapshot.boundOtherwise.push(file.fileName);
  },
  parsed(fileName, text, options, setParentNodes) {
    const kept = files.get(fileName);
    const o = typeof options === "object" ? options : { languageVersion: options };
    if (
      kept === undefined ||
      kept.text !== text ||
      setParentNodes ||
      o.languageVersion !== LANGUAGE_VERSION ||
      o.impliedNodeFormat !== undefined
    ) {
      if (fileName.includes("/node_modules/") && snapshot.parsedAnew.length < 50) snapshot.parsedAnew.push(fileName);
      return undefined;
    }
    files.delete(fileName); // once: the program owns it now
    snapshot.given++;
    o.setExternalModuleIndicator?.(kept.parsed);
    return kept.parsed;
  },
};
globalThis.__rollcallSnapshot = snapshot;

/**
 * tslab sends on a socket without waiting for the send before (a reply, then the
 * "idle" status), and zeromq refuses a send while one is under way (EBUSY). On an
 * idle machine a send is over at once; on a loaded one it is not, the refusal is
 * thrown inside tslab's message loop, and the kernel never answers again. So each
 * socket's sends wait their turn.
 */
function sendInTurn(zmq) {
  const send = zmq.Socket.prototype.send;
  const last = new WeakMap();
  // zeromq defines it read-only, but configurable.
  Object.defineProperty(zmq.Socket.prototype, "send", {
    configurable: true,
    writable: false,
    value: function sendInTurn(message) {
      const turn = (last.get(this) ?? Promise.resolve()).then(() => send.call(this, message));
      last.set(
        this,
        turn.catch(() => undefined),
      );
      return turn;
    },
  });
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // Node leaves this out of a snapshot; without it no error has a stack trace.
  if (typeof Error.stackTraceLimit !== "number") Error.stackTraceLimit = 10;
  const Module = require("node:module");
  const tslab = path.join(root, "node_modules", "tslab", "bin", "tslab");
  const requireFromTslab = Module.createRequire(tslab);
  // tslab's `require("@tslab/typescript-for-tslab")` gets the compiler evaluated above.
  const resolved = requireFromTslab.resolve("@tslab/typescript-for-tslab");
  const compiler = new Module(resolved);
  compiler.filename = resolved;
  compiler.paths = Module._nodeModulePaths(path.dirname(resolved));
  compiler.exports = ts;
  compiler.loaded = true;
  Module._cache[resolved] = compiler;
  const converter = loadConverter(Module, ts);
  snapshot.programsMade = converter.programsMade;
  sendInTurn(requireFromTslab("zeromq"));
  process.argv.splice(1, 0, tslab); // as if started as `node tslab kernel …`
  requireFromTslab("../dist/main.js").main();
});
