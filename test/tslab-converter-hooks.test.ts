/**
 * The kit's kernel runs tslab's converter with two hooks that make a cell cost less
 * (src/engine/tslab-snapshot/converter-hooks.cjs). They must never change what a cell
 * compiles to: every lesson's cells, learner and instructor copies, and cells written to
 * find a difference (errors, every kind of declaration, a learner's own module, a
 * reference to a missing file, top-level await) are compiled by tslab's converter and by
 * the hooked one, and each result (JavaScript, declarations, diagnostics, side outputs)
 * must be the same.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import { instructorDir, notebooksDir, projectRoot } from "../src/engine/paths.js";

interface Converted {
  readonly output?: string;
  readonly declOutput?: string;
  readonly diagnostics: readonly unknown[];
  readonly hasToplevelAwait?: boolean;
  readonly sideOutputs?: readonly unknown[];
  readonly lastExpressionVar?: string;
}
interface Converter {
  convert(prevDecl: string, src: string): Converted;
  close(): void;
}
type CreateConverter = () => Converter;

/** CommonJS modules by path, as a kernel loads them. */
const load = createRequire(__filename);
const converterFile = path.join(projectRoot, "node_modules", "tslab", "dist", "converter.js");
const compiler: unknown = load(path.join(projectRoot, "node_modules", "@tslab", "typescript-for-tslab"));
const { getCodeMetadata } = load(path.join(projectRoot, "node_modules", "tslab", "dist", "metadata.js")) as {
  getCodeMetadata(src: string): { module?: string; mode?: string };
};
const plain = (load(converterFile) as { createConverter: CreateConverter }).createConverter;
const hooked = (
  load(path.join(projectRoot, "src", "engine", "tslab-snapshot", "converter-hooks.cjs")) as {
    hookConverter(
      file: string,
    ): (module: unknown, ts: unknown) => { converter: { createConverter: CreateConverter }; programsMade(): number };
  }
).hookConverter(converterFile)(Module, compiler);

/** Each cell's result in order, the declarations carried from cell to cell as tslab's executor carries them. */
function compileAll(create: CreateConverter, cwd: string, cells: readonly string[]): string[] {
  const before = process.cwd();
  process.chdir(cwd); // the converter's root is the working directory, as a kernel's is
  const converter = create();
  try {
    let prevDecl = "";
    return cells.map((cell) => {
      const result = converter.convert(prevDecl, cell);
      if (result.diagnostics.length === 0) prevDecl = result.declOutput ?? "";
      return JSON.stringify(result);
    });
  } finally {
    converter.close();
    process.chdir(before);
  }
}

/** The same results from both converters, cell by cell (the first difference is the one shown). */
function assertSame(cwd: string, cells: readonly string[]): void {
  const expected = compileAll(plain, cwd, cells);
  const actual = compileAll(hooked.converter.createConverter, cwd, cells);
  for (const [i, cell] of cells.entries()) assert.equal(actual[i], expected[i], `cell ${i} compiles differently:\n${cell}`);
}

const codeCells = (file: string): string[] =>
  (JSON.parse(readFileSync(file, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] }).cells
    .filter((c) => c.cell_type === "code")
    .map((c) => (typeof c.source === "string" ? c.source : c.source.join("")))
    .filter((src) => !getCodeMetadata(src).module && getCodeMetadata(src).mode !== "browser"); // those never reach convert

for (const dir of [notebooksDir, instructorDir]) {
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".ipynb"))) {
    test(`${path.relative(projectRoot, path.join(dir, name))}: every cell compiles as tslab compiles it`, () => {
      assertSame(notebooksDir, codeCells(path.join(dir, name)));
    });
  }
}

const FIXTURE = path.join(projectRoot, "test", "fixtures", "converter-cells");

test("cells written to find a difference compile as tslab compiles them", () => {
  assertSame(FIXTURE, [
    'import { students } from "rollcall";\nstudents.length',
    'const a = 1;\nlet b = "x";\nfunction f(n: number) {\n  return n + a;\n}',
    "f(2)",
    "const a = 2;\na + 1",
    'const wrong: number = "text";',
    '"a" * 2',
    "interface Point { x: number }\ntype P = Point;\nclass C { p: P = { x: 1 } }\nenum E { A, B }\nnamespace N { export const z = 1; }",
    "const { x, y: [first] } = { x: 1, y: [2] };\nfirst + x + E.B + N.z + new C().p.x",
    "declare global {\n  interface Array<T> { rollcallProbe?: T }\n}\nexport {};",
    "[1].rollcallProbe",
    'import { twice } from "./helper";\ntwice(4)',
    "twice(5)",
    '/// <reference path="./missing.ts" />\n1',
    'import { referred } from "./refers";\nreferred + twice(1)',
    "await Promise.resolve(3)",
    "const broken = (;",
    "export const exported = 1;",
    'import fs from "fs";\nfs.existsSync(".")',
    "let later;\nvar v = 1;\nlater = v",
    "function f(s: string) {\n  return s.length;\n}\nf(b)",
    'import { twice as double } from "./helper";\nconst four = double(2);',
    "four satisfies number",
  ]);
});

test("a cell that declares names is compiled once, not twice", () => {
  const before = hooked.programsMade();
  compileAll(hooked.converter.createConverter, FIXTURE, ["const one = 1;\nfunction two() {\n  return 2;\n}", "one + two()"]);
  // one program when the converter starts, then one for each cell
  assert.equal(hooked.programsMade() - before, 3);
});
