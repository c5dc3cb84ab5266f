/**
 * Setting up a class server, in two steps so that nothing is half set up: `planHub`
 * checks everything a user can get wrong (root, Debian's packages, a kit learners can
 * reach, learners, Unix names, the class not running, the port) and changes nothing;
 * `setUpHub` then makes the accounts, the logins file, the hub's private state, its
 * config, the kernelspec, and hands out the notebooks, and (with `--pulse URL`) each
 * learner's pulse settings. `removeHub` undoes the accounts, and only the marked ones,
 * and puts the class's submissions away.
 *
 * What a learner can read of the project: the kit's own code (node_modules/, dist/src/,
 * src/, scripts/, deploy/: the kernel and the helper module run from there, and no answer
 * is in any of them) and the learner notebooks. Not: classes/ (class files, logins, the
 * hub's state: 0700), lessons/, build/, test/, bench/, their compiled dist/test/ and
 * dist/bench/, and .git/ (the solutions, hidden tests and answers the tests and the
 * bench write), which lose every permission for others.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, lchown, mkdir, readdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { createServer, isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { classNameProblem, openClass } from "./class-file.js";
import { openPulseStore, pulseFileFor } from "./pulse-store.js";
import { digestOfSettings, pulseSettingsFor, removePulseSettings, writePulseSettings } from "./pulse-hub.js";
import { dropFolderOf, KEPT_INDEX, makeDropFolder, SUBMISSION_MAX_BYTES } from "./exchange.js";
import { readUntrusted } from "./untrusted-file.js";
import { HUB_PACKAGES, installCommand, missingPackages } from "./debian-packages.js";
import { handOutClass, type ClassHandOut } from "./hand-out.js";
import { hubConfig, HUB_STATE_FILES } from "./hub-config.js";
import { hubRunning } from "./hub-lock.js";
import { installKitKernel } from "./jupyter-setup.js";
import { failed, ok, type Problem, type Result } from "./problem.js";
import {
  createAccount,
  markedAccounts,
  markerOf,
  neverHadPassword,
  newPassword,
  passwdEntries,
  learnerKey,
  planAccounts,
  removeAccounts,
  setPasswords,
  type PasswdEntry,
  type PlannedAccount,
} from "./unix-accounts.js";

/** What the machine is asked; tests inject "not root" and "package missing" (they run as root, with the packages). */
export interface HubChecks {
  readonly isRoot: () => boolean;
  readonly missingPackages: (names: readonly string[]) => readonly string[];
}

export const systemChecks: HubChecks = { isRoot: () => process.getuid?.() === 0, missingPackages };

export interface HubOptions {
  readonly className: string;
  /** The folder of class files (`classes/`). */
  readonly classesDir: string;
  readonly ip: string;
  readonly port: number;
  /** The instructor's Unix name, made admin. */
  readonly admin: string;
  /** The project (node_modules, dist, notebooks). */
  readonly projectRoot: string;
  /** The Jupyter data folder the kernelspec goes to; default the system-wide one every learner's server reads. */
  readonly jupyterPath?: string;
  /** The class pulse's URL (`--pulse`): each learner gets `~/.rollcall-pulse.json` with a token of their own. Absent: the pulse is off. */
  readonly pulseUrl?: string;
}

/** Everything checked, nothing changed yet. */
export interface HubPlan extends HubOptions {
  readonly accounts: readonly PlannedAccount[];
  readonly stateDir: string;
  readonly loginsFile: string;
  readonly jupyterPath: string;
}

export const SYSTEM_JUPYTER_PATH = "/usr/local/share/jupyter";

export const hubStateDir = (classesDir: string, className: string): string => path.join(classesDir, `${className}-hub`);
export const loginsFile = (classesDir: string, className: string): string => path.join(classesDir, `${className}-logins.csv`);
/**
 * In the hub's state: account → sha256 of the pulse settings file the kit wrote into that home.
 * This is how a later start knows a `~/.rollcall-pulse.json` is the kit's (and may go) and not
 * one the learner made or changed (which stays).
 */
export const PULSE_RECORD = "pulse-settings.json";

