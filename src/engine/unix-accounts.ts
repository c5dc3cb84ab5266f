/**
 * The Unix accounts of a class: a learner's Unix name (pure), and creating,
 * finding and removing the accounts the kit made. Every account made here carries
 * the marker `rollcall/CLASS` in its GECOS field, and only marked accounts are
 * ever changed or removed, so the kit never touches an account it did not create.
 */
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { chmodSync, readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** Every learner's Unix name starts with this. */
export const ACCOUNT_PREFIX = "rc-";
/** Debian's useradd takes names up to 32 characters. */
const MAX_NAME = 32;

/** The GECOS field of a class's accounts. */
export const accountMarker = (className: string): string => `rollcall/${className}`;

/** A learner's account as planned: who, the Unix name, and what their name was mapped from when it was not valid as it was. */
export interface PlannedAccount {
  readonly email: string;
  readonly learner: string;
  readonly user: string;
  /** The text the name came from, when it had to change; the change is shown to the instructor. */
  readonly mappedFrom?: string;
  /** Why it changed: characters a Unix name cannot hold, or the name was another learner's already. */
  readonly why?: "characters" | "taken";
}

/** Who a learner is across roster imports: their email as the class file keys it, or their name when they have none. */
export const learnerKey = (l: { readonly name: string; readonly email: string }): string =>
  l.email.trim() ? l.email.trim().toLowerCase() : `name:${l.name}`;

/** A valid Unix name as Debian's useradd takes it by default. */
export const validUnixName = (name: string): boolean => /^[a-z_][a-z0-9_-]*$/.test(name) && name.length <= MAX_NAME;

/**
 * The Unix names of a class: `rc-` and the email's local part (or the name when
 * there is no email), lower-cased, accents dropped, anything else mapped to `-`,
 * cut to 32 characters, and made unique with a number. A learner in `kept` (learner
 * key → name, from earlier set-ups) keeps that name, and nobody else gets it, even
 * after its learner left: a name is never handed on with the home and password behind it.
 * Pure; same roster and record, same names.
 *
 * @example
 * planAccounts([{ name: "Zoë O'Neil", email: "Zoe.ONeil@school.org" }]); // → user "rc-zoe-oneil", mappedFrom "Zoe.ONeil"
 */
export function planAccounts(
  learners: readonly { readonly name: string; readonly email: string }[],
  kept: ReadonlyMap<string, string> = new Map(),
): PlannedAccount[] {
  const taken = new Set(kept.values());
  return learners.map((l) => {
    const source = l.email.includes("@") ? l.email.slice(0, l.email.lastIndexOf("@")) : l.email || l.name;
    const cleaned = source
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/-+/g, "-")
      .replace(/^-|-$/g, "");
    const base = (ACCOUNT_PREFIX + (cleaned || "learner")).slice(0, MAX_NAME).replace(/-$/, "");
    let user = kept.get(learnerKey(l));
    if (user === undefined) {
      user = base;
      for (let n = 2; taken.has(user); n++) user = `${base.slice(0, MAX_NAME - String(n).length - 1)}-${n}`;
      taken.add(user);
    }
    const why = cleaned !== source || base !== ACCOUNT_PREFIX + source ? "characters" : user !== base ? "taken" : undefined;
    return { email: l.email, learner: l.name, user, ...(why ? { mappedFrom: source, why } : {}) };
  });
}

/** One line of /etc/passwd. */
export interface PasswdEntry {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
}

/** The accounts on this machine (from /etc/passwd, the file useradd writes). */
export function passwdEntries(file = "/etc/passwd"): PasswdEntry[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.includes(":"))
    .map((line) => {
      const [user = "", , uid = "", gid = "", gecos = "", home = ""] = line.split(":");
      return { user, uid: Number(uid), gid: Number(gid), gecos, home };
    });
}

/**
 * The marker an account carries: the first of its comment's comma-separated fields, the full
 * name, which Debian does not let a user change (CHFN_RESTRICT rwh); the others (room, phones)
 * a learner may set with chfn, and so could hide their account from the kit's clean-up if the
 * whole comment were compared.
 */
export const markerOf = (entry: PasswdEntry): string => entry.gecos.split(",")[0] ?? "";

/** The accounts carrying the class's marker, and only those. */
export const markedAccounts = (className: string, entries: readonly PasswdEntry[] = passwdEntries()): PasswdEntry[] =>
  entries.filter((e) => markerOf(e) === accountMarker(className) && e.user.startsWith(ACCOUNT_PREFIX));

/** A password to hand out: 4 groups of 4 from an alphabet without look-alikes, from the OS's CSPRNG (about 78 bits). */
export function newPassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => alphabet[randomInt(alphabet.length)]).join(""));
  return groups.join("-");
}

function run(program: string, args: readonly string[], input?: string): void {
  // a session of its own (setsid): Ctrl-C in the instructor's terminal must not end useradd or chpasswd halfway (hub.mts acts on it when safe)
  const done = spawnSync("setsid", ["--wait", program, ...args], { encoding: "utf8", ...(input !== undefined ? { input } : {}) });
  if (done.status !== 0) throw new Error(`${program} ${args.join(" ")} failed: ${(done.stderr || done.error?.message || "").trim()}`);
}

/**
 * Creates a marked account with a private home (mode 0700: Debian's default home is readable by
 * all), made so by useradd itself: a set-up killed just after useradd must not leave it open.
 */
