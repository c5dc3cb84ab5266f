/**
 * The `jupyterhub_config.py` of a class server, as text: options in, config out,
 * nothing read or written here (the hub's setup writes it, the tests read it).
 *
 * One Unix user per learner, PAM login (JupyterHub's default authenticator), each
 * learner's server a local process (`jupyterhub-singleuser`, Debian's Notebook)
 * rooted in their home, the hub's state in one private folder, and a service token
 * for the REST API (the tests and the bench use it; root may, from the hub's state).
 */
import { SUBMIT_DIR_VARIABLE } from "./exchange.js";
import { kitConfigDir } from "./jupyter-setup.js";

export interface HubConfigOptions {
  /** Where the proxy listens for browsers. */
  readonly ip: string;
  readonly port: number;
  /** Where the hub itself listens for the proxy and the learners' servers (loopback). */
  readonly hubPort: number;
  /** The proxy's REST API port (loopback). */
  readonly proxyApiPort: number;
  /** The hub's private folder: database, cookie secret, proxy token, service token. */
  readonly stateDir: string;
  /** The Unix names allowed to log in (the learners). */
  readonly users: readonly string[];
  /** Unix names that are admins (the instructor). */
  readonly admins: readonly string[];
  /** The Jupyter data folder holding the kit's kernelspec (`kernels/tslab`). */
  readonly jupyterPath: string;
  /** The class's drop folder, which `submit()` in a learner's kernel finds in ROLLCALL_SUBMIT_DIR. */
  readonly submitDir: string;
  /** The folder of the hub's spawner (`src/engine/hub-spawner`: ports of their own, the fork server). */
  readonly spawnerDir: string;
}

/** The service whose token (in `<stateDir>/api-token`) the instructor's commands use. */
export const HUB_SERVICE = "rollcall";

/** File names inside the state folder. */
export const HUB_STATE_FILES = {
  config: "jupyterhub_config.py",
  database: "jupyterhub.sqlite",
  cookieSecret: "jupyterhub_cookie_secret",
  proxyToken: "proxy-token",
  apiToken: "api-token",
  log: "jupyterhub.log",
  /** Which learner has which account (`hub-setup.ts`). */
  accounts: "accounts.json",
  /** There while a hub of the class may run or have left processes behind: from its start to its clean stop (`hub-run.ts`). */
  running: "hub.running",
  /** JupyterHub's pid, as it writes it (its config says where). */
  hubPid: "jupyterhub.pid",
  /** The accounts a set-up is making, until their passwords are set (`hub-setup.ts`). */
  pendingPasswords: "passwords-pending.json",
} as const;

/** A Python string literal for any text (JSON's escapes are Python's too, for what JSON emits). */
const py = (text: string): string => JSON.stringify(text);
const pySet = (items: readonly string[]): string => (items.length ? `{${items.map(py).join(", ")}}` : "set()");

/**
 * The config text. Every value is quoted as a Python literal, so a name cannot
 * break out of its string.
 *
 * @example
 * hubConfig({ ip: "127.0.0.1", port: 8000, hubPort: 8081, proxyApiPort: 8001, stateDir: "/c/x-hub",
 *   users: ["rc-ada"], admins: ["root"], jupyterPath: "/usr/local/share/jupyter" });
 */
export function hubConfig(o: HubConfigOptions): string {
  const state = (file: string): string => py(`${o.stateDir.replace(/\/$/, "")}/${file}`);
  const lines = [
    "# Written by rollcall's `npm run hub`; it is rewritten on every start.",
    "c = get_config()  # noqa",
    "",
    "def _secret(path):",
    "    with open(path) as f:",
    "        return f.read().strip()",
    "",
    `c.JupyterHub.ip = ${py(o.ip)}`,
    `c.JupyterHub.port = ${o.port}`,
    `c.JupyterHub.hub_ip = "127.0.0.1"`,
    `c.JupyterHub.hub_port = ${o.hubPort}`,
    `c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${o.proxyApiPort}"`,
    `c.ConfigurableHTTPProxy.auth_token = _secret(${state(HUB_STATE_FILES.proxyToken)})`,
    `c.ConfigurableHTTPProxy.pid_file = ${state("proxy.pid")}`,
    `c.JupyterHub.pid_file = ${state(HUB_STATE_FILES.hubPid)}`,
    `c.JupyterHub.db_url = "sqlite:///" + ${state(HUB_STATE_FILES.database)}`,
    `c.JupyterHub.cookie_secret_file = ${state(HUB_STATE_FILES.cookieSecret)}`,
    "# Ctrl-C stops the proxy and every learner's server with the hub.",
    "c.JupyterHub.cleanup_servers = True",
    "c.JupyterHub.cleanup_proxy = True",
    "",
    "# PAM: learners log in with their Unix name and the password in the logins file.",
    `c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"`,
    `c.Authenticator.allowed_users = ${pySet(o.users)}`,
    `c.Authenticator.admin_users = ${pySet(o.admins)}`,
    "",
    "# Debian's LocalProcessSpawner, with a port of its own for each server and servers",
    "# forked from one that has imported the app (hub-spawner/class_spawner.py says why).",
    "import sys",
    `sys.path.insert(0, ${py(o.spawnerDir)})`,
    "from class_spawner import class_spawner",
    `c.JupyterHub.spawner_class = class_spawner(learners=${pySet(o.users)})`,
    `c.Spawner.cmd = ["/usr/bin/jupyterhub-singleuser"]`,
    `c.Spawner.notebook_dir = "~"`,
    `c.Spawner.default_url = "/tree"`,
    "# SETUPTOOLS_USE_DISTUTILS: Notebook imports distutils, and Python's own is a",
    "# fifth of a server's start cheaper than setuptools' copy (30 servers start at once).",
    "# Kernels over Unix sockets in the learner's own home (Jupyter's ipc transport), never TCP",
    "# ports on loopback: a port is open to every user of the machine, and a kernel's output",
    "# channel has no password, so any learner could hear another's outputs and code; and thirty",
    "# servers choosing their kernels' ports at once were seen choosing the same one. The",
    "# sockets are in ~/.kernels, a short path: a Unix socket's path may be 107 bytes at most.",
    `c.Spawner.args = ["--KernelManager.transport=ipc"]`,
    "def _kernels_folder(spawner):",
    "    import pwd",
    '    return pwd.getpwnam(spawner.user.name).pw_dir + "/.kernels"',
    `c.Spawner.environment = {"JUPYTER_PATH": ${py(o.jupyterPath)}, "JUPYTER_CONFIG_PATH": ${py(kitConfigDir(o.jupyterPath))}, "JUPYTER_RUNTIME_DIR": _kernels_folder, ${py(SUBMIT_DIR_VARIABLE)}: ${py(o.submitDir)}, "SETUPTOOLS_USE_DISTUTILS": "stdlib"}`,
    "# A class starts at once on a small machine: give each server time.",
    "c.Spawner.start_timeout = 120",
    "c.Spawner.http_timeout = 120",
    "",
    "# The REST API's token for the instructor's scripts (root's, in the hub's state).",
    `c.JupyterHub.services = [{"name": ${py(HUB_SERVICE)}, "api_token": _secret(${state(HUB_STATE_FILES.apiToken)})}]`,
    `c.JupyterHub.load_roles = [{"name": "rollcall-instructor", "scopes": ["admin:users", "admin:servers", "access:servers", "tokens"], "services": [${py(HUB_SERVICE)}]}]`,
    "",
  ];
  return lines.join("\n");
}
