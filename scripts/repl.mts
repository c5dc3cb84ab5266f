#!/usr/bin/env node
/**
 * npm run repl: a TypeScript prompt (ts-node) with the course's helpers in scope,
 * for learners who prefer a terminal to a notebook.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { create, createRepl } from "ts-node";
import { projectRoot } from "../src/engine/paths.js";

const require = createRequire(path.join(projectRoot, "<repl>.ts"));
const helpers = Object.keys(require("rollcall") as object).sort();
// Compiled REPL input is CommonJS: give it the module globals ts-node's own CLI gives it.
Object.assign(globalThis, { exports: {}, module: { exports: {} }, require });

const repl = createRepl();
const service = create({
  ...repl.evalAwarePartialHost,
  skipProject: true,
  cwd: projectRoot,
  compilerOptions: { module: "commonjs", moduleResolution: "node", target: "es2022", strict: true, esModuleInterop: true, types: ["node"] },
});
repl.setService(service);
console.log(`rollcall TypeScript REPL: ${helpers.join(", ")} are in scope (.exit or Ctrl-D leaves).`);
// Imported as a learner would in a notebook, so that hovers and type errors match.
// (start(code) is ts-node's one way to run code inside the REPL's own context.)
repl.start(`import { ${helpers.join(", ")} } from "rollcall";`);
