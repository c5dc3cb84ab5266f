/**
 * OutputCollector: a cell's output messages (Jupyter's iopub protocol) turned into
 * notebook outputs as Jupyter's own client does, under a character cap.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Output } from "../src/engine/notebook.js";
import { DEFAULT_MAX_OUTPUT_CHARS, OutputCollector } from "../src/engine/output-collector.js";

type Message = readonly [string, Record<string, unknown>];

/** The outputs a cell ends with after these messages. */
function collect(messages: readonly Message[], maxChars?: number): readonly Output[] {
  const collector = new OutputCollector(maxChars);
  for (const [type, content] of messages) collector.add(type, content);
  return collector.finish("ok").result().outputs;
}
const out = (text: string): Message => ["stream", { name: "stdout", text }];
const err = (text: string): Message => ["stream", { name: "stderr", text }];
const display = (data: Record<string, unknown>, displayId?: string): Message => [
  "display_data",
  { data, metadata: {}, ...(displayId ? { transient: { display_id: displayId } } : {}) },
];
const update = (data: Record<string, unknown>, displayId: string): Message => [
  "update_display_data",
  { data, metadata: {}, transient: { display_id: displayId } },
];
const stdout = (text: string): Output => ({ output_type: "stream", name: "stdout", text });
const stderr = (text: string): Output => ({ output_type: "stream", name: "stderr", text });
const shown = (data: Record<string, unknown>): Output => ({ output_type: "display_data", data, metadata: {} });
const note = (cap: string): string => `\n… output cut: this cell printed more than ${cap} characters.\n`;

test("consecutive text of one stream is joined into one output; a change of stream starts a new one, in order", () => {
  assert.deepEqual(collect([out("a\n"), out("b"), out("c\n"), err("oops\n"), err("again\n"), out("d\n")]), [
    stdout("a\nbc\n"),
    stderr("oops\nagain\n"),
    stdout("d\n"),
  ]);
});

test("a stream with no name, or a name other than stderr, is stdout", () => {
  assert.deepEqual(
    collect([
      ["stream", { text: "x" }],
      ["stream", { name: "weird", text: "y" }],
    ]),
    [stdout("xy")],
  );
});

test("outputs keep the order they came in: stream text after a display is a new output, not joined to the text before it", () => {
  assert.deepEqual(collect([out("before\n"), display({ "text/plain": "shown" }), out("after\n")]), [
    stdout("before\n"),
    shown({ "text/plain": "shown" }),
    stdout("after\n"),
  ]);
});

test("display_data and execute_result keep their data and metadata; an execute_result's count is kept, or null", () => {
  const outputs = collect([
    ["display_data", { data: { "text/html": "<b>x</b>", "text/plain": "x" }, metadata: { isolated: true } }],
    ["display_data", { data: { "text/plain": "no metadata" } }],
    ["execute_result", { data: { "text/plain": "42" }, metadata: {}, execution_count: 7 }],
    ["execute_result", { data: { "text/plain": "43" }, metadata: {}, execution_count: "7" }],
  ]);
  assert.deepEqual(outputs, [
    { output_type: "display_data", data: { "text/html": "<b>x</b>", "text/plain": "x" }, metadata: { isolated: true } },
    { output_type: "display_data", data: { "text/plain": "no metadata" }, metadata: {} },
    { output_type: "execute_result", data: { "text/plain": "42" }, metadata: {}, execution_count: 7 },
    { output_type: "execute_result", data: { "text/plain": "43" }, metadata: {}, execution_count: null },
  ]);
});

test("update_display_data replaces the display with that id where it stands; other outputs, and unknown ids, are left alone", () => {
  const outputs = collect([
    display({ "text/plain": "progress 0%" }, "bar"),
    out("log\n"),
    display({ "text/plain": "other" }, "other"),
    update({ "text/plain": "progress 50%" }, "bar"),
    update({ "text/plain": "nobody" }, "no-such-display"),
    ["update_display_data", { data: { "text/plain": "no id" }, metadata: {} }],
  ]);
  // The display id is transient: it is not written into the notebook.
  assert.deepEqual(outputs, [shown({ "text/plain": "progress 50%" }), stdout("log\n"), shown({ "text/plain": "other" })]);
});

test("every update of a display applies, the last one showing, as in Jupyter and nbconvert", () => {
  const outputs = collect([
    display({ "text/plain": "0%" }, "bar"),
    update({ "text/plain": "50%" }, "bar"),
    update({ "text/plain": "100%" }, "bar"),
  ]);
  assert.deepEqual(outputs, [shown({ "text/plain": "100%" })]);
});

test("clear_output empties the cell at once; stream text after it starts afresh", () => {
  assert.deepEqual(collect([out("old\n"), display({ "text/plain": "old" }), ["clear_output", { wait: false }], out("new\n")]), [
    stdout("new\n"),
  ]);
  assert.deepEqual(collect([out("old\n"), ["clear_output", {}]]), []);
});

test("clear_output with wait keeps what is shown until the next output arrives (Jupyter's flicker-free clear)", () => {
  assert.deepEqual(collect([out("frame 1\n"), ["clear_output", { wait: true }]]), [stdout("frame 1\n")]);
  assert.deepEqual(collect([out("frame 1\n"), ["clear_output", { wait: true }], out("frame 2\n"), out("more\n")]), [
    stdout("frame 2\nmore\n"),
  ]);
  assert.deepEqual(collect([out("frame 1\n"), ["clear_output", { wait: true }], display({ "text/plain": "frame 2" })]), [
    shown({ "text/plain": "frame 2" }),
  ]);
  assert.deepEqual(collect([out("x\n"), ["clear_output", { wait: true }], ["error", { ename: "Error", evalue: "boom", traceback: [] }]]), [
    { output_type: "error", ename: "Error", evalue: "boom", traceback: [] },
  ]);
});

