import assert from "node:assert/strict";
import { test } from "node:test";
import { check, runCheck, showCheck, type CheckResult, type Tester } from "../src/check";
import { todo } from "../src/not-done-yet";
import { captureStdout } from "./support/capture-stdout";

/** Run a check quietly; return its result and what it printed. */
function quietCheck(
  exercise: string,
  define: (t: Tester) => void,
  options?: { hints?: readonly string[] },
): { result: CheckResult; printed: string } {
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
  assert.equal(printed, "✅ first-student: all 3 checks pass\n");
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
      "❌ first-student: 5 of 5 checks failed",
      "  ✗ the first of three: expected 'Ada', got 'Grace'",
      "  ✗ a list comes back whole: expected [ 1, { a: 3 } ], got [ 1, { a: 2 } ]",
      "  ✗ is in the roster: expected a name from the roster",
      "  ✗ plain ok: expected true, got false",
      "  ✗ refuses an empty list: expected an error for an empty list, but it returned 42",
      "  💡 Hint: The first item of a list is at index 0.",
      "",
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
  assert.match(printed, /^❌ crash: 2 of 3 checks failed\n/);
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
  assert.equal(
    printed,
    "⏳ not done yet: first-student — write your answer in the cell above where it says TODO, run it, then run this check again.\n" +
      "  💡 Hint: Use names[0].\n",
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
  assert.match(printed, /^❌ points: 1 of 4 checks failed\n/);
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
  assert.equal(printed, "❌ empty: this check has no tests\n");
});

test("inside a kernel the report carries text, HTML and the result as JSON", () => {
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
  assert.ok(html.includes("💡 Hint: Use &lt;b&gt; &amp; friends."), html);
  assert.match(html, /color:#c62828/);
  assert.match(String(data["text/plain"] ?? ""), /^❌ html <check>: the check failed\n/);
});
