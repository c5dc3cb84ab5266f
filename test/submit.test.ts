/** submit() from a learner's kernel, without a hub's accounts: what it sends, where, and what it says when it cannot. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { submit } from "../src/submit";
import { parseSubmissionName } from "../src/engine/exchange";
import { captureStdout } from "./support/capture-stdout";

let scratch = "";
let drop = "";
let course = "";
const cwd = process.cwd();
const saved = {
  HOME: process.env.HOME,
  JUPYTERHUB_USER: process.env.JUPYTERHUB_USER,
  ROLLCALL_SUBMIT_DIR: process.env.ROLLCALL_SUBMIT_DIR,
};
/** Sets the variables in the real environment (os.homedir() reads HOME there, not from a replaced process.env). */
function setEnv(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "rollcall-submit-"));
  drop = path.join(scratch, "inbound");
  course = path.join(scratch, "course");
  await mkdir(drop);
  await mkdir(course);
  await writeFile(path.join(course, "01-arrays.ipynb"), '{"cells":[]}');
  process.chdir(course); // Jupyter starts the kernel in the notebook's folder
});
beforeEach(() => {
  setEnv({ HOME: scratch, JUPYTERHUB_USER: "rc-ada", ROLLCALL_SUBMIT_DIR: undefined });
});
after(async () => {
  process.chdir(cwd);
  setEnv(saved);
  await rm(scratch, { recursive: true, force: true });
});

test("submit sends the saved notebook, named for who, what and when, readable by its owner alone; again keeps both", async () => {
  process.env.ROLLCALL_SUBMIT_DIR = drop;
  assert.match(
    captureStdout(() => submit("01-arrays")),
    /^submitted 01-arrays at \d\d:\d\d \(saved \d\d:\d\d\)\.\n$/,
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.match(
    captureStdout(() => submit("01-arrays.ipynb")),
    /^submitted 01-arrays at/,
  );
  const files = await readdir(drop);
  assert.equal(files.length, 2);
  for (const file of files) {
    assert.deepEqual(parseSubmissionName(file), { user: "rc-ada", lesson: "01-arrays" });
    assert.equal((await stat(path.join(drop, file))).mode & 0o777, 0o600);
    assert.equal(await readFile(path.join(drop, file), "utf8"), '{"cells":[]}');
  }
});

test("the drop folder can come from ~/.rollcall-submit-dir too", async () => {
  const other = path.join(scratch, "other");
  await mkdir(other);
  await writeFile(path.join(scratch, ".rollcall-submit-dir"), `${other}\n`);
  try {
    assert.match(
      captureStdout(() => submit("01-arrays")),
      /^submitted/,
    );
    assert.equal((await readdir(other)).length, 1);
  } finally {
    await rm(path.join(scratch, ".rollcall-submit-dir"));
  }
});

test("with no hub, no such notebook, or no lesson name, submit says what to do and sends nothing", async () => {
  const before = (await readdir(drop)).length;
  assert.match(
    captureStdout(() => submit("01-arrays")),
    /no class hub.*File → Download/,
  );
  process.env.ROLLCALL_SUBMIT_DIR = drop;
  assert.match(
    captureStdout(() => submit("07-nothing")),
    /There is no 07-nothing\.ipynb here nor in ~\/course\//,
  );
  assert.match(
    captureStdout(() => submit("../01-arrays")),
    /is no lesson name/,
  );
  process.env.ROLLCALL_SUBMIT_DIR = path.join(scratch, "missing");
  assert.match(
    captureStdout(() => submit("01-arrays")),
    /Could not submit 01-arrays/,
  );
  assert.equal((await readdir(drop)).length, before);
});

test("a classmate who made files under every name submit would use in the next seconds cannot stop a submission", async () => {
  const squatted = path.join(scratch, "squatted");
  await mkdir(squatted);
  // anyone may add a file to the drop folder: here, one per millisecond of the next 3 s, named for rc-ada
  const now = Date.now();
  for (let ms = 0; ms < 3000; ms++) {
    const at = new Date(now + ms).toISOString().replace(/[-:.]/g, "");
    await writeFile(path.join(squatted, `rc-ada+01-arrays+${at}.ipynb`), "{}");
  }
  process.env.ROLLCALL_SUBMIT_DIR = squatted;
  assert.match(
    captureStdout(() => submit("01-arrays")),
    /^submitted 01-arrays at/,
  );
  const mine = (await readdir(squatted)).filter((f) => parseSubmissionName(f)?.user === "rc-ada");
  assert.equal(mine.length, 3001, "the submission is there beside the squatter's files");
});

test("a learner who worked in the hand-out's new version is told that the older file was sent, and can submit the new one", async () => {
  const fresh = path.join(scratch, "fresh");
  await mkdir(fresh);
  process.env.ROLLCALL_SUBMIT_DIR = fresh;
  const newer = path.join(course, "01-arrays (new version 2026-12-02).ipynb");
  await new Promise((resolve) => setTimeout(resolve, 20));
  await writeFile(newer, '{"cells":[],"worked":"here"}'); // saved after 01-arrays.ipynb
  try {
    const said = captureStdout(() => submit("01-arrays"));
    assert.match(said, /^submitted 01-arrays at/);
    assert.match(said, /The file sent is 01-arrays\.ipynb, but 01-arrays \(new version 2026-12-02\)\.ipynb beside it was saved later/);
    assert.match(said, /submit\("01-arrays \(new version 2026-12-02\)"\)/);
    assert.match(
      captureStdout(() => submit("01-arrays (new version 2026-12-02)")),
      /^submitted 01-arrays at \d\d:\d\d \(saved \d\d:\d\d\)\.\n$/,
    );
    const sent = (await readdir(fresh)).sort();
    assert.equal(sent.length, 2);
    for (const file of sent) assert.deepEqual(parseSubmissionName(file), { user: "rc-ada", lesson: "01-arrays" });
    const texts = await Promise.all(sent.map((f) => readFile(path.join(fresh, f), "utf8")));
    assert.ok(texts.includes('{"cells":[],"worked":"here"}'), "the new version was sent");
  } finally {
    await rm(newer, { force: true });
  }
});

test("of two new versions beside it, the one saved last is named, and a dangling link among them is no version", async () => {
  process.env.ROLLCALL_SUBMIT_DIR = path.join(scratch, "versions");
  await mkdir(process.env.ROLLCALL_SUBMIT_DIR);
  // the hand-out's second version of a day sorts before its first by name: "2026-12-02 2" < "2026-12-02)"
  const first = path.join(course, "01-arrays (new version 2026-12-02).ipynb");
  const second = path.join(course, "01-arrays (new version 2026-12-02 2).ipynb");
  const dangling = path.join(course, "01-arrays (new version 2026-12-09).ipynb");
  await new Promise((resolve) => setTimeout(resolve, 20));
  await writeFile(first, "{}");
  await new Promise((resolve) => setTimeout(resolve, 20));
  await writeFile(second, "{}");
  await symlink(path.join(course, "gone.ipynb"), dangling);
  try {
    const said = captureStdout(() => submit("01-arrays"));
    assert.match(said, /^submitted 01-arrays at/);
    assert.match(said, /but 01-arrays \(new version 2026-12-02 2\)\.ipynb beside it was saved later/);
  } finally {
    for (const file of [first, second, dangling]) await rm(file, { force: true });
  }
});
