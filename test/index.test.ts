import assert from "node:assert/strict";
import { test } from "node:test";
import * as rollcall from "../src/index";

test('"rollcall" exports exactly the helper API, nothing else', () => {
  assert.deepEqual(Object.keys(rollcall).sort(), [
    "NotDoneYet",
    "SqlError",
    "barChart",
    "check",
    "isNotDoneYet",
    "isSqlError",
    "openDatabase",
    "pick",
    "picker",
    "publish",
    "random",
    "renderBarChart",
    "renderTable",
    "roster",
    "runCheck",
    "sample",
    "seeded",
    "show",
    "shuffle",
    "students",
    "table",
    "todo",
  ]);
});

test('"rollcall" resolves, by name, to the same module a notebook gets', () => {
  // Notebooks write `import { ... } from "rollcall"`; node_modules/rollcall links to this package.
  const byName = require("rollcall") as typeof rollcall;
  assert.equal(byName.roster, rollcall.roster);
});
