/**
 * The Debian packages a command needs, which of them are missing, and getting
 * them: with apt-get when this process may (root on Debian), or else the exact
 * command for the user to run. `npm start` and `npm test` use the same one.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { failed, ok, type Result } from "./problem.js";

/** What `npm start` needs: Jupyter Notebook and the client that runs notebooks. */
export const START_PACKAGES = ["jupyter-notebook", "python3-nbclient"] as const;
/**
 * What `npm test` needs besides: nbconvert (the runner's oracle), nbformat (the schema oracle), Chromium (the browser
 * tests), and venv, whose pip installs Notebook 7 and JupyterLab 4 for the browser tests (test/support/jupyter-venv.ts).
 */
export const TEST_PACKAGES = [...START_PACKAGES, "jupyter-nbconvert", "python3-nbformat", "chromium", "python3-venv"] as const;

/** What `npm run hub` needs: JupyterHub with its configurable-http-proxy, and the Notebook its learners' servers run. */
export const HUB_PACKAGES = ["jupyterhub", ...START_PACKAGES] as const;

/** True on Debian, Ubuntu and their relatives, where apt has these packaged. */
export const isDebianLike = (): boolean => existsSync("/etc/debian_version");

/** The packages of `names` that dpkg does not have installed. */
export function missingPackages(names: readonly string[]): string[] {
  return names.filter((name) => {
    const found = spawnSync("dpkg-query", ["-W", "-f=${Status}", name], { encoding: "utf8" });
    return !(found.status === 0 && /install ok installed/.test(found.stdout));
  });
}

/** The command a user runs to install these. */
export const installCommand = (names: readonly string[]): string => `sudo apt-get install -y ${names.join(" ")}`;

/** The packages apt-get installed (none when nothing was missing), or what to do. */
export type Installed = Result<readonly string[]>;

/**
 * Installs what is missing of `names` with apt-get when this process is root on
 * Debian (printing apt's own output as it goes); otherwise says what to run.
 */
export function installMissing(names: readonly string[], say: (line: string) => void): Installed {
  if (!isDebianLike()) return ok([]); // elsewhere the callers look for the programs themselves
  const missing = missingPackages(names);
  if (missing.length === 0) return ok([]);
  if (process.getuid?.() !== 0) {
    return failed([
      {
        message: `these Debian packages are missing: ${missing.join(", ")}. Install them with:\n  ${installCommand(missing)}\nthen run the command again.`,
      },
    ]);
  }
  say(`installing the Debian packages ${missing.join(", ")} with apt-get (once)`);
  const run = (args: string[]): boolean =>
    spawnSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0;
  if (!run(["update"]) || !run(["install", "-y", ...missing])) {
    return failed([
      {
        message: `apt-get could not install ${missing.join(", ")} (its output is above). Fix that, or run:\n  ${installCommand(missing)}\nthen run the command again.`,
      },
    ]);
  }
  const still = missingPackages(missing);
  return still.length ? failed([{ message: `apt-get finished, but ${still.join(", ")} is still not installed` }]) : ok(missing);
}
