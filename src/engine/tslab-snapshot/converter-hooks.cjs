// Two changes to how the kit's kernel runs tslab's converter (tslab/dist/converter.js),
// each doing less work for the same result. A cell costs a tslab kernel a new
// TypeScript program, two when it declares a name, and on a server shared by a class
// that compiling is what the learners wait for (`npm run bench -- class`).
//
// 1. A cell's top-level names are read by parsing and binding the cell alone, with
//    the options its program parses and binds it with, instead of from a first
//    program built only to read them: the names are the binder's, whichever program
//    holds the file. A cell that declares names is then compiled once, not twice.
// 2. The watch program builds plain programs (TypeScript's own `createAbstractBuilder`)
//    instead of builders that keep, for each new program, a map of which of its ~190
//    files refers to which. tslab reads that map for one answer only: the cell's
//    dependencies that are sources (.ts or .js, not .d.ts), which it checks and emits
//    with the cell. When the cell is the program's only source, which is every lesson's
//    case, that answer is the cell itself; otherwise the map is made as the builder
//    made it, from the same program at the same moment, and asked the same way.
//
// Each change is a text replacement made only where the text is exactly tslab
// 1.0.22's; anything else throws, and the kernel is then plain tslab (the snapshot is
// not made). `test/tslab-converter-hooks.test.ts` compiles the lessons' cells, and
// cells meant to find differences, with both converters and compares every result.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

/** tslab's own test (getAllSrcDependencies) of whether a dependency is a source it checks and emits with the cell. */
const isSource = (name) => name.endsWith(".js") || (name.endsWith(".ts") && !name.endsWith(".d.ts"));

const HOOKS = [
  // the watch program makes plain programs
  { at: "}, sys, null, function (d) {", replace: "}, sys, rollcallHooks.createProgram, function (d) {" },
  // the cell's names first, then its one program
  {
    at: "    function convert(prevDecl, src) {\n        updateContent(prevDecl, src);\n        let declsFile = builder.getSourceFile(declFilename);\n        let srcFile = builder.getSourceFile(srcFilename);\n        const locals = srcFile.locals;\n",
    replace:
      "    function convert(prevDecl, src) {\n        const locals = rollcallHooks.localsOf(srcFilename, srcPrefix + src, builder.getProgram().getCompilerOptions(), cwd);\n",
  },
  {
    at: "            updateContent(prevDecl, src + suffix);\n            declsFile = builder.getSourceFile(declFilename);\n            srcFile = builder.getSourceFile(srcFilename);\n        }\n",
    replace:
      "            src = src + suffix;\n        }\n        updateContent(prevDecl, src);\n        let declsFile = builder.getSourceFile(declFilename);\n        let srcFile = builder.getSourceFile(srcFilename);\n",
  },
  {
    at: "function getAllSrcDependencies(builder, sourceFile) {\n",
    add: "    if (builder.sourceDependencies) return builder.sourceDependencies(sourceFile);\n",
  },
];

/**
 * `text` with each hook in: `add` after its `at`, or `replace` for it. Throws unless each
 * `at` is there exactly once, so a hook never lands in code it was not written for.
 */
function applyHooks(text, hooks, what) {
  let hooked = text;
  for (const hook of hooks) {
    if (hooked.split(hook.at).length !== 2) throw new Error(`${what} has no single place for a hook (${hook.at.trim().split("\n")[0]})`);
    hooked = hooked.replace(hook.at, () => hook.replace ?? hook.at + hook.add);
  }
  return hooked;
}

/**
 * tslab's converter with the hooks in, read and hooked now (so that a text they were not
 * written for is found before any kernel starts); `load` then makes it the module
 * `converterFile`, so that tslab's own `require("./converter")` gets it, with
 * `cellHooks(ts)` as its `rollcallHooks`.
 */
function hookConverter(converterFile) {
  const source = applyHooks(fs.readFileSync(converterFile, "utf8"), HOOKS, "tslab's converter");
  return function load(Module, ts) {
    const converter = new Module(converterFile, null);
    converter.filename = converterFile;
    const dirname = path.dirname(converterFile);
    converter.paths = Module._nodeModulePaths(dirname);
    const wrapped = vm.compileFunction(source, ["exports", "require", "module", "__filename", "__dirname", "rollcallHooks"], {
      filename: converterFile,
    });
    const hooks = cellHooks(ts);
    wrapped.call(converter.exports, converter.exports, Module.createRequire(converterFile), converter, converterFile, dirname, hooks);
    converter.loaded = true;
    Module._cache[converterFile] = converter;
    // how many programs the converter has made: a test counts them
    return { converter: converter.exports, programsMade: () => hooks.programsMade };
  };
}

function cellHooks(ts) {
  /** The cell's symbol table as its program's binder makes it: parsed with the options `createProgram` parses a file with, bound with the program's. */
  function localsOf(fileName, text, options, cwd) {
    const languageVersion = ts.getEmitScriptTarget(options);
    const setExternalModuleIndicator = ts.getSetExternalModuleIndicator(options);
    const implied = ts.getImpliedNodeFormatForFileWorker(ts.getNormalizedAbsolutePath(fileName, cwd), undefined, ts.sys, options);
    const parseOptions =
      typeof implied === "object"
        ? { ...implied, languageVersion, setExternalModuleIndicator }
        : { languageVersion, impliedNodeFormat: implied, setExternalModuleIndicator };
    const file = ts.createSourceFile(fileName, text, parseOptions);
    ts.bindSourceFile(file, options);
    return file.locals;
  }

  /**
   * Names a referenced file may have in the builder's map: its last path segment decides
   * whether it is a source, unless normalizing the path could change that segment.
   */
  const mayBeSource = (name) => {
    const last = name.split(/[\\/]/).pop() ?? "";
    return last === "" || last === "." || last === ".." || isSource(last);
  };

  /** The program's sources, and whether a file refers by path to what may be one (present or not, the map would hold it). */
  function sourcesOf(program) {
    const sources = [];
    let refersToSource = false;
    for (const file of program.getSourceFiles()) {
      if (isSource(file.fileName)) sources.push(file);
      for (const ref of file.referencedFiles) if (mayBeSource(ref.fileName)) refersToSource = true;
    }
    return { sources, refersToSource };
  }

  /** A plain program for tslab's watch program, with `sourceDependencies` as the builder's map would give them. */
  function createProgram(...args) {
    hooks.programsMade += 1;
    const builder = ts.createAbstractBuilder(...args);
    const program = builder.getProgram();
    program.getTypeChecker(); // the builder makes the checker first, before tslab links the cell to its declarations
    const { sources, refersToSource } = sourcesOf(program);
    const onlyOne = !refersToSource && sources.length <= 1;
    let state = onlyOne ? undefined : ts.BuilderState.create(program, undefined, false);
    builder.sourceDependencies = (sourceFile) => {
      // with no other source in the program, the files the cell depends on are declaration files and itself
      if (onlyOne && (sources.length === 0 || sources[0] === sourceFile)) return [sourceFile.fileName].filter(isSource);
      state ??= ts.BuilderState.create(program, undefined, false);
      return ts.BuilderState.getAllDependencies(state, program, sourceFile).filter(isSource);
    };
    return builder;
  }

  const hooks = { localsOf, createProgram, programsMade: 0 };
  return hooks;
}

module.exports = { applyHooks, hookConverter };