/** The `--pulse` URL as the learners' notebooks will read it (no trailing slash), or the problem with it. */
export function checkPulseUrl(text: string): Result<string> {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname || /\s/.test(text) || url.username || url.password)
    return failed([
      {
        message: `--pulse takes the URL of the class pulse, http:// or https://, as \`npm run pulse -- --class NAME\` prints it (e.g. http://127.0.0.1:8765), not "${text}"`,
      },
    ]);
  return ok(url.href.replace(/\/+$/, ""));
}

/** Why the hub could not listen on ip:port, said for the instructor; undefined when it can (nothing listens there). */
export function listenProblem(ip: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === "EADDRINUSE"
          ? `port ${port} on ${ip} is in use: stop what listens there, or choose another with --port`
          : error.code === "EADDRNOTAVAIL"
            ? `this machine has no address ${ip} to listen on: give one of its own (see \`ip -brief address\`), 127.0.0.1 for this machine alone, or 0.0.0.0 for every network`
            : `cannot listen on ${ip} port ${port} (${error.code ?? error.message}): choose another --port or --ip`,
      ),
    );
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** What `--ip` must be: an address, never a name or "" (JupyterHub takes "" as every network). */
export const ipProblem = (ip: string): Problem | undefined =>
  isIP(ip) === 0
    ? {
        message: `--ip takes the address to listen on, e.g. 127.0.0.1 (this machine alone) or 0.0.0.0 (every network), not "${ip}"`,
      }
    : undefined;

/**
 * Checks, in order, what would stop the hub, and changes nothing: root, Debian's
 * packages (saying the apt command), a class with learners, Unix names that are
 * free or already this class's, the class's hub not running already, and the port.
 */
export async function planHub(options: HubOptions, checks: HubChecks = systemChecks): Promise<Result<HubPlan>> {
  const pulseUrl = options.pulseUrl === undefined ? undefined : checkPulseUrl(options.pulseUrl);
  if (pulseUrl && !pulseUrl.ok) return pulseUrl;
  if (!checks.isRoot()) {
    return failed([{ message: "npm run hub makes a Unix account per learner, so it must run as root: sudo npm run hub -- --class NAME" }]);
  }
  const missing = checks.missingPackages(HUB_PACKAGES);
  if (missing.length) {
    return failed([
      {
        message: `these Debian packages are missing: ${missing.join(", ")}. Install them with:\n  ${installCommand(missing)}\nthen run the command again.`,
      },
    ]);
  }
  const unreachable = await learnersCannotReach(options.projectRoot);
  if (unreachable) return failed([unreachable]);
  const opened = await openClass(options.className, { dir: options.classesDir });
  if (!opened.ok) return opened;
  const learners = opened.value.learners().filter((l) => !l.left);
  const file = opened.value.file;
  opened.value.close();
  if (learners.length === 0) {
    return failed([
      {
        file,
        message: `class ${options.className} has no learners: import a roster first (npm run class -- import ${options.className} ROSTER.csv)`,
      },
    ]);
  }
  const stateDir = hubStateDir(options.classesDir, options.className);
  const record = await readAccountRecord(stateDir, loginsFile(options.classesDir, options.className));
  if (!record.ok) return record;
  const accounts = planAccounts(learners, record.value);
  const entries = passwdEntries();
  const mine = new Set(markedAccounts(options.className, entries).map((e) => e.user));
  const clashes: Problem[] = accounts
    .filter((a) => !mine.has(a.user) && entries.some((e) => e.user === a.user))
    .map((a) => {
      const entry = entries.find((e) => e.user === a.user);
      const other = entry && markerOf(entry).match(/^rollcall\/(.+)$/)?.[1];
      return {
        message:
          other !== undefined
            ? `the Unix account ${a.user} (for ${a.learner}) is a learner's of class ${other}: one machine gives a name to one class. Remove class ${other} first (npm run hub -- --class ${other} --remove), or run this class on another machine.`
            : `the Unix account ${a.user} (for ${a.learner}) exists and was not made for class ${options.className}: rollcall never touches it. Rename or remove it, then run again.`,
      };
    });
  if (clashes.length) return failed(clashes);
  const badIp = ipProblem(options.ip);
  if (badIp) return failed([badIp]);
  const running = await hubRunning(options.classesDir, options.className);
  if (running) return failed([running]);
  const cannotListen = await listenProblem(options.ip, options.port);
  if (cannotListen) return failed([{ message: cannotListen }]);
  return ok({
    ...options,
    ...(pulseUrl ? { pulseUrl: pulseUrl.value } : {}),
    accounts,
    stateDir,
    loginsFile: loginsFile(options.classesDir, options.className),
    jupyterPath: options.jupyterPath ?? SYSTEM_JUPYTER_PATH,
  });
}

