/**
 * What `node --build-snapshot` runs (through a one-line bootstrap that gives it
 * the `exports` a script lacks there; see kernel-snapshot.ts). It loads
 * tslab's converter and lets it build its TypeScript program (the lib files
 * and @types/node: about a second of parsing) in the kernel's folder; Node
 * then saves the whole heap. A kernel started from that snapshot begins in
 * `startKernel` below, a second ahead.
 *
 * Only Node's built-in modules can be required while a snapshot is built, so
 * this file brings a small CommonJS loader. It keeps every file's real
 * __filename, which TypeScript uses to find its lib files; a bundler would not.
 * When the kernel starts, the loaded modules go into Node's own module cache,
 * so tslab's other files share this TypeScript instead of loading another.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import v8 from "node:v8";
import type * as ts from "@tslab/typescript-for-tslab";
import type { Converter, ConverterOptions } from "tslab/dist/converter";
import type * as FileProbes from "./file-probes";

type Exports = Record<string, unknown>;
type CommonJsModule = { exports: Exports };

/** Every file loaded, and how each `require` was resolved (so the kernel can check Node agrees). */
const loaded = new Map<string, CommonJsModule>();
const resolutions: { readonly from: string; readonly id: string; readonly file: string }[] = [];

function isFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

function resolveFile(base: string): string | undefined {
  for (const file of [base, `${base}.js`, `${base}.json`]) if (isFile(file)) return file;
  const manifest = path.join(base, "package.json");
  if (isFile(manifest)) {
    const main = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { main?: string }).main;
    const found = main ? resolveFile(path.join(base, main)) : undefined;
    if (found) return found;
  }
  return isFile(path.join(base, "index.js")) ? path.join(base, "index.js") : undefined;
}

/** Node's lookup, as far as tslab's files need it: built-ins first, then relative paths, then node_modules up the tree. */
function requireFrom(parent: string, id: string): unknown {
  if (!id.startsWith(".") && !path.isAbsolute(id)) {
    try {
      return require(id);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw error;
    }
  }
  return load(resolveFrom(parent, id));
}

function resolveFrom(parent: string, id: string): string {
  let found: string | undefined;
  if (id.startsWith(".") || path.isAbsolute(id)) {
    found = resolveFile(path.resolve(path.dirname(parent), id));
  } else {
    for (let dir = path.dirname(parent); !found; dir = path.dirname(dir)) {
      found = resolveFile(path.join(dir, "node_modules", id));
      if (path.dirname(dir) === dir) break;
    }
  }
  if (!found) throw new Error(`kernel snapshot: cannot find ${id} (required from ${parent}); run npm install`);
  const file = fs.realpathSync(found); // as Node's own loader names it, so the module cache matches
  resolutions.push({ from: parent, id, file });
  return file;
}

function load(filename: string): Exports {
  const cached = loaded.get(filename);
  if (cached) return cached.exports;
  const module: CommonJsModule = { exports: {} };
  loaded.set(filename, module);
  const source = fs.readFileSync(filename, "utf8");
  if (filename.endsWith(".json")) {
    module.exports = JSON.parse(source) as Exports;
    return module.exports;
  }
  // `vm` is not yet supported in snapshots; sourceURL keeps stack traces naming the file.
  const wrapper = new Function("exports", "require", "module", "__filename", "__dirname", `${source}\n//# sourceURL=${filename}`);
  wrapper.call(module.exports, module.exports, (id: string) => requireFrom(filename, id), module, filename, path.dirname(filename));
  return module.exports;
}

const converterFile = resolveFrom(__filename, "tslab/dist/converter.js");
const converterModule = load(converterFile) as Exports & { createConverter(options?: ConverterOptions): Converter };
const typescript = load(resolveFrom(converterFile, "@tslab/typescript-for-tslab")) as unknown as typeof ts;
const fileProbes = load(path.join(__dirname, "file-probes.js")) as unknown as typeof FileProbes;

