import assert from "node:assert/strict";
import { test } from "node:test";
import { check, runCheck, showCheck, type CheckResult, type RunCheckOptions, type Tester } from "../src/check";
import { todo } from "../src/not-done-yet";
import { previousCellError } from "../src/previous-cell";
import { captureStdout } from "./support/capture-stdout";

/** Run a check quietly; return its result and what it printed. */
function quietCheck(exercise: string, define: (t: Tester) => void, options?: RunCheckOptions): { result: CheckResult; printed: string } {
  const result = runCheck(exercise, define, options);
  const printed = captureStdout(() => showCheck(result));
  return { result, printed };
}

function firstStudent(names: readonly string[]): string {
  return names[0] ?? "";
}
function firstStudentStub(_names: readonly string[]): string {
  throw todo("first-student");
}

test("all tests pass: status pass, full score, a friendly line", () => {
  const { result, printed } = quietCheck("first-student", (t) => {
    t.equal("the first of three", () => firstStudent(["Ada", "Grace", "Mei"]), "Ada");
    t.ok("gives text", () => typeof firstStudent(["Ada"]) === "string");
    t.throws("JSON.parse refuses junk", () => JSON.parse("{"));
  });
  assert.equal(result.status, "pass");
  assert.deepEqual(
    result.tests.map((t) => [t.name, t.status, t.message, t.points, t.maxPoints]),
    [
      ["the first of three", "pass", "", 1, 1],
      ["gives text", "pass", "", 1, 1],
      ["JSON.parse refuses junk", "pass", "", 1, 1],
    ],
  );
  assert.equal(printed, "✓ first-student: all 3 checks pass\n");
});

test("a wrong answer fails with what was expected and what came back, never the test's code", () => {
  const { result, printed } = quietCheck(
    "first-student",
    (t) => {
      t.equal("the first of three", () => firstStudent(["Grace", "Ada"]), "Ada");
      t.equal("a list comes back whole", () => [1, { a: 2 }], [1, { a: 3 }]);
      t.ok("is in the roster", () => ["Ada"].includes("Zed"), { expected: "a name from the roster" });
      t.ok("plain ok", () => false);
      t.throws("refuses an empty list", () => 42, { expected: "an error for an empty list" });
    },
    { hints: ["The first item of a list is at index 0."] },
  );
  assert.equal(result.status, "fail");
  assert.deepEqual(
    result.tests.map((t) => t.message),
    [
      "expected 'Ada', got 'Grace'",
      "expected [ 1, { a: 3 } ], got [ 1, { a: 2 } ]",
      "expected a name from the roster",
      "expected true, got false",
      "expected an error for an empty list, but it returned 42",
    ],
  );
  assert.equal(
    printed,
    [
      "✗ first-student: 5 of 5 checks failed",
      "  ✗ the first of three: expected 'Ada', got 'Grace'",
      "  ✗ a list comes back whole: expected [ 1, { a: 3 } ], got [ 1, { a: 2 } ]",
      "  ✗ is in the roster: expected a name from the roster",
      "  ✗ plain ok: expected true, got false",
      "  ✗ refuses an empty list: expected an error for an empty list, but it returned 42",
      "  Hint: The first item of a list is at index 0.",
      "", // the only hint: no "another hint comes" line
    ].join("\n"),
  );
  assert.ok(!printed.includes("firstStudent") && !printed.includes("=>"), "the test's code leaked into the report");
});

test("long values are cut to 200 characters", () => {
  const { result } = quietCheck("long", (t) => {
    t.equal("long", () => "x".repeat(1000), "y");
  });
  const got = result.tests[0]?.message.split(", got ")[1] ?? "";
  assert.equal(got.length, 200);
  assert.ok(got.endsWith("…"));
});

