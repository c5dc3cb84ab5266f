/** What the grader and its workers say to each other; every worker message is signed. */
import { createHmac } from "node:crypto";
import type { CheckResult } from "../check.js";
import type { CellStatus } from "./kernel.js";
import type { Output } from "./notebook.js";

/** parent → worker */
export type WorkerCommand =
  | { readonly type: "init"; readonly key: string }
  | { readonly type: "submission"; readonly id: number; readonly cells: readonly { readonly source: string }[]; readonly maxOutputChars: number };

/** worker → parent (signed) */
export type WorkerMessage =
  | { readonly type: "ready"; readonly startupMs: number }
  | { readonly type: "cell-start"; readonly id: number; readonly index: number }
  | { readonly type: "cell-end"; readonly id: number; readonly index: number; readonly status: CellStatus; readonly outputs: readonly Output[]; readonly reports: readonly CheckResult[] }
  | { readonly type: "submission-end"; readonly id: number; readonly clean: boolean; readonly why?: string };

export interface Signed { readonly body: string; readonly mac: string }

export const signMessage = (key: string, body: string): string => createHmac("sha256", key).update(body).digest("hex");

