/**
 * What a class hub writes into a learner's home to turn the pulse on for them: the
 * settings file (pulse.ts reads it) with a fresh token of that learner's own.
 */
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
 * writeFileSync(path.join(home, settings.file), settings.text, { mode: settings.mode });
 */
export function pulseSettingsFor(store: PulseStore, url: string, learner: PulseLearner): PulseSettingsFile {
  const [issued] = store.issueLearnerTokens([learner]);
  if (issued === undefined) throw new Error("no token was issued");
  return { file: PULSE_SETTINGS_FILE, text: pulseSettingsText({ url, token: issued.token }), mode: 0o600 };
}
