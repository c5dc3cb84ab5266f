/** `npm run repl`, as a learner types into it: strict TypeScript, the helpers in scope, the same results as a notebook. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { projectRoot } from "../src/engine/paths.js";

/** What the REPL printed, errors included, for these lines typed in. */
function repl(input: string): string {
  const { stdout, stderr } = spawnSync(process.execPath, [path.join(projectRoot, "dist", "scripts", "repl.mjs")], {
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return stdout + stderr;
}

test("table and show take the roster's students and a learner's own interface-typed rows under strict checking", () => {
  const out = repl(
    [
      "table(students.slice(0, 2))",
      "interface Pet { name: string; age: number }",
      'const pets: Pet[] = [{ name: "Zoë", age: 3 }]',
      "table(pets)",
      "show(pets)",
      ".exit",
      "",
    ].join("\n"),
  );
  assert.doesNotMatch(out, /error TS\d+|Unable to compile/, out);
  assert.match(out, /id │ name {9}│ email/);
  assert.match(out, / 1 │ Ada Lovelace │/);
  assert.equal(out.match(/name │ age\n─+┼─+\nZoë {2}│ {3}3/g)?.length, 2, out);
});

test("a type error in the REPL is reported, and the prompt goes on", () => {
  const out = repl(['const n: number = "three"', "table([{ ok: 1 }])", ".exit", ""].join("\n"));
  assert.match(out, /TS2322/);
  assert.match(out, /ok\n──\n 1/);
});