/** The mode of `file` when other users cannot read it (a folder: enter and list it); undefined when they can, or it is not there. */
async function closedToOthers(file: string): Promise<number | undefined> {
  const info = await stat(file).catch(() => undefined);
  const wants = info?.isDirectory() ? 0o005 : 0o004;
  return info && (info.mode & wants) !== wants ? info.mode & 0o777 : undefined;
}

/**
 * What each learner's server reads from the kit (as its learner): the kernel, the helper module, the
 * course (a folder: its notebooks too). Not the kernel's snapshot: a kernel that cannot read it starts
 * as plain tslab, only slower (and set-up makes it readable by all).
 */
export const RUN_BY_LEARNERS = [
  "package.json",
  "node_modules/tslab/bin/tslab",
  "node_modules/tslab/dist/converter.js",
  "node_modules/@tslab/typescript-for-tslab/lib/typescript.js",
  "node_modules/sql.js/dist/sql-wasm.wasm",
  "dist/src/index.js",
  "dist/src/engine/hand-out-worker.js",
  "notebooks",
] as const;

/**
 * Why learners' servers could not use the kit at `projectRoot`, or undefined. Each server runs
 * the kernel, the helper module and the hand-out from there as its learner, so every folder on
 * the way must let others in, and what they run must be readable: a kit cloned into a home
 * (0700 on Debian 12) would start a hub whose kernels never start.
 */
async function learnersCannotReach(projectRoot: string): Promise<Problem | undefined> {
  const root = path.resolve(projectRoot);
  const onTheWay: string[] = [];
  for (let dir = root; ; dir = path.dirname(dir)) {
    onTheWay.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of onTheWay) {
    const info = await stat(dir).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0)
      return {
        file: dir,
        message: `is closed to other users (mode ${(info.mode & 0o777).toString(8)}), so no learner's server can reach the kit in ${root}: move the kit where everyone may enter (e.g. /opt/rollcall), or let them through with chmod o+x ${dir}`,
      };
  }
  for (const needed of RUN_BY_LEARNERS) {
    // every folder on the way in, the file, and the notebooks of a folder of them: a clone or an
    // `npm ci` under umask 077 closes them all, not only the top ones
    const parts = needed.split("/");
    const onTheWayIn = parts.map((_, i) => path.join(root, ...parts.slice(0, i + 1)));
    const last = onTheWayIn[onTheWayIn.length - 1] ?? root;
    // the notebooks the hand-out copies, not whatever else is there (an editor's backup, say)
    const entries = await readdir(last, { withFileTypes: true }).catch(() => []);
    const within = entries.filter((e) => e.isFile() && e.name.endsWith(".ipynb")).map((e) => path.join(last, e.name));
    for (const file of [...onTheWayIn, ...within]) {
      const mode = await closedToOthers(file);
      if (mode !== undefined)
        return {
          file,
          message: `cannot be read by other users (mode ${mode.toString(8)}), and every learner's server runs ${needed} from there: chmod -R o+rX ${path.join(root, parts[0] ?? "")}`,
        };
    }
  }
  return undefined;
}

/** The line the instructor sees for a learner whose name had to be mapped, or undefined when it was valid as it was. */
export const describeMapping = (a: PlannedAccount): string | undefined =>
  a.mappedFrom === undefined
    ? undefined
    : a.why === "taken"
      ? `${a.learner} <${a.email}>: the account rc-${a.mappedFrom} is another learner's, so theirs is ${a.user}`
      : `${a.learner} <${a.email}>: "${a.mappedFrom}" is no valid Unix name, so the account is ${a.user}`;

/**
 * Which learner has which account, from earlier set-ups: `accounts.json` in the hub's state
 * (learner key → Unix name), else the logins file (classes set up before the record). Without
 * it a roster change would renumber names, and a learner would get another's home and password.
 */