test("code that crashes is an error with the error's name and a friendly line; other tests still run", () => {
  const { result, printed } = quietCheck("crash", (t) => {
    t.equal("crashes", () => (undefined as unknown as { name: string }).name, "Ada");
    t.equal("still runs", () => 1 + 1, 2);
    t.ok("also runs", () => {
      throw new RangeError("too far");
    });
  });
  assert.equal(result.status, "fail");
  assert.deepEqual(
    result.tests.map((t) => t.status),
    ["error", "pass", "error"],
  );
  assert.match(
    result.tests[0]?.message ?? "",
    /^your code threw TypeError: Cannot read properties of undefined \(reading 'name'\) — something was undefined or null/,
  );
  assert.match(result.tests[2]?.message ?? "", /^your code threw RangeError: too far — read the message/);
  assert.match(printed, /^✗ crash: 2 of 3 checks failed\n/);
  assert.match(printed, /\n {2}✓ still runs\n/);
});

test("a stub that throws todo() makes the check 'todo' with the exact friendly phrase", () => {
  const { result, printed } = quietCheck(
    "first-student",
    (t) => {
      t.equal("the first of three", () => firstStudentStub(["Ada", "Grace"]), "Ada");
      t.throws("refuses nothing yet", () => firstStudentStub([]));
    },
    { hints: ["Use names[0]."] },
  );
  assert.equal(result.status, "todo");
  assert.deepEqual(
    result.tests.map((t) => [t.status, t.message, t.points]),
    [
      ["todo", "not done yet: first-student", 0],
      ["todo", "not done yet: first-student", 0],
    ],
  );
  assert.deepEqual([result.hints, result.hintCount], [[], 1], "no hint before any attempt");
  assert.equal(
    printed,
    "○ not done yet: first-student — write your answer in the cell above where it says TODO, run it, then run this check again.\n",
  );
});

test("points: the score adds up the points of passing tests only", () => {
  const { result, printed } = quietCheck("points", (t) => {
    t.equal("worth 2", () => 1, 1, { points: 2 });
    t.equal("worth 3, wrong", () => 1, 2, { points: 3 });
    t.ok("worth 0.5", () => true, { points: 0.5 });
    t.equal("worth 1 by default", () => "a", "a");
  });
  assert.equal(result.score, 3.5);
  assert.equal(result.maxScore, 6.5);
  assert.deepEqual(
    result.tests.map((t) => [t.points, t.maxPoints]),
    [
      [2, 2],
      [0, 3],
      [0.5, 0.5],
      [1, 1],
    ],
  );
  assert.match(printed, /^✗ points: 1 of 4 checks failed\n/);
});

test("check never throws, even when the check's own code crashes outside a test", () => {
  let result: CheckResult | undefined;
  const printed = captureStdout(() => {
    assert.doesNotThrow(() => {
      check("broken", () => {
        throw new Error("bug in the check");
      });
      result = runCheck("broken", () => {
        throw new Error("bug in the check");
      });
    });
  });
  assert.equal(result?.status, "fail");
  assert.equal(result?.tests[0]?.status, "error");
  assert.match(printed, /✗ setting up the check: your code threw Error: bug in the check/);

  const stubbed = quietCheck("direct", () => {
    firstStudentStub([]); // called outside a thunk: still reported, as todo
  });
  assert.equal(stubbed.result.status, "todo");
  assert.match(stubbed.printed, /not done yet: direct/);
});

test("a check with no tests does not pass", () => {
  const { result, printed } = quietCheck("empty", () => {});
  assert.equal(result.status, "fail");
  assert.equal(printed, "✗ empty: this check has no tests\n");
});