/**
 * TypeScript keeps its own references to these functions, so they stay wrapped
 * for the kernel's whole life. While the snapshot is built they note what the
 * compiler looks at and hold file watchers back (a snapshot cannot hold live
 * handles); once the kernel has started they pass straight through.
 */
let started = false;
const system = typescript.sys as unknown as Record<string, (...args: unknown[]) => unknown>;
const looked = new Map<string, string>();
for (const name of ["readFile", "fileExists", "directoryExists", "getDirectories", "readDirectory", "realpath", "getModifiedTime"]) {
  const original = system[name];
  if (typeof original !== "function") continue;
  system[name] = (file: unknown, ...rest: unknown[]): unknown => {
    if (!started) {
      const full = path.resolve(String(file));
      if (!looked.has(full)) looked.set(full, fileProbes.probe(full)); // before reading: a later edit shows as a change
    }
    return original.call(typescript.sys, file, ...rest);
  };
}
type Watch = { readonly kind: "watchFile" | "watchDirectory"; readonly args: unknown[]; closed: boolean; live?: { close(): void } };
const heldBack: Watch[] = [];
for (const kind of ["watchFile", "watchDirectory"] as const) {
  const original = system[kind];
  if (typeof original !== "function") continue;
  system[kind] = (...args: unknown[]): unknown => {
    if (started) return original.apply(typescript.sys, args);
    const watch: Watch = { kind, args, closed: false };
    heldBack.push(watch);
    return { close: () => { watch.closed = true; watch.live?.close(); } };
  };
}

const snapshotCwd = process.cwd();
let prebuilt: Converter | undefined = converterModule.createConverter({ isJS: false, isBrowser: false });

/**
 * Cells like a lesson's, compiled once here so that the snapshot already holds
 * the compiler's code for them: a kernel's first cells run ~0.1 s sooner. The
 * first real cell replaces them; nothing of theirs stays in a learner's scope.
 */
const WARM_UP = [
  'import { roster, pick } from "rollcall"; const warmUpNumbers: number[] = [1, 2, 3];',
  "const warmUpDoubled = warmUpNumbers.map((n) => n * 2).filter((n) => n > 2); warmUpDoubled",
  'interface WarmUpStudent { name: string; age?: number } const warmUpStudents: WarmUpStudent[] = [{ name: "Ada" }]; warmUpStudents.length',
  'function warmUpJoin(values: number[]): string { return values.join(", "); } warmUpJoin(warmUpDoubled)',
];
let warmUpDeclarations = "";
for (const cell of WARM_UP) warmUpDeclarations = prebuilt.convert(warmUpDeclarations, cell).declOutput ?? warmUpDeclarations;
const builtFrom: FileProbes.Probes = Object.fromEntries(looked);
const codeInside: FileProbes.Probes = fileProbes.probeAll([__filename, ...loaded.keys()]);
const probesOut = process.env["ROLLCALL_SNAPSHOT_PROBES"];
if (probesOut) fs.writeFileSync(probesOut, JSON.stringify({ probes: builtFrom, code: codeInside }));

/** Why the snapshot's program (`program`) or all its code (`code`) cannot be used here, if so. */
function outOfDate(): { readonly what: "code" | "program"; readonly why: string; readonly say: boolean } | undefined {
  const changedCode = fileProbes.firstChange(codeInside);
  if (changedCode !== undefined) return { what: "code", why: `${changedCode} changed since it was made`, say: true };
  // A kernel in another folder (a subfolder of notebooks/, say) needs its own program: expected, so said quietly.
  if (process.cwd() !== snapshotCwd) return { what: "program", why: `made for ${snapshotCwd}`, say: false };
  const changed = fileProbes.firstChange(builtFrom);
  return changed === undefined ? undefined : { what: "program", why: `${changed} changed since it was made`, say: true };
}