async function readAccountRecord(stateDir: string, logins: string): Promise<Result<Map<string, string>>> {
  const file = path.join(stateDir, HUB_STATE_FILES.accounts);
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return ok(new Map((await readLogins(logins)).map((row) => [learnerKey(row), row.user])));
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    return ok(new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string")));
  } catch {
    return failed([
      {
        file,
        message:
          "is damaged: it says which learner has which account, and without it a learner could get another's. Put back a copy, or remove the class (--remove) and set it up afresh",
      },
    ]);
  }
}

/** One row of the logins file the instructor hands out. */
export interface Login {
  readonly name: string;
  readonly email: string;
  readonly user: string;
  readonly password: string;
}

async function readLogins(file: string): Promise<Login[]> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? [] : (parse(text, { columns: true, skip_empty_lines: true }) as Login[]);
}

/** Written beside, then renamed: never a half file, and mode 0600 from the first byte. */
async function writePrivate(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

async function writeSecretOnce(file: string, bytes: number): Promise<void> {
  if (!existsSync(file)) await writePrivate(file, randomBytes(bytes).toString("hex") + "\n");
}

/** The accounts a set-up was making when it stopped, before it could set their passwords; a file it cannot read is said in `notes`. */
async function readPending(file: string, notes: string[]): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return [];
  try {
    const users: unknown = JSON.parse(text);
    if (Array.isArray(users)) return users.filter((u): u is string => typeof u === "string");
  } catch {
    // said below
  }
  notes.push(`${file} is not a list of accounts (cut short?): no password was set from the logins file; passwd USER sets one by hand`);
  return [];
}

/**
 * Makes the `fresh` accounts, each with a new password written to the logins file first, and
 * the logins rows as they now are. The logins, and which accounts are about to be made, go
 * before the accounts: a set-up killed (kill -9) after making an account has written the
 * password it was about to set, and the next set-up sets it, for those accounts alone and only
 * while they have none.
 */
async function makeAccounts(plan: HubPlan, fresh: readonly PlannedAccount[], mine: ReadonlySet<string>, notes: string[]): Promise<Login[]> {
  const logins = await readLogins(plan.loginsFile);
  const passwords = new Map(fresh.map((a) => [a.user, newPassword()]));
  const rows = [
    ...logins.filter((l) => !passwords.has(l.user)),
    ...fresh.map((a) => ({ name: a.learner, email: a.email, user: a.user, password: passwords.get(a.user) ?? "" })),
  ];
  const pendingFile = path.join(plan.stateDir, HUB_STATE_FILES.pendingPasswords);
  const pending = new Set(await readPending(pendingFile, notes));
  if (fresh.length || !existsSync(plan.loginsFile))
    await writePrivate(plan.loginsFile, stringify(rows, { header: true, columns: ["name", "email", "user", "password"] }));
  await writePrivate(pendingFile, `${JSON.stringify([...new Set([...pending, ...fresh.map((a) => a.user)])])}\n`);
  for (const account of fresh) createAccount(plan.className, account.user);
  const recorded = new Map(logins.map((l) => [l.user, l.password]));
  const unset = plan.accounts
    .filter((a) => mine.has(a.user) && pending.has(a.user) && recorded.get(a.user) && neverHadPassword(a.user))
    .map((a) => a.user);
  setPasswords(plan.className, new Map([...passwords, ...unset.map((user) => [user, recorded.get(user) ?? ""] as const)]));
  await rm(pendingFile, { force: true });
  if (unset.length)
    notes.push(`a set-up was stopped while it made ${unset.join(", ")}: each now has the password ${plan.loginsFile} gives it`);
  return rows;
}

/** What the setup did, for the instructor. */
export interface HubSetUp {
  readonly configFile: string;
  readonly created: readonly string[];
  readonly existing: readonly string[];
  readonly notes: readonly string[];
  /** The accounts that got their pulse settings (with `--pulse`). */
  readonly pulseWritten: readonly string[];
  /** The accounts whose pulse settings (the kit's) were taken away (the pulse is off). */
  readonly pulseRemoved: readonly string[];
}

