/**
 * What a class hub writes into a learner's home to turn the pulse on for them: the
 * settings file (pulse.ts reads it) with a fresh token of that learner's own, and
 * how the hub takes it away again when the class's pulse is off.
 *
 * The learner owns their home and may have put anything at that name (a link to
 * /etc/shadow, to another learner's file): the file is written and removed by a child
 * with the learner's own uid and gid, so it can never reach further than they could,
 * and is created fresh (O_EXCL) and renamed over the name, so a link there is replaced,
 * never followed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { PULSE_SETTINGS_FILE, pulseSettingsText } from "../pulse.js";
import type { PulseLearner, PulseStore } from "./pulse-store.js";

export interface PulseSettingsFile {
  /** The file's name, relative to the learner's home. */
  readonly file: string;
  readonly text: string;
  /** Only the learner may read it: it holds their token. */
  readonly mode: number;
}

/**
 * The settings file for one learner, with a new token (their earlier one stops working).
 * @example
 * const settings = pulseSettingsFor(store, "http://10.0.0.5:8765", { email: "ada@example.org", name: "Ada Lovelace" });
 * await writePulseSettings({ home, uid, gid }, settings);
 */
export function pulseSettingsFor(store: PulseStore, url: string, learner: PulseLearner): PulseSettingsFile {
  const [issued] = store.issueLearnerTokens([learner]);
  if (issued === undefined) throw new Error("no token was issued");
  return { file: PULSE_SETTINGS_FILE, text: pulseSettingsText({ url, token: issued.token }), mode: 0o600 };
}

/** A learner's home, and who they are to the OS. */
export interface PulseHome {
  readonly home: string;
  readonly uid: number;
  readonly gid: number;
}

export const digestOfSettings = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** Writes the settings file into the home, as the learner (see the header); resolves with what went wrong, or undefined. */
export async function writePulseSettings(account: PulseHome, settings: PulseSettingsFile): Promise<string | undefined> {
  const done = await asLearner(account, ["write", account.home, settings.file, settings.mode.toString(8)], settings.text);
  return "error" in done ? done.error : undefined;
}

/**
 * Run by the child, as the learner: `write HOME NAME MODE` (the text on stdin) makes a new file
 * beside the name (O_EXCL: never through a link) and renames it over the name; `remove HOME NAME
 * DIGEST` unlinks the name only when it is a plain file with that sha256. Prints the outcome.
 */
const AS_LEARNER = `
const fs = require("node:fs"), path = require("node:path"), crypto = require("node:crypto");
const [op, home, name, arg] = process.argv.slice(1);
const file = path.join(home, name);
if (op === "write") {
  const chunks = [];
  process.stdin.on("data", (c) => chunks.push(c)).on("end", () => {
    const mode = Number.parseInt(arg, 8);
    const temporary = path.join(home, "." + name + "." + crypto.randomBytes(8).toString("hex") + ".tmp");
    try {
      fs.writeFileSync(temporary, Buffer.concat(chunks), { flag: "wx", mode });
      fs.chmodSync(temporary, mode);
      fs.renameSync(temporary, file);
    } catch (e) {
      try { fs.unlinkSync(temporary); } catch {}
      throw e;
    }
    process.stdout.write("written");
  });
} else {
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    process.stdout.write(e.code === "ENOENT" ? "absent" : "changed");
    process.exit(0);
  }
  const plain = fs.fstatSync(fd).isFile();
  const same = plain && crypto.createHash("sha256").update(fs.readFileSync(fd)).digest("hex") === arg;
  fs.closeSync(fd);
  if (same) fs.unlinkSync(file);
  process.stdout.write(same ? "removed" : "changed");
}`;

function asLearner(account: PulseHome, args: readonly string[], input = ""): Promise<{ out: string } | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", AS_LEARNER, ...args], { uid: account.uid, gid: account.gid, cwd: "/", env: {} });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", (e) => resolve({ error: e.message }));
    child.on("close", (code) =>
      resolve(
        code === 0
          ? { out }
          : {
              error:
                err
                  .trim()
                  .split("\n")
                  .find((l) => l.includes("Error")) ?? `exit code ${code}`,
            },
      ),
    );
    child.stdin.end(input);
  });
}

/**
 * Takes the kit's settings file out of the home, as the learner: "removed"; "absent" when there is
 * none; "changed" when what is there is not what the kit wrote (the learner's, left alone).
 */
export async function removePulseSettings(
  account: PulseHome,
  digest: string,
): Promise<"removed" | "absent" | "changed" | { readonly error: string }> {
  const done = await asLearner(account, ["remove", account.home, PULSE_SETTINGS_FILE, digest]);
  if ("error" in done) return done;
  return done.out === "removed" || done.out === "absent" ? done.out : "changed";
}
