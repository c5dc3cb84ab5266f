/**
 * The kit's Jupyter config (src/engine/jupyter-config/): Notebook 6 sends a kernel's
 * messages without Nagle's delay. Installed with the kernelspec, put on
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
import { freePort } from "./support/browser.js";

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