/** Makes what `plan` says, for a hub on `hubPort`/`proxyApiPort` (loopback). Safe to repeat: existing accounts and passwords are kept. */
export async function setUpHub(plan: HubPlan, ports: { hubPort: number; proxyApiPort: number }): Promise<HubSetUp> {
  await lockProjectTree(plan.projectRoot, plan.classesDir);
  await mkdir(plan.stateDir, { recursive: true, mode: 0o700 });
  await chmod(plan.stateDir, 0o700);

  // the record first: a set-up stopped after an account was made still knows whose it is
  const read = await readAccountRecord(plan.stateDir, plan.loginsFile);
  if (!read.ok) throw new Error(read.problems.map((p) => `${p.file}: ${p.message}`).join("; "));
  const record = read.value;
  for (const a of plan.accounts) record.set(learnerKey({ name: a.learner, email: a.email }), a.user);
  await writePrivate(path.join(plan.stateDir, HUB_STATE_FILES.accounts), `${JSON.stringify(Object.fromEntries(record), null, 2)}\n`);
  const notes: string[] = [];
  const mine = new Set(markedAccounts(plan.className).map((e) => e.user));
  const fresh = plan.accounts.filter((a) => !mine.has(a.user));
  const rows = await makeAccounts(plan, fresh, mine, notes);
  const listed = new Set(rows.map((r) => r.user));
  const unlisted = plan.accounts.filter((a) => !listed.has(a.user)).map((a) => a.user);
  if (unlisted.length)
    notes.push(`no password on file for ${unlisted.join(", ")} (kept as it was; remove the accounts with --remove to start afresh)`);

  await writeSecretOnce(path.join(plan.stateDir, HUB_STATE_FILES.cookieSecret), 32);
  await writeSecretOnce(path.join(plan.stateDir, HUB_STATE_FILES.proxyToken), 32);
  await writeSecretOnce(path.join(plan.stateDir, HUB_STATE_FILES.apiToken), 32);
  // Thirty kernels starting at once is where a class server runs short of CPU: they start from the snapshot.
  const kernel = await installKitKernel(plan.jupyterPath, plan.projectRoot);
  notes.push(...kernel.problems.map((p) => p.message));
  const submitDir = await makeDropFolder(plan.className);
  const configFile = path.join(plan.stateDir, HUB_STATE_FILES.config);
  const config = hubConfig({
    ip: plan.ip,
    port: plan.port,
    ...ports,
    stateDir: plan.stateDir,
    users: plan.accounts.map((a) => a.user),
    admins: [plan.admin],
    jupyterPath: plan.jupyterPath,
    submitDir,
    spawnerDir: path.join(plan.projectRoot, "src", "engine", "hub-spawner"),
  });
  await writePrivate(configFile, config);

  for (const e of markedAccounts(plan.className)) await linkKit(e.home, e.uid, e.gid, plan.projectRoot);
  const handed = await handOutToClass(plan.className, plan.projectRoot);
  if (!handed.ok)
    notes.push(`no notebooks handed out: ${handed.problems.map((p) => p.message).join("; ")} (build them with npm run build)`);
  else for (const p of handed.value.problems) notes.push(p.message);
  const pulse = await applyPulse(plan, markedAccounts(plan.className));
  notes.push(...pulse.notes);

  return {
    configFile,
    created: fresh.map((a) => a.user),
    existing: plan.accounts.filter((a) => mine.has(a.user)).map((a) => a.user),
    notes,
    pulseWritten: pulse.written,
    pulseRemoved: pulse.removed,
  };
}

async function readPulseRecord(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, "utf8").catch(() => "{}");
  const parsed = JSON.parse(text) as Record<string, unknown>;
  return new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/**
 * With `--pulse`: each learner still on the roster gets a new token in `~/.rollcall-pulse.json`.
 * Without (or for an account whose learner left): the file goes, if it is still the one the kit
 * wrote (its digest is in PULSE_RECORD); one the learner made or changed is theirs, and stays.
 */
