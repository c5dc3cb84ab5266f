/**
 * Running JupyterHub as a child: start it on its config, wait until its REST API
 * answers, and stop it so that the proxy and every learner's server stop with it
 * (the hub's own cleanup first; then, by id, whatever a learner left running).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HUB_STATE_FILES } from "./hub-config.js";
import { AccountBusy, endProcessesOf, type PasswdEntry } from "./unix-accounts.js";

/** Where Debian keeps the Node modules its packages need. */
const DEBIAN_NODE_MODULES = "/usr/share/nodejs";

export interface RunningHub {
  /** The URL learners open. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Stops the hub, the proxy and every learner's server; resolves when all are gone. */
  stop(): Promise<void>;
  /** Resolves with the hub's exit code when it ends by itself or is stopped. */
  readonly exited: Promise<number | null>;
}

export interface StartHub {
  readonly configFile: string;
  readonly stateDir: string;
  readonly ip: string;
  readonly port: number;
  /** The learners' accounts: after the hub stops, none of their processes may be left. */
  readonly accounts: readonly Pick<PasswdEntry, "user" | "uid" | "gid">[];
  readonly readyTimeoutMs?: number;
}

/** Starts `jupyterhub -f CONFIG` in the state folder (its log goes to jupyterhub.log there) and waits for its API. */
export async function startHub(options: StartHub): Promise<RunningHub> {
  const log = createWriteStream(path.join(options.stateDir, HUB_STATE_FILES.log), { flags: "a", mode: 0o600 });
  // its own process group: Ctrl-C reaches us, and we stop it in order
  // Debian's configurable-http-proxy finds its modules in /usr/share/nodejs only when Debian's own Node runs it
  const env = { ...process.env, NODE_PATH: [DEBIAN_NODE_MODULES, process.env["NODE_PATH"]].filter(Boolean).join(path.delimiter) };
  // and it gets SIGTERM when this process ends, however it ends (kill -9 too): it then stops the
  // proxy and the servers itself, instead of running on with no command to stop it
  const child = spawn("/usr/bin/setpriv", ["--pdeathsig", "SIGTERM", "--", "jupyterhub", "-f", options.configFile], {
    cwd: options.stateDir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const host = options.ip === "0.0.0.0" ? "127.0.0.1" : options.ip;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${options.port}/`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const late = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(late);
    }
    // one learner's stubborn process must not keep the proxy and the others running: report it last
    const left: string[] = [];
    for (const account of options.accounts) {
      try {
        await endProcessesOf(account);
      } catch (error) {
        left.push((error as Error).message);
      }
    }
    // the proxy, if the hub was killed before it could stop it
    const proxyPid = await readFile(path.join(options.stateDir, "proxy.pid"), "utf8").catch(() => "");
    // only if that id is still the proxy (an id is reused once its process is gone)
    const command = /^\d+\s*$/.test(proxyPid) ? await readFile(`/proc/${proxyPid.trim()}/cmdline`, "utf8").catch(() => "") : "";
    if (command.includes("configurable-http-proxy")) {
      try {
        process.kill(Number(proxyPid), "SIGTERM");
      } catch {
        // stopped by the hub
      }
    }
    // a server the hub could not stop would hold its output pipes, and this process, open
    child.stdout?.destroy();
    child.stderr?.destroy();
    log.end();
    if (left.length) throw new AccountBusy(left.join("\n"));
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      log.end();
      throw new Error(`jupyterhub exited with code ${child.exitCode}; its log is ${path.join(options.stateDir, HUB_STATE_FILES.log)}`);
    }
    const up = await fetch(new URL("hub/api/", url)).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { url, child, stop, exited };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `jupyterhub did not answer at ${url} within ${(options.readyTimeoutMs ?? 60_000) / 1000} s; its log is in ${options.stateDir}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
