/**
 * The README's steps for VS Code, JupyterLab and Notebook 7, followed as written:
 * `npm start -- --user-kernel` puts the kernelspec where any Jupyter client looks
 * (the user's Jupyter data folder, found by jupyter_client as VS Code finds it),
 * under the name and display name the README gives, and that kernelspec starts a
 * kernel that runs a notebook's first cell.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { JupyterKernel } from "../src/engine/kernel-client.js";
import { findJupyter } from "../src/engine/jupyter-setup.js";
import { notebooksDir, projectRoot } from "../src/engine/paths.js";

/** Every kernelspec a Jupyter client finds for this user: jupyter_client's own discovery. */
const FIND_SPECS = "import json; from jupyter_client.kernelspec import KernelSpecManager as M; print(json.dumps(M().get_all_specs()))";

test("README: `npm start -- --user-kernel` installs the kernel a Jupyter client finds, named as the README says, and it runs", async () => {
  const readme = await readFile(path.join(projectRoot, "README.md"), "utf8");
  const step =
    /run `npm start -- --user-kernel` once[\s\S]*?named\s+`(\w+)` \(display name "([^"]+)", language `(\w+)`\);[\s\S]*?\*Select Kernel → Jupyter Kernel… → ([^*]+)\*/.exec(
      readme,
    );
  assert.ok(step, "the README's VS Code steps are where this test reads them (For learners: JupyterLab, Notebook 7, VS Code)");
  const [, name, displayName, language, picked] = step as unknown as [string, string, string, string, string];
  assert.equal(picked, displayName, "the kernel VS Code lists is the display name the README gives");

  const jupyter = await findJupyter();
  assert.ok(jupyter.ok, "this test needs Jupyter (npm test installs it)");
  const home = await mkdtemp(path.join(os.tmpdir(), "rollcall-home-"));
  // A user with no Jupyter settings of their own: only HOME says where their Jupyter folders are.
  const { JUPYTER_PATH: _path, JUPYTER_DATA_DIR: _data, ...rest } = process.env;
  const env = { ...rest, HOME: home };
  let kernel: JupyterKernel | undefined;
  try {
    const said = execFileSync(process.execPath, [path.join(projectRoot, "dist", "scripts", "start.mjs"), "--user-kernel"], {
      env,
      encoding: "utf8",
    });
    assert.match(said, new RegExp(`installed the "${displayName.replace(/[()]/g, "\\$&")}" kernel \\(name: ${name}\\) in ${home}`));

    const specs = JSON.parse(execFileSync(jupyter.value.python, ["-c", FIND_SPECS], { env, encoding: "utf8" })) as Record<
      string,
      { resource_dir: string; spec: { argv: string[]; display_name: string; language: string } }
    >;
    const found = specs[name];
    assert.ok(found, `a Jupyter client finds no kernel named ${name}: it finds ${Object.keys(specs).join(", ")}`);
    assert.ok(found.resource_dir.startsWith(home), found.resource_dir);
    assert.deepEqual([found.spec.display_name, found.spec.language], [displayName, language]);

    kernel = await JupyterKernel.start({ name, argv: found.spec.argv }, { cwd: notebooksDir });
    const ran = await kernel.execute('import { roster } from "rollcall";\nconsole.log(roster.length);');
    assert.deepEqual([ran.status, ran.outputs], ["ok", [{ output_type: "stream", name: "stdout", text: "12\n" }]]);
  } finally {
    await kernel?.stop();
    await rm(home, { recursive: true, force: true });
  }
});
