/** The pure parts of the class server: its config text, the learners' Unix names, passwords, and which accounts are the kit's. */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { hubConfig, type HubConfigOptions } from "../src/engine/hub-config.js";
import { accountMarker, markedAccounts, newPassword, passwdEntries, planAccounts, validUnixName } from "../src/engine/unix-accounts.js";

const options: HubConfigOptions = {
  ip: "127.0.0.1",
  port: 8000,
  hubPort: 8081,
  proxyApiPort: 8001,
  stateDir: "/srv/classes/b1-hub",
  users: ["rc-ada", "rc-zoe-oneil"],
  admins: ["teacher"],
  jupyterPath: "/usr/local/share/jupyter",
  submitDir: "/srv/rollcall/b1/inbound",
  spawnerDir: "/opt/kit/src/engine/hub-spawner",
};

test("the config puts the state in its folder, PAM and local processes in charge, and the learners allowed", () => {
  const text = hubConfig(options);
  for (const line of [
    'c.JupyterHub.ip = "127.0.0.1"',
    "c.JupyterHub.port = 8000",
    "c.JupyterHub.hub_port = 8081",
    'c.JupyterHub.db_url = "sqlite:///" + "/srv/classes/b1-hub/jupyterhub.sqlite"',
    'c.JupyterHub.cookie_secret_file = "/srv/classes/b1-hub/jupyterhub_cookie_secret"',
    'c.ConfigurableHTTPProxy.auth_token = _secret("/srv/classes/b1-hub/proxy-token")',
    'c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"',
    'sys.path.insert(0, "/opt/kit/src/engine/hub-spawner")',
    'c.JupyterHub.spawner_class = class_spawner(learners={"rc-ada", "rc-zoe-oneil"})',
    'c.Spawner.cmd = ["/usr/bin/jupyterhub-singleuser"]',
    'c.Spawner.notebook_dir = "~"',
    'c.Authenticator.allowed_users = {"rc-ada", "rc-zoe-oneil"}',
    'c.Authenticator.admin_users = {"teacher"}',
    "c.JupyterHub.cleanup_servers = True",
    'c.Spawner.args = ["--KernelManager.transport=ipc"]',
    'c.Spawner.environment = {"JUPYTER_PATH": "/usr/local/share/jupyter", "JUPYTER_CONFIG_PATH": "/usr/local/share/jupyter/rollcall-config", "JUPYTER_RUNTIME_DIR": _kernels_folder, "ROLLCALL_SUBMIT_DIR": "/srv/rollcall/b1/inbound", "SETUPTOOLS_USE_DISTUTILS": "stdlib"}',
  ]) {
    assert.ok(text.split("\n").includes(line), `missing: ${line}`);
  }
  assert.doesNotMatch(text, /[0-9a-f]{32}/, "no secret is in the config itself");
});

test("every value is a Python string literal: a name cannot break out of it", () => {
  const text = hubConfig({ ...options, admins: ['x"}\nimport os; os.system("id")#'] });
  assert.ok(text.includes(String.raw`c.Authenticator.admin_users = {"x\"}\nimport os; os.system(\"id\")#"}`));
  assert.deepEqual(
    text.split("\n").filter((l) => l.startsWith("import")),
    ["import sys"],
    "only the config's own import",
  );
  assert.match(hubConfig({ ...options, users: [] }), /allowed_users = set\(\)/);
});

test("learners get valid Unix names, prefixed, mapped from their email, and unique", () => {
  const planned = planAccounts([
    { name: "Ada Lovelace", email: "ada@school.org" },
    { name: "Zoë O'Neil", email: "Zoë.O'Neil@school.org" },
    { name: "Ada L", email: "ADA@other.org" },
    { name: "Long", email: `${"x".repeat(40)}@school.org` },
    { name: "Dots", email: "...@school.org" },
  ]);
  assert.deepEqual(
    planned.map((p) => p.user),
    ["rc-ada", "rc-zoe-o-neil", "rc-ada-2", `rc-${"x".repeat(29)}`, "rc-learner"],
  );
  assert.ok(planned.every((p) => validUnixName(p.user)));
  assert.equal(planned[0]?.mappedFrom, undefined, "a name that was valid as it was is not reported as mapped");
  assert.equal(planned[1]?.mappedFrom, "Zoë.O'Neil");
  assert.equal(planned[2]?.mappedFrom, "ADA");
});

test("a learner keeps the name on record when the roster changes; a name on record is nobody else's", () => {
  const kept = new Map([
    ["ada@school.org", "rc-ada"], // left since
    ["ada@other.org", "rc-ada-2"],
  ]);
  const planned = planAccounts(
    [
      { name: "Ada L", email: "ADA@other.org" },
      { name: "Ada New", email: "ada@new.org" },
    ],
    kept,
  );
  assert.deepEqual(
    planned.map((p) => p.user),
    ["rc-ada-2", "rc-ada-3"],
  );
  assert.equal(planned[1]?.why, "taken", "the newcomer's name is numbered because rc-ada is another's, not for its characters");
});

test("passwords are long, unambiguous and never the same", () => {
  const many = Array.from({ length: 200 }, newPassword);
  assert.equal(new Set(many).size, many.length);
  for (const p of many) assert.match(p, /^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$/);
});

test("only accounts carrying the class's marker are the kit's, whatever their learner wrote in the other fields", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rollcall-passwd-"));
  const file = path.join(dir, "passwd");
  await writeFile(
    file,
    [
      "root:x:0:0:root:/root:/bin/bash",
      `rc-ada:x:1001:1001:${accountMarker("b1")}:/home/rc-ada:/bin/bash`,
      `rc-bob:x:1002:1002:${accountMarker("b2")}:/home/rc-bob:/bin/bash`,
      "rc-own:x:1003:1003:Someone else's rc- account:/home/rc-own:/bin/bash",
      `ada:x:1004:1004:${accountMarker("b1")}:/home/ada:/bin/bash`,
      // a learner's own `chfn -r 12 -w 555` (Debian lets a user change room and phones, not the name the marker is in)
      `rc-cy:x:1005:1005:${accountMarker("b1")},12,555,:/home/rc-cy:/bin/bash`,
      `rc-dee:x:1006:1006:${accountMarker("b1")}x:/home/rc-dee:/bin/bash`,
    ].join("\n"),
  );
  assert.deepEqual(
    markedAccounts("b1", passwdEntries(file)).map((e) => e.user),
    ["rc-ada", "rc-cy"],
  );
});
