/**
 * The script `node --build-snapshot` runs (see kernel-snapshot.ts). It loads
 * tslab's converter and lets it build its TypeScript program (the lib files and
 * @types/node: about a second of parsing) in the kernel's folder, then saves the
 * whole heap. A kernel started from that snapshot skips the second.
 *
 * Only Node's built-in modules can be required while a snapshot is built, so
 * this file brings a small CommonJS loader. It keeps every file's real
 * __filename, which TypeScript uses to find its lib files; a bundler would not.
 * When the kernel starts, the loaded modules are handed to Node's own module
 * cache, so tslab's other files share this TypeScript instead of loading another.
 *
 * The builder gives a script no `exports`; kernel-snapshot.ts runs this file
 * through a one-line bootstrap that does.
 */
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import type * as ts from "@tslab/typescript-for-tslab";
import type { Converter, ConverterOptions } from "tslab/dist/converter";
import type * as FileProbes from "./file-probes";

type Exports = Record<string, unknown>;
type CommonJsModule = { exports: Exports };

const loaded = new Map<string, CommonJsModule>();

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

/** Node's lookup: built-ins first, then relative paths, then node_modules up the tree. */
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
  return fs.realpathSync(found); // as Node's own loader names it, so the module cache matches
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
const probes = load(path.join(__dirname, "file-probes.js")) as unknown as typeof FileProbes;

// Note every path the compiler looks at, so a kernel can tell when one has changed.
const system = typescript.sys as unknown as Record<string, unknown>;
const looked = new Set<string>();
const originals = new Map<string, unknown>();
for (const name of ["readFile", "fileExists", "directoryExists", "getDirectories", "readDirectory", "realpath", "getModifiedTime"]) {
  const original = system[name];
  if (typeof original !== "function") continue;
  originals.set(name, original);
  system[name] = (file: string, ...rest: unknown[]): unknown => {
    looked.add(path.resolve(file));
    return (original as (...args: unknown[]) => unknown).call(typescript.sys, file, ...rest);
  };
}

// File watchers are live handles, which a snapshot cannot hold: note them now, start them in the kernel.
type Watch = { readonly kind: "watchFile" | "watchDirectory"; readonly args: unknown[]; closed: boolean; live?: { close(): void } };
const watches: Watch[] = [];
for (const kind of ["watchFile", "watchDirectory"] as const) {
  originals.set(kind, system[kind]);
  system[kind] = (...args: unknown[]) => {
    const watch: Watch = { kind, args, closed: false };
    watches.push(watch);
    return { close: () => { watch.closed = true; watch.live?.close(); } };
  };
}

const builtIn = process.cwd();
const converter = converterModule.createConverter({ isJS: false, isBrowser: false });
for (const [name, original] of originals) system[name] = original;
const builtFrom = probes.probeAll(looked);
const manifestOut = process.env["ROLLCALL_SNAPSHOT_PROBES"];
if (manifestOut) fs.writeFileSync(manifestOut, JSON.stringify(builtFrom));

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // The kernel starts here, with the program already built.
  const changed = process.cwd() !== builtIn ? `the kernel runs in ${process.cwd()}, not ${builtIn}` : probes.firstChange(builtFrom);
  if (changed === undefined) {
    for (const watch of watches) {
      if (!watch.closed) watch.live = (system[watch.kind] as (...args: unknown[]) => { close(): void })(...watch.args);
    }
  } else {
    process.stderr.write(`rollcall: the kernel snapshot is out of date (${changed}); building TypeScript's program afresh. npm run build refreshes it.\n`);
  }
  let prebuilt: Converter | undefined = changed === undefined ? converter : undefined;
  const { createRequire } = require("node:module") as typeof import("node:module");
  const cache = createRequire(converterFile).cache;
  for (const [filename, module] of loaded) {
    let exports = module.exports;
    if (filename === converterFile) {
      exports = {
        ...module.exports,
        createConverter(options?: ConverterOptions): Converter {
          const mine = prebuilt && !options?.isJS && !options?.isBrowser ? prebuilt : undefined;
          prebuilt = undefined;
          return mine ?? converterModule.createConverter(options);
        },
      };
    }
    cache[filename] = { id: filename, filename, exports, loaded: true, children: [], paths: [] } as unknown as NodeJS.Module;
  }
  const args = process.argv.slice(1);
  const at = args.indexOf("--config-path");
  const tslabMain = createRequire(converterFile)("./main.js") as { startKernel(options: { configPath: string; enableFindLocal: boolean }): void };
  tslabMain.startKernel({ configPath: at >= 0 ? args[at + 1] ?? "" : "", enableFindLocal: false });
});
