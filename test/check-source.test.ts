/** What a check cell is made of, read from its source: the names it takes, the tests it declares, the check compiled. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CheckRealm } from "../src/engine/check-realm.js";
import { compileCheck, declaredTests, freeNames, notebookNames, topLevelNames } from "../src/engine/check-source.js";

const HELPERS = ["check", "roster", "students"];

test("free names: reads that nothing in the cell declares, not property names, types or labels", () => {
  const source = `
    const two: Student[] = students.slice(0, 2);
    function local(x: number) { return x + offset; }
    check("x", (t) => { t.equal("n", () => lastStudent([...roster]), { name: two[0].name, alan }); });
    outer: for (const item of list) { continue outer; }
  `;
  assert.deepEqual(freeNames(source), ["alan", "check", "lastStudent", "list", "offset", "roster", "students"]);
  assert.deepEqual(notebookNames(source, HELPERS), ["alan", "lastStudent", "list", "offset"]);
});

test("top-level names: what a cell declares for later cells", () => {
  assert.deepEqual(topLevelNames("function a() {}\nconst { b, c: [d] } = x;\nclass E {}\nif (y) { var hidden = 1; }"), [
    "E",
    "a",
    "b",
    "d",
  ]);
});

test("declared tests: names and points, in order, read without running anything", () => {
  const { tests, problems } = declaredTests(`check("e", (t) => {
    t.equal("first", () => 1, 1);
    t.ok("second", () => true, { points: 2, expected: "true" });
    t.throws("third", () => { throw new Error(); });
  });`);
  assert.deepEqual(problems, []);
  assert.deepEqual(tests, [
    { name: "first", weight: 1 },
    { name: "second", weight: 2 },
    { name: "third", weight: 1 },
  ]);
});

test("a test name or points the grader cannot know beforehand is a problem with its line", () => {
  const { problems } = declaredTests(
    `check("e", (t) => {\n  t.equal(name, () => 1, 1);\n  t.ok("x", () => true, { points: n });\n  t.ok("x", () => true);\n});`,
  );
  assert.deepEqual(
    problems.map((p) => [p.line, p.message.split(":")[0] ?? ""]),
    [
      [2, "a test's name must be a quoted string, so that the grader knows every test before it runs"],
      [3, "a test's points must be a number above 0, written out"],
      [1, "two tests are named 'x'"],
    ],
  );
});

test("a compiled check gets its helpers and the learner's names by closure: a learner's Array means nothing to it", async () => {
  const compiled = compileCheck(
    "last",
    `check("last", (t) => { t.equal("three", () => last(["a", "b", "c"]), Array(1).fill("c")[0]); });`,
    ["check", "runCheck", "roster"],
  );
  assert.deepEqual(compiled.uses, ["last"]);
  const names: Record<string, unknown> = { last: (list: string[]) => list[list.length - 1], Array: () => ({ fill: () => ["forged"] }) };
  const verdict = await new CheckRealm().run(compiled, (name) => names[name]);
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.deepEqual(
    verdict.value.tests.map((t) => t.status),
    ["pass"],
  );
});

test("a locked lesson cell a check needs runs inside the check realm, not from the learner's notebook", () => {
  const locked = [{ source: "function seededRng(seed: number) { return () => seed / 10; }", names: ["seededRng"] }];
  const compiled = compileCheck("pick", `check("pick", (t) => { t.equal("one", () => pick(seededRng(1)), 0.1); });`, ["check"], locked);
  assert.deepEqual(compiled.uses, ["pick"]);
  assert.match(compiled.js, /function seededRng/);
});

test("the check realm loads the whole helper module, whatever Node modules its files import", () => {
  // A helper-module import the realm does not offer stopped every grading worker before its first learner.
  assert.doesNotThrow(() => new CheckRealm());
});
