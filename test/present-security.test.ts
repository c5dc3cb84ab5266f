/**
 * The presenter's API runs code as the instructor, so it is tried here as another
 * user of the machine would try it: the token read off the browser's command line,
 * the cookie a browser also sends to any other server on 127.0.0.1, the token in a
 * query string, a rebound host name, the deck framed by another page.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Execution, Kernel } from "../src/engine/kernel-seam.js";
import { projectRoot } from "../src/engine/paths.js";
import { coursePresenter } from "../src/engine/present-course.js";
import { startPresenter, type Presenter, type PresenterOptions } from "../src/engine/present-server.js";

/** Counts what it was asked to run, and runs nothing. */
class RecordingKernel implements Kernel {
  readonly ran: string[] = [];
  alive = true;
  async execute(code: string): Promise<Execution> {
    this.ran.push(code);
    return { status: "ok", outputs: [], executionCount: this.ran.length, durationMs: 0 };
  }
  interrupt(): void {}
  async stop(): Promise<void> {
    this.alive = false;
  }
}

let presenter: Presenter;
const kernel = new RecordingKernel();
let token = "";
let base = "";
/** A presenter of lesson 01 on loopback whose kernel runs nothing. */
async function recordingPresenter(extra: Partial<PresenterOptions> = {}): Promise<Presenter> {
  const started = await startPresenter({
    lesson: "01-arrays",
    host: "127.0.0.1",
    port: 0,
    ...coursePresenter("01-arrays"),
    startKernel: async () => kernel,
    ...extra,
  });
  assert.ok(started.ok);
  return started.value;
}

before(async () => {
  presenter = await recordingPresenter();
  token = new URL(presenter.url).searchParams.get("token") ?? "";
  base = `http://127.0.0.1:${presenter.port}`;
});
after(() => presenter.close());

const run = (headers: Record<string, string>, query = ""): Promise<Response> =>
  fetch(`${base}/api/run${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ chain: [{ id: "attack", code: 'require("child_process").execSync("id")' }] }),
  });

test("the API runs code only for the page's own header token: not for a cookie, a query string, or nothing", async () => {
  assert.equal((await run({})).status, 403);
  assert.equal((await run({ cookie: `rollcall-present=${token}` })).status, 403, "a cookie also reaches every other server on 127.0.0.1");
  assert.equal((await run({}, `?token=${token}`)).status, 403, "a token in a query string ends up in logs and history");
  // One character off (the token is random, so its last character may itself be "x").
  const offByOne = `${token.slice(0, -1)}${token.endsWith("x") ? "y" : "x"}`;
  assert.equal((await run({ "x-rollcall-token": offByOne })).status, 403);
  assert.deepEqual(kernel.ran, [], "nothing ran for an attacker");
  assert.equal((await run({ "x-rollcall-token": token })).status, 200);
  assert.equal(kernel.ran.length, 1);
});

test("the deck sets no cookie, is never framed by another site, and answers only to its own host name", async () => {
  const deck = await fetch(presenter.url);
  assert.equal(deck.status, 200);
  assert.equal(deck.headers.get("set-cookie"), null);
  assert.equal(deck.headers.get("x-frame-options"), "SAMEORIGIN");
  assert.match(deck.headers.get("content-security-policy") ?? "", /frame-ancestors 'self'/);
  // DNS rebinding: a page at attacker.example whose name now points at 127.0.0.1 (fetch would not let a test set Host).
  const statusFor = (host: string, route: string, method = "GET"): Promise<number | undefined> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: presenter.port, path: route, method, headers: { host, "x-rollcall-token": token } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
  assert.equal(await statusFor(`attacker.example:${presenter.port}`, "/api/state"), 421);
  assert.equal(await statusFor("attacker.example", "/vendor/reveal/reveal.js"), 421);
  assert.equal(await statusFor(`localhost:${presenter.port}`, "/api/state"), 200);
});

test(
  "npm run present hands the browser a private file, never the token on a command line other users can read",
  { timeout: 60_000 },
  async () => {
    const bin = await mkdtemp(path.join(os.tmpdir(), "rollcall-opener-"));
    try {
      // A stand-in for the desktop's opener: it records what it was given, as /proc/PID/cmdline shows it to everyone.
      const record = path.join(bin, "argv.json");
      await writeFile(
        path.join(bin, "xdg-open"),
        `#!/bin/sh\nnode -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))' "${record}" "$@"\n`,
      );
      await chmod(path.join(bin, "xdg-open"), 0o755);
      const child = spawn(process.execPath, [path.join(projectRoot, "dist", "scripts", "present.mjs"), "01-arrays", "--port", "0"], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      const deadline = Date.now() + 45_000;
      while (!(await stat(record).catch(() => undefined)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const argv = JSON.parse(await readFile(record, "utf8")) as string[];
      const url = /presenting 01-arrays at (\S+)/.exec(out)?.[1] ?? "";
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));

      assert.ok(url.includes("token="), out);
      assert.equal(argv.length, 1);
      assert.doesNotMatch(argv[0] ?? "", /token/, "the opener's command line holds no token");
      const page = new URL(argv[0] ?? "").pathname;
      assert.equal(
        (await stat(path.dirname(page)).catch(() => undefined))?.isDirectory() ?? false,
        false,
        "removed when the presenter stops",
      );
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  },
);

