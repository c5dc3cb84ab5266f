/**
 * What a lesson's check cell is made of, read from its TypeScript: the names it
 * takes from the learner's notebook, the tests it declares (names and weights,
 * which the grader scores by, never the worker's word), and the check compiled
 * for the grader's check realm.
 */
import ts from "typescript";
import vm from "node:vm";
import type { CompiledCheck } from "./check-realm.js";
import type { Problem } from "./problem.js";

/** A test as the lesson writes it: `t.equal("name", …, { points: 2 })`. */
export interface DeclaredTest {
  readonly name: string;
  readonly weight: number;
}

const parse = (source: string): ts.SourceFile => ts.createSourceFile("cell.ts", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);

/** Names every fresh realm has: a check may use them, and they are never the learner's. */
const REALM_GLOBALS: ReadonlySet<string> = new Set(vm.runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[]);

/** Identifiers a binding name declares (`a`, `{ a, b: [c] }`). */
function bindingNames(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) into.add(name.text);
  else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bindingNames(element.name, into);
}

/** Nodes whose `name` is a key or a name being declared, never a value read. */
const NAMED: readonly ((node: ts.Node) => boolean)[] = [
  ts.isPropertyAssignment,
  ts.isMethodDeclaration,
  ts.isPropertyDeclaration,
  ts.isPropertySignature,
  ts.isGetAccessor,
  ts.isSetAccessor,
  ts.isEnumMember,
  ts.isVariableDeclaration,
  ts.isParameter,
  ts.isFunctionDeclaration,
  ts.isFunctionExpression,
  ts.isClassDeclaration,
  ts.isClassExpression,
  ts.isInterfaceDeclaration,
  ts.isTypeAliasDeclaration,
  ts.isEnumDeclaration,
];

/** Is this identifier a value read (not a declaration, a property name or a label)? */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if (NAMED.some((is) => is(p)) && (p as ts.Node & { name?: ts.Node }).name === id) return false; // a key or a declared name
  if (ts.isBindingElement(p) && (p.propertyName === id || p.name === id)) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  if (ts.isImportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p) || ts.isExportSpecifier(p)) return false;
  return true;
}

/** Every name the code reads but does not declare itself (scopes ignored: a name declared anywhere counts). */
export function freeNames(source: string): string[] {
  const declared = new Set<string>();
  const read = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) return; // types are erased
    if (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isBindingElement(node)) bindingNames(node.name, declared);
    if (
      (ts.isFunctionDeclaration(node) ||
        ts.isClassDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isClassExpression(node) ||
        ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) ||
        ts.isEnumDeclaration(node)) &&
      node.name
    )
      declared.add(node.name.text);
    if (ts.isIdentifier(node) && isReference(node)) read.add(node.text);
    if (ts.isShorthandPropertyAssignment(node)) read.add(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(parse(source));
  return [...read].filter((n) => !declared.has(n)).sort();
}

/** The names a cell declares at its top level (what a later cell can use). */
export function topLevelNames(source: string): string[] {
  const names = new Set<string>();
  for (const statement of parse(source).statements) {
    if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name)
      names.add(statement.name.text);
    if (ts.isVariableStatement(statement)) for (const d of statement.declarationList.declarations) bindingNames(d.name, names);
  }
  return [...names].sort();
}

/** The names a check takes from the notebook: not declared in it, not a helper, not a built-in. */
export function notebookNames(checkSource: string, helperNames: readonly string[]): string[] {
  const helpers = new Set(helperNames);
  return freeNames(checkSource).filter((n) => !helpers.has(n) && !REALM_GLOBALS.has(n));
}

/**
 * The tests a check declares, in order: each `t.equal|ok|throws(NAME, …)` call on
 * the tester the check's function receives, with its `points` (weight, 1 unless
 * said). Names and points must be literals, so that the grader knows them
 * without running anything; anything else is a problem with the line it is on
 * (1-based in the check's source; the check as a whole is its line 1).
 */
export function declaredTests(source: string): { tests: DeclaredTest[]; problems: Problem[] } {
  const file = parse(source);
  const tests: DeclaredTest[] = [];
  const problems: Problem[] = [];
  const line = (node: ts.Node): number => file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
  const testers = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "check") {
      const define = node.arguments[1];
      const first = define && (ts.isArrowFunction(define) || ts.isFunctionExpression(define)) ? define.parameters[0] : undefined;
      if (first && ts.isIdentifier(first.name)) testers.add(first.name.text);
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      testers.has(node.expression.expression.text) &&
      ["equal", "ok", "throws"].includes(node.expression.name.text)
    ) {
      const [name] = node.arguments;
      const options = node.arguments[node.expression.name.text === "equal" ? 3 : 2];
      if (!name || !ts.isStringLiteralLike(name))
        problems.push({
          line: line(node),
          message: "a test's name must be a quoted string, so that the grader knows every test before it runs",
        });
      let weight = 1;
      if (options && ts.isObjectLiteralExpression(options)) {
        const points = options.properties.find(
          (p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === "points",
        );
        if (points) {
          if (ts.isNumericLiteral(points.initializer) && Number(points.initializer.text) > 0) weight = Number(points.initializer.text);
          else problems.push({ line: line(points), message: "a test's points must be a number above 0, written out" });
        }
      }
      if (name && ts.isStringLiteralLike(name)) tests.push({ name: name.text, weight });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  const names = tests.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) problems.push({ line: 1, message: `two tests are named '${twice}': each test needs a name of its own` });
  return { tests, problems };
}

/**
 * The check as a function of the check realm: helpers and the notebook's names
 * come in as parameters, bound by closure; no free name can mean anything else.
 */
export function compileCheck(
  exercise: string,
  checkSource: string,
  helperNames: readonly string[],
  locked: readonly { readonly source: string; readonly names: readonly string[] }[] = [],
): CompiledCheck {
  // The lesson's locked cells that declare a name the check reads: their code runs before it, in the realm.
  const wanted = notebookNames(checkSource, helperNames);
  const prelude = locked.filter((cell) => cell.names.some((n) => wanted.includes(n))).map((cell) => cell.source);
  const body = [...prelude, checkSource].join("\n");
  const uses = notebookNames(body, helperNames);
  const helpers = helperNames.filter((n) => n !== "check" && !uses.includes(n));
  const wrapped = [
    "(async (rollcallHelpers: any, rollcallNotebook: any, check: any) => {",
    '  "use strict";',
    `  const { ${helpers.join(", ")} } = rollcallHelpers;`,
    "  {",
    `    const { ${uses.join(", ")} } = rollcallNotebook;`,
    body,
    "  }",
    "})",
  ].join("\n");
  const { outputText } = ts.transpileModule(wrapped, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: true },
  });
  return { exercise, js: outputText.replace(/;\s*$/, ""), uses };
}
