/**
 * The kit's Jupyter config (src/engine/jupyter-config/): Notebook 6 sends a kernel's
 * messages without Nagle's delay, and jupyter_client parses each header date once.
 * Installed with the kernelspec, put on
 * JUPYTER_CONFIG_PATH by `npm start` (jupyterEnv) and by the class server, and loaded
 * by a real Notebook 6 started the way `npm start` starts it.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { findJupyter, installKernelSpec, jupyterEnv, kernelSpecFile, kitConfigDir } from "../src/engine/jupyter-setup.js";
import { projectRoot } from "../src/engine/paths.js";
import { freePort } from "../src/engine/free-ports.js";

const run = promisify(execFile);
const scratch = mkdtemp(path.join(os.tmpdir(), "rollcall-jupyter-config-"));
after(async () => rm(await scratch, { recursive: true, force: true }));

async function notebookPython(): Promise<string> {
  const found = await findJupyter();
  assert.ok(found.ok, "Debian's Notebook 6 is installed for the tests");
  return found.value.python;
}

test("the config makes Notebook 6 switch Nagle off on a kernel's websocket as soon as it opens, once however often it is loaded, and never keeps one from opening", async () => {
  const dataDir = path.join(await scratch, "unit");
  await installKernelSpec(dataDir, projectRoot);
  const config = path.join(kitConfigDir(dataDir), "jupyter_notebook_config.py");
  const probe = `
import json, runpy, sys
from notebook.services.kernels.handlers import ZMQChannelsHandler
calls = []
ZMQChannelsHandler.open = lambda self, kernel_id: calls.append(["open", kernel_id])
runpy.run_path(sys.argv[1])
runpy.run_path(sys.argv[1])
class Handler:
    def set_nodelay(self, value):
        calls.append(["nodelay", value])
ZMQChannelsHandler.open(Handler(), "k1")
class Closed:
    class log:
        @staticmethod
        def warning(*args):
            calls.append(["warning"])
    def set_nodelay(self, value):
        raise OSError("the connection went away")
ZMQChannelsHandler.open(Closed(), "k2")
print(json.dumps(calls))
`;
  const { stdout } = await run(await notebookPython(), ["-c", probe, config]);
  // a websocket whose Nagle cannot be switched off opens all the same
  assert.deepEqual(JSON.parse(stdout), [["nodelay", true], ["open", "k1"], ["warning"], ["open", "k2"]]);
});

test("the config keeps each header date jupyter_client parses, once however often it is loaded: the same datetime, an error raised every time", async () => {
  const dataDir = path.join(await scratch, "dates");
  await installKernelSpec(dataDir, projectRoot);
  const config = path.join(kitConfigDir(dataDir), "jupyter_notebook_config.py");
  const probe = `
import json, runpy, sys, warnings
warnings.simplefilter("ignore")
from jupyter_client import jsonutil, session
dates = ["2026-12-03T13:20:00.123Z", "2026-12-03T13:20:00.123456+01:00", "2026-12-03T13:20:00", "not a date"]
before = [repr(jsonutil.parse_date(d)) for d in dates]
slow = jsonutil._dateutil_parse
runpy.run_path(sys.argv[1])
runpy.run_path(sys.argv[1])
after = [repr(jsonutil.parse_date(d)) for d in dates + dates]
errors = []
for _ in range(2):
    try:
        jsonutil.parse_date("2026-02-30T00:00:00Z")
    except ValueError as error:
        errors.append(type(error).__name__)
info = jsonutil._dateutil_parse.cache_info()
msg = session.Session(key=b"k").msg("status", {"execution_state": "idle"})
print(json.dumps({"before": before, "after": after, "wrappedOnce": jsonutil._dateutil_parse.__wrapped__ is slow, "hits": info.hits, "errors": errors,
  "session": repr(session.extract_dates({"date": "2026-12-03T13:20:00.5Z"})["date"])}))
`;
  const { stdout } = await run(await notebookPython(), ["-c", probe, config]);
  const seen = JSON.parse(stdout) as {
    before: string[];
    after: string[];
    wrappedOnce: boolean;
    hits: number;
    errors: string[];
    session: string;
  };
  assert.deepEqual(seen.after, [...seen.before, ...seen.before], "the same datetime as dateutil's, for each string");
  assert.equal(seen.wrappedOnce, true, "loaded twice, the parse is kept once, not wrapped twice");
  assert.ok(seen.hits >= 3, `the second time a date is asked for, it is not parsed again (${seen.hits} hits)`);
  assert.equal(seen.errors.length, 2, "a date that is none raises each time");
  assert.match(seen.session, /^datetime\.datetime\(2026, 12, 3, 13, 20, 0, 500000, tzinfo=/, "the parse the session uses is the kept one");
});

test("whatever the umask, the kernelspec and the config are writable by their owner only (every learner's server runs them)", async () => {
  const dataDir = path.join(await scratch, "umask");
  const before = process.umask(0);
  try {
    await installKernelSpec(dataDir, projectRoot);
  } finally {
    process.umask(before);
  }
  const modes: Record<string, string> = {};
  for (const file of [kernelSpecFile(dataDir), path.join(kitConfigDir(dataDir), "jupyter_notebook_config.py")]) {
    modes[path.relative(dataDir, file)] = ((await stat(file)).mode & 0o777).toString(8);
    modes[path.relative(dataDir, path.dirname(file))] = ((await stat(path.dirname(file))).mode & 0o777).toString(8);
  }
  assert.deepEqual(modes, {
    "kernels/tslab": "755",
    "kernels/tslab/kernel.json": "644",
    "rollcall-config": "755",
    "rollcall-config/jupyter_notebook_config.py": "644",
  });
});

test("npm start's environment puts the kit's config on Jupyter's path, and Notebook 6 loads it", { timeout: 60_000 }, async () => {
  const dataDir = path.join(await scratch, "served");
  await installKernelSpec(dataDir, projectRoot);
  const env = jupyterEnv(dataDir);
  const config = path.join(kitConfigDir(dataDir), "jupyter_notebook_config.py");
  assert.equal(
    await readFile(config, "utf8"),
    await readFile(path.join(projectRoot, "src", "engine", "jupyter-config", "jupyter_notebook_config.py"), "utf8"),
  );
  const port = await freePort();
  const server = spawn(
    await notebookPython(),
    [
      "-m",
      "notebook",
      "--debug",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--NotebookApp.port_retries=0",
      "--NotebookApp.token=probe",
      "--allow-root",
    ],
    { cwd: await scratch, env, stdio: ["ignore", "ignore", "pipe"] },
  );
  try {
    let said = "";
    const loaded = await new Promise<boolean>((resolve) => {
      server.stderr.on("data", (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes(`Loaded config file: ${config}`)) resolve(true);
        else if (said.includes(`127.0.0.1:${port}/`)) resolve(false); // serving, and it was not loaded
      });
      server.once("exit", () => resolve(false));
    });
    assert.ok(loaded, `Notebook 6 did not load ${config}:\n${said.slice(-2000)}`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => (server.exitCode === null ? server.once("exit", resolve) : resolve(undefined)));
  }
});
