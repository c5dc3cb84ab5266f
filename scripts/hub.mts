#!/usr/bin/env node
/**
 * npm run hub -- --class NAME [--port 8000] [--ip 127.0.0.1] [--admin USER] [--classes DIR] [--pulse URL]
 * npm run hub -- --class NAME --remove [--classes DIR]
 * npm run hub -- --class NAME --hand-out   the course's notebooks, as they are now, to every learner (no edit is lost)
 *
 * As root on Debian: a Unix account per learner of the class (`rc-…`, marked
 * `rollcall/NAME`), their passwords once in classes/NAME-logins.csv (0600), and
 * JupyterHub on them until Ctrl-C, which stops the hub, the proxy and every
 * learner's server. `--pulse URL` (the class pulse, `npm run pulse -- --class NAME`) gives each
 * learner `~/.rollcall-pulse.json` with a token of their own; a start without it takes the kit's
 * files away again (the class's pulse is off). `--remove` removes the accounts it made, and only
 * those, and moves the class's submissions into classes/ (root's only), out of reach of any
 * account that gets a removed learner's uid later.
 */
import { existsSync } from "node:fs";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { chalk } from "zx";
import { dropFolderOf } from "../src/engine/exchange.js";
import { classNameProblem, classesDir, fromUserFolder, openClass } from "../src/engine/class-file.js";
import { HUB_PACKAGES, installMissing } from "../src/engine/debian-packages.js";
import { endLeftovers, startHub } from "../src/engine/hub-run.js";
import { describeHandOut } from "../src/engine/hand-out.js";
import {
  checkPulseUrl,
  describeKeptSubmissions,
  describeMapping,
  handOutToClass,
  instructorName,
  ipProblem,
  planHub,
  removeHub,
  setUpHub,
  systemChecks,
  hubStateDir,
  type HubPlan,
} from "../src/engine/hub-setup.js";
import { freePorts } from "../src/engine/free-ports.js";
import { hubRunningElsewhere, lockHub } from "../src/engine/hub-lock.js";
import { projectRoot } from "../src/engine/paths.js";
import { formatProblem, type Problem } from "../src/engine/problem.js";
import { AccountBusy, markedAccounts } from "../src/engine/unix-accounts.js";
import { readArgs, runMain } from "./run-main.mjs";

const USAGE = [
  "usage: npm run hub -- --class NAME [--port 8000] [--ip 127.0.0.1] [--admin USER] [--classes DIR] [--pulse URL]",
  "       npm run hub -- --class NAME --remove [--classes DIR]",
  "       npm run hub -- --class NAME --hand-out",
].join("\n");

const NOTHING_REMOVED = "nothing was removed.";
const NOTHING_HANDED_OUT = "nothing was handed out.";

/** Says each problem, then what was left as it was (`nothing was set up.` for a start). */
function fail(problems: readonly Problem[], untouched = "nothing was set up."): number {
  for (const p of problems) console.error(chalk.red(`rollcall hub: ${formatProblem(p)}`));
  console.error(untouched);
  return 1;
}