export function createAccount(className: string, user: string): PasswdEntry {
  const args = [
    "--create-home",
    "--key",
    "HOME_MODE=0700",
    "--shell",
    "/bin/bash",
    "--comment",
    accountMarker(className),
    "--user-group",
    user,
  ];
  run("useradd", args);
  const entry = passwdEntries().find((e) => e.user === user);
  if (!entry) throw new Error(`useradd made no account ${user}`);
  chmodSync(entry.home, 0o700);
  return entry;
}

/** Whether the account has never had a password: /etc/shadow holds what useradd writes, "!", and nothing else. */
export function neverHadPassword(user: string): boolean {
  const line = readFileSync("/etc/shadow", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  return line?.split(":")[1] === "!";
}

/** Sets the passwords of marked accounts (chpasswd reads them on stdin, so they never appear in a process list). */
export function setPasswords(className: string, passwords: ReadonlyMap<string, string>): void {
  const marked = new Set(markedAccounts(className).map((e) => e.user));
  const lines = [...passwords].map(([user, password]) => {
    if (!marked.has(user)) throw new Error(`refusing to set the password of ${user}: it is not an account of class ${className}`);
    return `${user}:${password}`;
  });
  if (lines.length) run("chpasswd", [], lines.join("\n") + "\n");
}

/** The process whose pid `file` holds, if its command line still contains `must` (a pid is reused once its process is gone). */
export async function processNamedIn(file: string, must: string): Promise<number | undefined> {
  const pid = (await readFile(file, "utf8").catch(() => "")).trim();
  if (!/^\d+$/.test(pid)) return undefined;
  const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return command.includes(must) ? Number(pid) : undefined;
}

/** The real, effective, saved and file-system uids of a process (its status's `Uid:` line), or undefined once it has ended. */
export async function uidsOf(pid: number | string): Promise<number[] | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  return /^Uid:\s+(.*)$/m
    .exec(status ?? "")?.[1]
    ?.trim()
    .split(/\s+/)
    .map(Number);
}

/** The ids of the processes running as `uid`, from /proc. */
export function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(real) === uid) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A uid no account and no process has: the real and saved uid of the process that ends an account's processes. */
const NO_ONE = 4294967294; // (uid_t)-2

/**
 * Sends SIGKILL to -1 with the learner's uid as effective uid and NO_ONE as real and saved
 * uid: the kernel then signals every process whose real or saved uid is the learner's, in one
 * pass no fork can slip past, while no process of the learner may signal this one (that asks
 * for the learner's uid as its real or saved uid), so a learner stopping their own processes
 * with `kill(-1, SIGSTOP)` in a loop cannot stop it. It starts as root, hence under no process limit.
 */
const KILL_AS_LEARNER = [
  "import os, signal, sys",
  "uid, gid, no_one = (int(a) for a in sys.argv[1:4])",
  "os.setgroups([])",
  "os.setresgid(no_one, gid, no_one)",
  "os.setresuid(no_one, uid, no_one)",
  "try:",
  "    os.kill(-1, signal.SIGKILL)",
  "except ProcessLookupError:",
  "    pass",
].join("\n");

/**
 * Ends every process of an account, or throws naming what is left. Killing by id loses to a
 * process that forks and exits in a loop (its id is stale before the signal lands), so the
 * kernel is asked to signal them all at once (KILL_AS_LEARNER), until /proc shows none,
 * since a process killed mid-fork may leave a child. Async, so that a killed child of this
 * very process (a hand-out worker) is reaped meanwhile.
 */
export async function endProcessesOf(entry: Pick<PasswdEntry, "user" | "uid" | "gid">, timeoutMs = 10_000): Promise<void> {
  if (entry.uid === 0 || entry.uid === NO_ONE) throw new Error(`refusing to end the processes of uid ${entry.uid}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processesOf(entry.uid).length === 0) return;
    if (Date.now() > deadline)
      throw new AccountBusy(
        `processes ${processesOf(entry.uid).join(", ")} of ${entry.user} did not end within ${timeoutMs / 1000} s; the account is left in place (end them, then run the same command again)`,
      );
    const killed = spawnSync(
      "/usr/bin/setsid",
      ["--wait", "/usr/bin/python3", "-I", "-c", KILL_AS_LEARNER, String(entry.uid), String(entry.gid), String(NO_ONE)],
      {
        env: {},
        stdio: "ignore",
        timeout: 5_000,
        killSignal: "SIGKILL",
      },
    );
    // without Python, by id: a fork loop may outrun that for a while, but not forever
    if (killed.error || killed.status !== 0)
      for (const pid of processesOf(entry.uid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
    // a killed process lingers until its parent (or init) reaps it
    await pause(20);
  }
}

/** An account whose processes would not end: said to the instructor as it is, not as a bug of the kit. */
export class AccountBusy extends Error {}

/** The accounts `removeAccounts` removed, and the reason for each it left in place. */
export interface RemovedAccounts {
  readonly removed: readonly string[];
  readonly busy: readonly string[];
}

/**
 * Removes the class's marked accounts and their homes (ending their processes
 * first); unmarked accounts are never looked at twice. An account whose processes
 * would not end stays, said in `busy`, and the others go on.
 */
export async function removeAccounts(className: string): Promise<RemovedAccounts> {
  const removed: string[] = [];
  const busy: string[] = [];
  for (const entry of markedAccounts(className)) {
    try {
      await endProcessesOf(entry);
    } catch (error) {
      if (!(error instanceof AccountBusy)) throw error;
      busy.push(error.message);
      continue;
    }
    run("userdel", ["--remove", entry.user]);
    removed.push(entry.user);
  }
  return { removed, busy };
}