/** Node's module cache gets the modules loaded above, so `require` finds them instead of loading them again. */
function shareModules(): void {
  const Module = require("node:module") as typeof import("node:module") & { _nodeModulePaths(dir: string): string[] };
  const cache = Module.createRequire(converterFile).cache;
  // Only where Node's own lookup lands on the same file (a package could have changed its "exports").
  const agreed = new Set(loaded.keys());
  for (const r of resolutions) {
    try {
      if (Module.createRequire(r.from).resolve(r.id) !== r.file) agreed.delete(r.file);
    } catch {
      agreed.delete(r.file);
    }
  }
  for (const [filename, loadedModule] of loaded) {
    if (!agreed.has(filename)) continue;
    let exports = loadedModule.exports;
    if (filename === converterFile) {
      // The same module, except that the first plain TypeScript converter asked for is the one built in the snapshot.
      exports = Object.defineProperties({}, Object.getOwnPropertyDescriptors(loadedModule.exports));
      exports["createConverter"] = (options?: ConverterOptions): Converter => {
        const mine = !options?.isJS && !options?.isBrowser ? prebuilt : undefined;
        if (mine) prebuilt = undefined;
        return mine ?? converterModule.createConverter(options);
      };
    }
    const module = new Module(filename);
    Object.assign(module, { filename, exports, loaded: true, paths: Module._nodeModulePaths(path.dirname(filename)) });
    cache[filename] = module;
  }
}

/**
 * Makes the process look as a plain `node …/tslab/bin/tslab kernel …` does, so that
 * a learner's `fork()` (which passes execArgv on) or a look at process.argv behaves alike.
 */
function lookLikePlainTslab(): void {
  const blobAt = process.execArgv.findIndex((a) => a === "--snapshot-blob" || a.startsWith("--snapshot-blob="));
  if (blobAt >= 0) process.execArgv.splice(blobAt, process.execArgv[blobAt] === "--snapshot-blob" ? 2 : 1);
  process.argv.splice(1, 0, path.join(path.dirname(converterFile), "..", "bin", "tslab"));
  // Node hides this while a snapshot is built, and TypeScript's file checks then save and restore it as
  // undefined, which the snapshot keeps: errors would print without their stacks.
  if (Error.stackTraceLimit === undefined) {
    const flag = /--stack[-_]trace[-_]limit[= ](\d+)/.exec(`${process.env["NODE_OPTIONS"] ?? ""} ${process.execArgv.join(" ")}`);
    Error.stackTraceLimit = flag ? Number(flag[1]) : 10; // V8's default
  }
}

function startKernel(): void {
  lookLikePlainTslab();
  const { values } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, strict: false, options: { "config-path": { type: "string" }, js: { type: "boolean" } } });
  const configPath = values["config-path"];
  if (typeof configPath !== "string" || !configPath) {
    process.stderr.write("rollcall: this kernel needs --config-path <connection file>, as Jupyter's kernelspec gives it\n");
    process.exit(2);
  }
  const stale = outOfDate();
  started = true;
  if (stale?.say) process.stderr.write(`rollcall: the kernel snapshot is out of date (${stale.why}); starting without it. npm start or npm run build makes a new one.\n`);
  if (stale || values.js === true) {
    prebuilt?.close();
    prebuilt = undefined;
  } else {
    for (const watch of heldBack) if (!watch.closed) watch.live = system[watch.kind]?.(...watch.args) as { close(): void };
  }
  heldBack.length = 0;
  // Changed code on disk is loaded from disk, all of it, rather than mixed with the snapshot's.
  if (stale?.what !== "code") shareModules();
  const tslab = require("node:module").createRequire(converterFile)("./main.js") as { startKernel(options: { configPath: string; enableFindLocal: boolean; jsKernel: boolean }): void };
  tslab.startKernel({ configPath, enableFindLocal: false, jsKernel: values.js === true });
}

v8.startupSnapshot.setDeserializeMainFunction(startKernel);