async function main(): Promise<number> {
  const parsed = readArgs(USAGE, {
    options: {
      class: { type: "string" },
      port: { type: "string", default: "8000" },
      ip: { type: "string", default: "127.0.0.1" },
      admin: { type: "string" },
      classes: { type: "string" },
      remove: { type: "boolean", default: false },
      "hand-out": { type: "boolean", default: false },
      pulse: { type: "string" },
    },
  });
  if (!parsed) return 2;
  const { values } = parsed;
  const className = values.class;
  if (className === undefined) {
    console.error(`--class NAME is needed: the class (npm run class -- list shows them)\n${USAGE}`);
    return 2;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
    console.error(`--port takes a number from 1 to 65535, not "${values.port}"\n${USAGE}`);
    return 2;
  }
  const badIp = ipProblem(values.ip);
  if (badIp) return fail([badIp]);
  const dir = values.classes !== undefined ? fromUserFolder(values.classes) : classesDir();

  // before anything is installed or made: a mistyped URL costs nothing
  const pulseUrl = values.pulse === undefined ? undefined : checkPulseUrl(values.pulse);
  if (pulseUrl && !pulseUrl.ok) return fail(pulseUrl.problems);

  const badName = classNameProblem(className);
  if (badName) return fail([badName]);
  if (values.remove) {
    if (!systemChecks.isRoot())
      return fail([{ message: "removing accounts needs root: sudo npm run hub -- --class NAME --remove" }], NOTHING_REMOVED);
    if (!markedAccounts(className).length && !existsSync(hubStateDir(dir, className)) && !existsSync(dropFolderOf(className)))
      return fail(
        [{ message: `nothing of class ${className} is on this machine to remove: is the name right? (npm run class -- list)` }],
        NOTHING_REMOVED,
      );
    const locked = await lockHub(dir, className);
    if (!locked.ok) return fail(locked.problems, NOTHING_REMOVED);
    // the lock is this folder's; a class started from another folder holds none here
    const running = await hubRunningElsewhere(dir, className);
    if (running) {
      await locked.value.release();
      return fail([running], NOTHING_REMOVED);
    }
    const removed = await removeHub(dir, className).finally(() => locked.value.release(true));
    console.log(
      removed.accounts.length ? `removed ${removed.accounts.join(", ")} and their homes` : `no accounts of class ${className} to remove`,
    );
    for (const line of describeKeptSubmissions(removed.submissions)) console.log(line);
    for (const busy of removed.busy) console.error(chalk.red(busy));
    if (removed.busy.length) console.error("the class's logins file and hub state stay with those accounts until they are removed too.");
    return removed.busy.length ? 1 : 0;
  }

  if (values["hand-out"]) {
    if (!systemChecks.isRoot())
      return fail(
        [{ message: "handing out into learners' homes needs root: sudo npm run hub -- --class NAME --hand-out" }],
        NOTHING_HANDED_OUT,
      );
    if (!markedAccounts(className).length)
      return fail(
        [
          {
            message: `class ${className} has no learner accounts on this machine: set it up first (sudo npm run hub -- --class ${className})`,
          },
        ],
        NOTHING_HANDED_OUT,
      );
    const handed = await handOutToClass(className, projectRoot);
    if (!handed.ok) return fail(handed.problems, NOTHING_HANDED_OUT);
    for (const report of handed.value.reports) for (const line of describeHandOut(report)) console.log(`${report.home}: ${line}`);
    for (const problem of handed.value.problems) console.error(chalk.yellow(formatProblem(problem)));
    console.log(
      `handed out to ${handed.value.reports.length} learners of ${className}; what a learner changed is kept, the new version beside it`,
    );
    // a script that hands out (after an update, say) must see that some learners got nothing
    return handed.value.problems.length ? 1 : 0;
  }

  // a mistyped class name is said before anything is installed
  const known = await openClass(className, { dir });
  if (!known.ok) return fail(known.problems);
  known.value.close();
  if (systemChecks.isRoot()) {
    const installed = installMissing(HUB_PACKAGES, (line) => console.log(line));
    if (!installed.ok) return fail(installed.problems);
  }
  const plan = await planHub({
    className,
    classesDir: dir,
    ip: values.ip,
    port,
    admin: values.admin ?? instructorName(),
    projectRoot,
    ...(values.pulse !== undefined ? { pulseUrl: values.pulse } : {}),
  });
  if (!plan.ok) return fail(plan.problems);
  const locked = await lockHub(dir, className);
  if (!locked.ok) return fail(locked.problems);
  try {
    return await run(plan.value, port, values.ip, className);
  } finally {
    await locked.value.release();
  }
}