test("inside a kernel the report carries text, HTML and the result as JSON", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very CommonJS instance tslab's kernel writes through
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
  const sent: { data: Record<string, unknown> }[] = [];
  jupyter.lastWriteDisplayData = (content: { data: Record<string, unknown> }) => sent.push(content);
  const define = (t: Tester): void => t.equal("a <b>", () => "<i>", "<b>");
  const result = runCheck("html <check>", define, { hints: ["Use <b> & friends."] });
  try {
    assert.equal(check("html <check>", define, { hints: ["Use <b> & friends."] }), undefined, "a notebook shows no result value");
  } finally {
    jupyter.lastWriteDisplayData = null;
  }
  assert.equal(sent.length, 1);
  const data = sent[0]?.data ?? {};
  assert.deepEqual(Object.keys(data).sort(), ["application/vnd.rollcall.check+json", "text/html", "text/plain"]);
  assert.deepEqual(data["application/vnd.rollcall.check+json"], result, "JSON MIME data is the object itself, as nbformat expects");
  const html = String(data["text/html"] ?? "");
  assert.ok(!/<(b|i|check)>/.test(html), html);
  assert.ok(html.includes("&lt;check&gt;") && html.includes("expected &#39;&lt;b&gt;&#39;, got &#39;&lt;i&gt;&#39;"), html);
  assert.ok(html.includes("Hint: Use &lt;b&gt; &amp; friends."), html);
  // The theme's own colours (a dark theme reads too) and a drawn mark (no emoji font needed).
  assert.match(html, /color:var\(--jp-error-color1, var\(--vscode-testing-iconFailed, #c62828\)\)/);
  assert.match(html, /<svg [^>]*stroke="currentColor"[^>]*aria-hidden="true"><circle /);
  assert.doesNotMatch(html, /#555|\p{Extended_Pictographic}/u);
  assert.match(String(data["text/plain"] ?? ""), /^✗ html <check>: the check failed\n/);
});

// ---------------------------------------------------------------------------
// Hints one at a time

const THREE_HINTS = ["Start at index 0.", "names[0] is the first.", "return names[0];"];
const wrong = (t: Tester): void => t.equal("the first of two", () => "Grace", "Ada");

test("runCheck shows as many hints as it is told, the newest last, with a line while more remain", () => {
  const shown = [1, 2, 3, 4].map((n) => quietCheck("first", wrong, { hints: THREE_HINTS, hintsToShow: n }));
  assert.deepEqual(
    shown.map((s) => s.result.hints),
    [THREE_HINTS.slice(0, 1), THREE_HINTS.slice(0, 2), THREE_HINTS, THREE_HINTS],
  );
  assert.deepEqual(
    shown.map((s) => s.result.hintCount),
    [3, 3, 3, 3],
  );
  assert.equal(
    shown[1]?.printed,
    [
      "✗ first: the check failed",
      "  ✗ the first of two: expected 'Ada', got 'Grace'",
      "  Hint: Start at index 0.",
      "  Hint: names[0] is the first.",
      "  Another hint comes with the next run of this check.",
      "",
    ].join("\n"),
  );
  assert.doesNotMatch(shown[2]?.printed ?? "", /Another hint/, "no promise once every hint is shown");
  assert.deepEqual(quietCheck("first", wrong, { hints: THREE_HINTS }).result.hints, THREE_HINTS.slice(0, 1), "one hint unless told");
  assert.deepEqual(quietCheck("first", wrong, { hints: THREE_HINTS, hintsToShow: Infinity }).result.hints, THREE_HINTS);
  assert.deepEqual(quietCheck("first", wrong, { hints: THREE_HINTS, hintsToShow: -2 }).result.hints, []);
  const passing = quietCheck("first", (t) => t.ok("fine", () => true), { hints: THREE_HINTS, hintsToShow: 3 });
  assert.deepEqual([passing.result.hints, passing.printed], [[], "✓ first: the check passes\n"], "a pass shows no hint");
});

test("check remembers each exercise's failing runs: no hint while todo, then one more per failing run; a pass shows none", () => {
  const runs = (exercise: string, define: (t: Tester) => void, times = 1): string[] =>
    Array.from({ length: times }, () => captureStdout(() => check(exercise, define, { hints: THREE_HINTS })));
  const hintsIn = (printed: string): string[] =>
    printed
      .split("\n")
      .filter((l) => l.includes("Hint:"))
      .map((l) => l.trim());
  const stub = (t: Tester): void => t.equal("first", () => firstStudentStub(["Ada"]), "Ada");

  const todoRuns = runs("memory-a", stub, 2);
  assert.deepEqual(todoRuns.map(hintsIn), [[], []], "no hint before any attempt, however often");
  const failing = runs("memory-a", wrong, 4);
  assert.deepEqual(
    failing.map((p) => hintsIn(p).length),
    [1, 2, 3, 3],
  );
  assert.deepEqual(hintsIn(failing[1] ?? ""), ["Hint: Start at index 0.", "Hint: names[0] is the first."]);
  assert.match(failing[0] ?? "", /Another hint comes with the next run/);
  assert.doesNotMatch(failing[2] ?? "", /Another hint/);
  assert.deepEqual(runs("memory-a", (t) => t.ok("fine", () => true)).map(hintsIn), [[]], "a pass shows none");

  // Another exercise keeps its own count; the stub again (todo) does not use up a hint.
  assert.deepEqual(runs("memory-b", wrong).map(hintsIn), [["Hint: Start at index 0."]]);
  assert.deepEqual(runs("memory-b", stub).map(hintsIn), [[]]);
  assert.deepEqual(
    runs("memory-b", wrong).map((p) => hintsIn(p).length),
    [2],
  );
});

// ---------------------------------------------------------------------------
// The cell above failed

test("after a failed cell the check runs no test and says to fix that cell first, with no hint used up", () => {
  let ran = false;
  const define = (t: Tester): void => {
    ran = true;
    t.equal("first", () => firstStudentStub(["Ada"]), "Ada");
  };
  const { result, printed } = quietCheck("first-student", define, {
    hints: ["Use names[0]."],
    previousCellError: "1:8 - Type 'number' is not assignable to type 'string'.",
  });
  assert.equal(ran, false, "the old code was tested");
  assert.equal(result.status, "fail");
  assert.equal(result.previousCellError, "1:8 - Type 'number' is not assignable to type 'string'.");
  assert.deepEqual([result.tests, result.hints, result.hintCount], [[], [], 1]);
  assert.equal(
    printed,
    "✗ first-student: the cell above has an error: fix it first (1:8 - Type 'number' is not assignable to type 'string'.)\n" +
      "  This check tested nothing: fix that cell, run it, then run this check again.\n",
  );
  assert.doesNotMatch(printed, /not done yet|Hint/);
  assert.equal("previousCellError" in runCheck("x", wrong), false, "absent when the cell above ran fine");
});

test("outside a tslab kernel nothing is watched: process.stderr.write stays as it was, and no error is known", () => {
  assert.equal(previousCellError(), undefined);
  const own = Object.getOwnPropertyDescriptor(process.stderr, "write");
  assert.ok(own === undefined || "value" in own, "process.stderr.write became an accessor in a plain Node process");
});

// ---------------------------------------------------------------------------
// Hidden tests

test("a check told of hidden tests says, when it passes, that grading runs more", () => {
  const visible = (t: Tester): void => {
    t.equal("one", () => 1, 1);
    t.equal("two", () => 2, 2);
    t.hiddenTests(3);
  };
  const { result, printed } = quietCheck("last-student", visible);
  assert.deepEqual([result.status, result.tests.length, result.hiddenTests], ["pass", 2, 3], "hiddenTests is no test of its own");
  assert.equal(printed, "✓ last-student: all 2 checks pass. Grading runs 3 more tests: try other cases of your own too.\n");
  const one = quietCheck("x", (t) => {
    t.ok("alone", () => true);
    t.hiddenTests(1);
  });
  assert.equal(one.printed, "✓ x: the check passes. Grading runs 1 more test: try other cases of your own too.\n");
  const failing = quietCheck("x", (t) => {
    t.ok("alone", () => false);
    t.hiddenTests(2);
  });
  assert.doesNotMatch(failing.printed, /Grading runs/, "said only once the visible tests pass");
  assert.equal(quietCheck("x", (t) => t.ok("alone", () => true)).result.hiddenTests, 0);
});