async function applyPulse(
  plan: HubPlan,
  accounts: readonly PasswdEntry[],
): Promise<{ written: string[]; removed: string[]; notes: string[] }> {
  const recordFile = path.join(plan.stateDir, PULSE_RECORD);
  const record = await readPulseRecord(recordFile);
  const before = JSON.stringify([...record]);
  const written: string[] = [];
  const removed: string[] = [];
  const notes: string[] = [];
  const learnerOf = new Map(plan.accounts.map((a) => [a.user, a]));
  if (plan.pulseUrl !== undefined) {
    const store = openPulseStore(pulseFileFor(plan.classesDir, plan.className));
    try {
      for (const account of accounts) {
        const learner = learnerOf.get(account.user);
        if (!learner) continue;
        const settings = pulseSettingsFor(store, plan.pulseUrl, { email: learner.email, name: learner.learner });
        const error = await writePulseSettings(account, settings);
        if (error) notes.push(`${account.user}: no pulse settings written into ${account.home}: ${error}`);
        else {
          record.set(account.user, digestOfSettings(settings.text));
          written.push(account.user);
        }
      }
    } finally {
      store.close();
    }
    if (!(await answers(plan.pulseUrl)))
      notes.push(
        `nothing answers at ${plan.pulseUrl} yet: start it with npm run pulse -- --class ${plan.className} (until then the learners' checks wait in their queue)`,
      );
  }
  for (const account of accounts) {
    const digest = record.get(account.user);
    if (digest === undefined || written.includes(account.user)) continue;
    const outcome = await removePulseSettings(account, digest);
    if (outcome === "removed") removed.push(account.user);
    else if (outcome === "changed")
      notes.push(`${account.user}: ~/.rollcall-pulse.json is not the one the kit wrote (the learner changed it): left as it is`);
    else if (outcome !== "absent") {
      notes.push(`${account.user}: could not remove the pulse settings from ${account.home}: ${outcome.error}`);
      continue;
    }
    record.delete(account.user);
  }
  if (JSON.stringify([...record]) !== before) await writePrivate(recordFile, `${JSON.stringify(Object.fromEntries(record), null, 2)}\n`);
  return { written, removed, notes };
}

/** True when something answers HTTP at `url` within two seconds (the pulse service, we hope). */
const answers = (url: string): Promise<boolean> =>
  fetch(url, { signal: AbortSignal.timeout(2000), redirect: "manual" }).then(
    () => true,
    () => false,
  );

/**
 * `~/node_modules` → the project's: tslab resolves `import … from "rollcall"` (types
 * and code) from the notebook's folder upwards, and a learner's notebooks are in their home.
 * Made only where there is nothing yet, as a link (never followed), owned by the learner.
 */
async function linkKit(home: string, uid: number, gid: number, projectRoot: string): Promise<void> {
  const link = path.join(home, "node_modules");
  // the home is the learner's: whatever is at that name, made before or while we look, is theirs and stays
  const made = await symlink(path.join(projectRoot, "node_modules"), link).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return false;
      throw error;
    },
  );
  if (made) await lchown(link, uid, gid);
}

/** The parts of the project no learner may read (see the header). */
export const PRIVATE_PARTS = ["lessons", "build", "test", "bench", path.join("dist", "test"), path.join("dist", "bench"), ".git"] as const;

async function lockProjectTree(projectRoot: string, classesDir: string): Promise<void> {
  await mkdir(classesDir, { recursive: true, mode: 0o700 });
  await chmod(classesDir, 0o700);
  for (const part of PRIVATE_PARTS) {
    const folder = path.join(projectRoot, part);
    const info = await stat(folder).catch(() => undefined);
    if (info) await chmod(folder, info.mode & 0o770);
  }
}

/** Where `--remove` put the class's submissions. */
export interface KeptSubmissions {
  /** `classes/NAME-removed-<time>/submissions`: one folder per account that handed files in. */
  readonly folder: string;
  /** `…/submissions.csv`: each file, the account it was from, its uid and when it was handed in. */
  readonly index: string;
  readonly files: number;
  /** Entries of the drop folder not kept, each with why: no plain file of its own (a link, a FIFO), or over 5 MB, which collect would not take either. */
  readonly skipped: readonly string[];
}

export interface RemovedHub {
  readonly accounts: readonly string[];
  /** Why an account is still there (its processes did not end): its logins line and the hub's state stay with it. */
  readonly busy: readonly string[];
  /** Undefined when the class had no submissions. */
  readonly submissions?: KeptSubmissions;
}

/**
 * Removes the class's accounts and homes (marked ones only); the logins file and the hub's state
 * go too. The drop folder's files are kept, but not where they were: a file there is credited to
 * the uid that owns it (exchange.ts), and a removed learner's uid is the next account's to have,
 * so they move into the instructor-only classes folder, owned by root, sorted by the account they
 * were from, and the drop folder goes.
 */