/** Sets the class up and runs its hub until Ctrl-C (or until it ends by itself): the exit code. */
async function run(plan: HubPlan, port: number, ip: string, className: string): Promise<number> {
  // Ctrl-C is ours from before the set-up: a signal while accounts are made would end this process
  // between an account and its line in the logins file; later, it would leave the hub (its own
  // process group), the proxy and the servers behind. So a signal is noted, and acted on when safe.
  // Every signal, not only the first: a second Ctrl-C while the servers stop would leave them running.
  let stopRequested = false;
  const signalled = new Promise<void>((resolve) => {
    const onSignal = (): void => {
      if (stopRequested) console.log("still stopping: every learner's server and process is being ended…");
      stopRequested = true;
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // a closed terminal (an ssh connection dropped) stops the class as Ctrl-C does, not this
    // command alone: the hub, in a process group of its own, would run on without it
    process.on("SIGHUP", onSignal);
  });
  // nor may writing to that closed terminal end the command midway through the stop
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  for (const line of plan.accounts.map(describeMapping)) if (line !== undefined) console.log(line);
  for (const line of await endLeftovers(plan.stateDir, markedAccounts(className))) console.log(chalk.yellow(line));
  // the hub's own port and its proxy's: two different ones, and neither the port learners open
  // (which the system may hand out too when it is in the range it chooses ports from)
  const [hubPort, proxyApiPort] = (await freePorts(2, [plan.port])) as [number, number];
  const setUp = await setUpHub(plan, { hubPort, proxyApiPort });
  if (setUp.created.length)
    console.log(`made ${setUp.created.length} accounts; their passwords are in ${plan.loginsFile} (only root can read it)`);
  if (setUp.existing.length) console.log(`${setUp.existing.length} accounts were there already: their passwords are unchanged`);
  if (setUp.pulseWritten.length)
    console.log(
      `the class pulse is on: ${setUp.pulseWritten.length} learners have ~/.rollcall-pulse.json for ${plan.pulseUrl}, each with a new token`,
    );
  if (setUp.pulseRemoved.length)
    console.log(
      `the class pulse is off: removed ~/.rollcall-pulse.json of ${setUp.pulseRemoved.join(", ")} (start with --pulse URL to turn it on)`,
    );
  for (const note of setUp.notes) console.log(chalk.yellow(note));

  if (stopRequested) {
    console.log("stopped before the hub started (the set-up is complete: the same command starts it).");
    console.log("stopped.");
    return 0;
  }
  const accounts = markedAccounts(className);
  const started = await startHub({ configFile: setUp.configFile, stateDir: plan.stateDir, ip, port, accounts });
  // its port taken since the check, a broken config or package: the user's to fix, not a bug
  if (!started.ok) return fail(started.problems, "the hub did not start; the accounts and their passwords are kept.");
  const hub = started.value;
  if (!stopRequested)
    console.log(
      chalk.green(
        `class ${className} is on ${hub.url}${elsewhere(ip, port)}  (log in as a learner with the logins file; ${plan.admin} is admin). Ctrl-C stops it.`,
      ),
    );
  await Promise.race([signalled, hub.exited]);
  if (!stopRequested) {
    await stopHub(hub);
    console.error(chalk.red(`jupyterhub ended by itself; its log is in ${plan.stateDir}`));
    return 1;
  }
  console.log("stopping the hub, the proxy and every learner's server…");
  if (!(await stopHub(hub))) return 1;
  console.log("stopped.");
  return 0;
}

/** On every address (`--ip 0.0.0.0`): the addresses learners' machines can use, which the loopback URL is not. */
function elsewhere(ip: string, port: number): string {
  if (ip !== "0.0.0.0" && ip !== "::") return "";
  const addresses = Object.values(networkInterfaces())
    .flatMap((list): NetworkInterfaceInfo[] => list ?? [])
    .filter((a) => !a.internal && !a.address.startsWith("fe80:") && (ip === "::" || a.family === "IPv4")) // a link-local one needs its interface named
    .map((a) => (a.family === "IPv6" ? `http://[${a.address}]:${port}/` : `http://${a.address}:${port}/`));
  return addresses.length ? `, for learners ${addresses.join(" or ")}` : "";
}

/** Stops the hub; a learner's process that would not end is said as it is (false), not as a bug. */
async function stopHub(hub: { stop(): Promise<void> }): Promise<boolean> {
  try {
    await hub.stop();
    return true;
  } catch (error) {
    if (!(error instanceof AccountBusy)) throw error;
    console.error(chalk.red(`the hub and the proxy stopped, but:\n${error.message}`));
    return false;
  }
}

runMain("hub", main);