test("the class pulse through the presenter: only with the page's token, only a lesson's exercise names, numbers only", async () => {
  // A stand-in pulse service that records what the presenter asks it.
  const asked: { url: string; authorization: string }[] = [];
  const { createServer } = await import("node:http");
  const pulse = createServer((req, res) => {
    asked.push({ url: req.url ?? "", authorization: req.headers.authorization ?? "" });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        lesson: "01-arrays",
        stuckMinutes: 5,
        learners: 2,
        exercises: [
          {
            exercise: "enroll",
            passed: ["Ada <b>Lovelace</b>"],
            trying: ["Mei Chen"],
            notStarted: [],
            stuck: [{ name: "Mei Chen", minutes: 7 }],
            pickable: { done: ["ada@example.org"], stuck: ["mei@example.org"] },
          },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => pulse.listen(0, "127.0.0.1", resolve));
  const pulsePort = (pulse.address() as { port: number }).port;
  const withPulse = await recordingPresenter({ pulse: { url: `http://127.0.0.1:${pulsePort}`, instructorToken: "instructor-secret" } });
  const pageToken = new URL(withPulse.url).searchParams.get("token") ?? "";
  const at = (query: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${withPulse.port}/api/pulse${query}`, { headers });
  try {
    assert.equal((await at("?exercise=enroll")).status, 403, "no token, no pulse");
    assert.equal((await at("?exercise=enroll", { cookie: `x=${pageToken}` })).status, 403);
    assert.deepEqual(asked, [], "the pulse was never asked for an attacker");
    for (const bad of ["", "?exercise=", "?exercise=../../dashboard", "?exercise=enroll%0d%0aX:1", `?exercise=${"a".repeat(80)}`]) {
      const answer = await at(bad, { "x-rollcall-token": pageToken });
      assert.equal(answer.status, 400, bad);
    }
    assert.deepEqual(asked, [], "a bad exercise name never reaches the pulse");
    const good = await at("?exercise=enroll", { "x-rollcall-token": pageToken });
    assert.equal(good.status, 200);
    const { html } = (await good.json()) as { html: string };
    assert.doesNotMatch(html, /Ada|Mei|Lovelace/, "names stay off the projected screen");
    assert.deepEqual(asked, [{ url: "/dashboard/pulse.json?lesson=01-arrays", authorization: "Bearer instructor-secret" }]);
    const pick = await fetch(`http://127.0.0.1:${withPulse.port}/api/pick`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-rollcall-token": pageToken },
      body: JSON.stringify({ among: "stuck", exercise: "enroll" }),
    });
    assert.equal(pick.status, 404, "no class file: nothing to pick from");
    assert.match(((await pick.json()) as { error: string }).error, /--class NAME/);
  } finally {
    await withPulse.close();
    await new Promise((resolve) => pulse.close(resolve));
  }
});