export async function removeHub(classesDir: string, className: string, now = new Date()): Promise<RemovedHub> {
  // the name makes the paths removed below: "" or ".." would name the classes' folder or its parent
  const badName = classNameProblem(className);
  if (badName) throw new Error(badName.message);
  const owners = new Map(markedAccounts(className).map((e) => [e.uid, e.user]));
  // first: it ends the learners' processes, so nobody adds a file while we move them
  const { removed, busy } = await removeAccounts(className);
  // kept even when an account stays: the removed ones' uids are free for the next accounts made
  const submissions = await keepSubmissions(classesDir, className, owners, now);
  if (!busy.length) {
    await rm(hubStateDir(classesDir, className), { recursive: true, force: true });
    await rm(loginsFile(classesDir, className), { force: true });
  }
  return { accounts: removed, busy, ...(submissions ? { submissions } : {}) };
}

/** `20261202T072105123Z`: a time as a file name may hold it. */
const stampOf = (time: Date): string => time.toISOString().replace(/[-:.]/g, "");

async function keepSubmissions(
  classesDir: string,
  className: string,
  owners: ReadonlyMap<number, string>,
  now: Date,
): Promise<KeptSubmissions | undefined> {
  const drop = dropFolderOf(className);
  const names = await readdir(drop).catch(() => [] as string[]);
  let kept: KeptSubmissions | undefined;
  if (names.length) {
    const removedDir = path.join(classesDir, `${className}-removed-${stampOf(now)}`);
    const folder = path.join(removedDir, "submissions");
    await mkdir(classesDir, { recursive: true, mode: 0o700 });
    await mkdir(removedDir, { mode: 0o700 });
    await mkdir(folder, { mode: 0o700 });
    const rows: { file: string; account: string; uid: number; handedIn: string }[] = [];
    const skipped: string[] = [];
    for (const name of names.sort()) {
      // never through a link, and never a file with another name elsewhere (a hard link)
      const read = await readUntrusted(path.join(drop, name), SUBMISSION_MAX_BYTES, { singleLink: true }).catch((error: Error) => error);
      if (read instanceof Error) {
        skipped.push(`${name} (${read.message})`);
        continue;
      }
      const { info } = read;
      const account = owners.get(info.uid) ?? `uid-${info.uid}`;
      await mkdir(path.join(folder, account), { recursive: true, mode: 0o700 });
      const target = path.join(folder, account, name);
      // a new file of root's, 0600: the uid it came from owns nothing here
      await writeFile(target, read.bytes, { flag: "wx", mode: 0o600 });
      await utimes(target, info.atime, info.ctime);
      rows.push({ file: path.join(account, name), account, uid: info.uid, handedIn: info.ctime.toISOString() });
    }
    const index = path.join(removedDir, KEPT_INDEX);
    await writePrivate(index, stringify(rows, { header: true, columns: ["file", "account", "uid", "handedIn"] }));
    kept = { folder, index, files: rows.length, skipped };
  }
  await rm(path.dirname(drop), { recursive: true, force: true });
  return kept;
}

/** What the instructor is told about the submissions `--remove` kept. */
export function describeKeptSubmissions(kept: KeptSubmissions | undefined): string[] {
  if (!kept) return ["the class had no submissions"];
  return [
    `kept the class's ${kept.files} submissions in ${kept.folder} (only root can read it; one folder per account, when each was handed in: ${kept.index})`,
    `  to collect from them: npm run collect -- CLASS LESSON OUT --folders ${kept.folder}`,
    ...(kept.skipped.length ? [`left out what collect would not take either: ${kept.skipped.join(", ")}`] : []),
  ];
}

/** Who runs the command: the sudo caller when there is one. */
export const instructorName = (): string => process.env["SUDO_USER"] || os.userInfo().username;

/**
 * The course's notebooks into the home of every account of the class (`npm run hub -- --hand-out`,
 * and every start): by nbgitpuller's rule, a notebook a learner changed is never overwritten.
 */
export function handOutToClass(className: string, projectRoot: string): Promise<Result<ClassHandOut>> {
  return handOutClass(
    markedAccounts(className).map((e) => ({ learner: e.user, home: e.home, uid: e.uid, gid: e.gid })),
    path.join(projectRoot, "notebooks"),
  );
}
