/**
 * A real Jupyter server (Notebook 7 or JupyterLab 4) for a browser test: on a free
 * loopback port, with a token, the given folder as its root, and the kit's tslab
 * kernelspec found the way `npm start` makes it found (its own Jupyter data folder
 * on JUPYTER_PATH, see jupyterEnv). Its config and settings stay in that folder too.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { installKernelSpec, jupyterEnv } from "../../src/engine/jupyter-setup.js";
import { projectRoot } from "../../src/engine/paths.js";
import { exitWithin } from "./browser.js";
import { freePort } from "../../src/engine/free-ports.js";

/** The two UIs pip installs; each is its own `python -m` module. */
export type JupyterUi = "notebook" | "jupyterlab";

export interface JupyterServer {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly token: string;
  /** The browser URL of a notebook, given by its path under the root. */
  notebookUrl(file: string): string;
  /** Calls the server's REST API (/api/…) with the token. */
  api(method: string, route: string): Promise<Response>;
  /** Everything the server printed so far. */
  output(): string;
  /** Stops the server and its kernels: SIGTERM to its process group, SIGKILL after a grace time. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5000;

/**
 * JupyterLab's and Notebook 7's settings for a test: no news or update checks (there
 * is no network, and their pop-ups would cover the page), and no autosave (what a test
 * types must not be saved into the notebook the next test opens).
 */
const SETTINGS: Record<string, object> = {
  "@jupyterlab/apputils-extension/notification.jupyterlab-settings": { fetchNews: "false", checkForUpdates: false },
  "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": { autosave: false },
};

export async function startJupyterServer(options: {
  readonly python: string;
  readonly ui: JupyterUi;
  /** The server's root: the notebooks it serves. */
  readonly root: string;
  /** The Jupyter data folder for this server (kernelspec, config, settings, runtime files). */
  readonly dataDir: string;
}): Promise<JupyterServer> {
  const { python, ui, root, dataDir } = options;
  await installKernelSpec(dataDir, projectRoot);
  const env = jupyterEnv(dataDir);
  const settingsDir = path.join(dataDir, "lab-user-settings");
  for (const [file, settings] of Object.entries(SETTINGS)) {
    await mkdir(path.dirname(path.join(settingsDir, file)), { recursive: true });
    await writeFile(path.join(settingsDir, file), JSON.stringify(settings));
  }
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const origin = `http://127.0.0.1:${port}`;
  const args = [
    "-m",
    ui,
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--ServerApp.port_retries=0",
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${root}`,
    // window.jupyterapp: the test asks the app what it shows (dirty, kernel status, cells) and runs its commands.
    "--expose-app-in-browser",
  ];
  if (process.getuid?.() === 0) args.push("--allow-root");
  const child = spawn(python, args, {
    cwd: root,
    env: { ...env, JUPYTERLAB_SETTINGS_DIR: settingsDir, JUPYTERLAB_WORKSPACES_DIR: path.join(dataDir, "workspaces") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stopping it stops its kernels too
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));

  const signal = (name: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  const server: JupyterServer = {
    origin,
    token,
    notebookUrl: (file) =>
      `${origin}/${ui === "jupyterlab" ? "lab/tree" : "notebooks"}/${file.split("/").map(encodeURIComponent).join("/")}?token=${token}`,
    api: (method, route) => fetch(`${origin}${route}`, { method, headers: { Authorization: `token ${token}` } }),
    output: () => output,
    async stop() {
      signal("SIGTERM");
      if ((await exitWithin(child, STOP_GRACE_MS)) === undefined) {
        signal("SIGKILL");
        await exitWithin(child, STOP_GRACE_MS);
      }
    },
  };

  const until = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${python} -m ${ui} exited (code ${child.exitCode}) before it answered. Its output:\n${output}`);
    }
    const status = await server.api("GET", "/api/status").catch(() => undefined);
    if (status?.ok) return server;
    if (Date.now() > until) {
      await server.stop();
      throw new Error(`${python} -m ${ui} did not answer on ${origin} within ${READY_TIMEOUT_MS / 1000} s. Its output:\n${output}`);
    }
    await sleep(250);
  }
}