test("an error is kept with its name, value and traceback; missing fields get safe defaults", () => {
  assert.deepEqual(collect([out("before\n"), ["error", { ename: "TypeError", evalue: "x is not a function", traceback: ["line 1", 2] }]]), [
    stdout("before\n"),
    { output_type: "error", ename: "TypeError", evalue: "x is not a function", traceback: ["line 1", "2"] },
  ]);
  assert.deepEqual(collect([["error", { traceback: "not a list" }]]), [
    { output_type: "error", ename: "Error", evalue: "", traceback: [] },
  ]);
});

test("messages that carry no output (execute_input, status, anything unknown) change nothing", () => {
  assert.deepEqual(
    collect([
      out("a"),
      ["execute_input", { code: "1", execution_count: 1 }],
      ["status", { execution_state: "busy" }],
      ["comm_open", { data: { x: 1 } }],
      out("b"),
    ]),
    [stdout("ab")],
  );
});

test("text up to the cap is kept whole, without a note", () => {
  assert.deepEqual(collect([out("x".repeat(60)), err("y".repeat(40))], 100), [stdout("x".repeat(60)), stderr("y".repeat(40))]);
});

test("past the cap, text is cut where the cap falls, with one note, and everything printed after is dropped", () => {
  const outputs = collect([out("x".repeat(60)), out("y".repeat(60)), out("z".repeat(10)), err("late\n")], 100);
  assert.deepEqual(outputs, [stdout(`${"x".repeat(60)}${"y".repeat(40)}${note("100")}`)]);
});

test("stdout and stderr share one budget", () => {
  const outputs = collect([out("x".repeat(70)), err("y".repeat(70))], 100);
  assert.deepEqual(outputs, [stdout("x".repeat(70)), stderr(`${"y".repeat(30)}${note("100")}`)]);
});

test("displays count against the budget too (their JSON), and are dropped once it is spent", () => {
  const data = { "text/plain": "d".repeat(20) };
  const size = JSON.stringify(data).length;
  const outputs = collect([display(data), out("x".repeat(100 - size)), out("y"), display({ "text/plain": "after" })], 100);
  assert.deepEqual(outputs, [shown(data), stdout(`${"x".repeat(100 - size)}${note("100")}`)]);
});

test("a display that crosses the cap is not kept whole without a word", () => {
  const outputs = collect([out("x".repeat(10)), display({ "text/html": "h".repeat(10_000) }), out("after\n")], 100);
  const kept = outputs.reduce((n, o) => n + JSON.stringify(o).length, 0);
  assert.ok(kept < 1000, `kept ${kept} characters under a cap of 100`);
  assert.match(JSON.stringify(outputs), /output cut/);
});

test("the cap counts what was printed, not what is still shown: clear_output does not give budget back", () => {
  const outputs = collect([out("x".repeat(80)), ["clear_output", {}], out("y".repeat(30))], 100);
  assert.deepEqual(outputs, [stdout(`${"y".repeat(20)}${note("100")}`)]);
});

test("an error after the cap is still kept: it says why the cell failed", () => {
  const outputs = collect([out("x".repeat(200)), ["error", { ename: "Error", evalue: "boom", traceback: [] }]], 100);
  assert.deepEqual(outputs, [
    stdout(`${"x".repeat(100)}${note("100")}`),
    { output_type: "error", ename: "Error", evalue: "boom", traceback: [] },
  ]);
});

test("the default cap is a million characters, said with thousands separators", () => {
  assert.equal(DEFAULT_MAX_OUTPUT_CHARS, 1_000_000);
  const outputs = collect([out("x".repeat(999_999)), out("yz")]);
  assert.deepEqual(outputs, [stdout(`${"x".repeat(999_999)}y${note("1,000,000")}`)]);
});

test("finish: the status and message as given, the execution count when it is a number; no message key when there is none", () => {
  const ok = new OutputCollector().finish("ok", undefined, 3).result();
  assert.deepEqual({ ...ok, durationMs: 0 }, { status: "ok", outputs: [], executionCount: 3, durationMs: 0 });
  assert.ok(!("message" in ok));
  assert.ok(typeof ok.durationMs === "number" && ok.durationMs >= 0);
  const died = new OutputCollector().finish("died", "the tslab kernel exited with code 3", "3").result();
  assert.deepEqual(
    { ...died, durationMs: 0 },
    { status: "died", outputs: [], executionCount: null, durationMs: 0, message: "the tslab kernel exited with code 3" },
  );
});

test("a cell stopped by its time limit ends as 'timeout' with the limit's message, whatever the kernel replies after", () => {
  const interrupted = new OutputCollector();
  interrupted.add("stream", { name: "stderr", text: "Error: Script execution was interrupted\n" });
  interrupted.timedOut("stopped: still running after 1 s");
  const result = interrupted.finish("error", undefined, 5).result();
  assert.equal(result.status, "timeout");
  assert.equal(result.message, "stopped: still running after 1 s");
  assert.equal(result.executionCount, 5);
  assert.deepEqual(result.outputs, [stderr("Error: Script execution was interrupted\n")]);

  // Interrupted, then killed: the kernel's death is reported as the time limit's second, later message.
  const killed = new OutputCollector();
  killed.timedOut("stopped: still running after 1 s, so it was interrupted");
  killed.timedOut("stopped: did not stop when interrupted, so its kernel was shut down");
  const end = killed.finish("died", "the tslab kernel was stopped by SIGKILL").result();
  assert.deepEqual([end.status, end.message], ["timeout", "stopped: did not stop when interrupted, so its kernel was shut down"]);
});
