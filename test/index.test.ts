import assert from "node:assert/strict";
import { test } from "node:test";
import * as rollcall from "../src/index";

// What the lessons import (lessons/*.md) and the README documents, nothing else. Gone: publish,
// renderTable and renderBarChart (show, table and barChart's insides), runCheck (the grader's check
// realm loads it from check.js itself) and the NotDoneYet class (todo makes one; isNotDoneYet tells
// one; its type is still exported for hovers): no lesson used them.
test('"rollcall" exports exactly the helper API, nothing else', () => {
  assert.deepEqual(Object.keys(rollcall).sort(), [
    "SqlError",
    "barChart",
    "check",
    "isNotDoneYet",
    "isSqlError",
    "openDatabase",
    "pick",
    "picker",
    "random",
    "roster",
    "sample",
    "seeded",
    "show",
    "shuffle",
    "students",
    "submit",
    "table",
    "todo",
  ]);
});

test('"rollcall" resolves, by name, to the same module a notebook gets', () => {
  // Notebooks write `import { ... } from "rollcall"`; node_modules/rollcall links to this package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved by name at run time, as a notebook does
  const byName = require("rollcall") as typeof rollcall;
  assert.equal(byName.roster, rollcall.roster);
});
