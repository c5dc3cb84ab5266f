/**
 * What a class hub writes into a learner's home to turn the pulse on for them: the
 * settings file (pulse.ts reads it) with a fresh token of that learner's own, and
 * how the hub takes it away again when the class's pulse is off.
 *
 * The learner owns their home and may have put anything at that name (a link to
 * /etc/shadow, to another learner's file): the file is written and removed with the
 * learner's own uid and gid (`as-learner.ts`), so it can never reach further than they
 * could, and is created fresh (O_EXCL) and renamed over the name, so a link there is
 * replaced, never followed; a remove takes only the plain file the kit wrote (`learner-files.ts`).
 */
import path from "node:path";
import { PULSE_SETTINGS_FILE, pulseSettingsText } from "../pulse.js";
import { asLearner } from "./as-learner.js";
import { LEARNER_FILES, sha256Hex } from "./learner-files.js";
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

export const digestOfSettings = (text: string): string => sha256Hex(text);

/** Writes the settings file into the home, as the learner (see the header); resolves with what went wrong, or undefined. */
export async function writePulseSettings(account: PulseHome, settings: PulseSettingsFile): Promise<string | undefined> {
  const file = path.join(account.home, settings.file);
  const done = await asLearner(account, LEARNER_FILES, {
    op: "write",
    file,
    base64: Buffer.from(settings.text).toString("base64"),
    mode: settings.mode,
  });
  return done.ok ? undefined : done.error;
}

/**
 * Takes the kit's settings file out of the home, as the learner: "removed"; "absent" when there is
 * none; "changed" when what is there is not what the kit wrote (the learner's, left alone).
 */
export async function removePulseSettings(
  account: PulseHome,
  digest: string,
): Promise<"removed" | "absent" | "changed" | { readonly error: string }> {
  const done = await asLearner(account, LEARNER_FILES, { op: "remove", file: path.join(account.home, PULSE_SETTINGS_FILE), digest });
  if (!done.ok) return { error: done.error };
  return done.value === "removed" || done.value === "absent" ? done.value : "changed";
}
