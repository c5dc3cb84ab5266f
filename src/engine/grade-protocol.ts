/** What the grader and its workers say to each other; every worker message is signed. */
import { createHmac } from "node:crypto";
import type { CheckVerdict, CompiledCheck } from "./check-realm.js";
import type { CellStatus } from "./kernel.js";
import type { Output } from "./notebook.js";

/** A cell to run: the learner's (or the lesson's locked) code, or the lesson's check for an exercise. */
export type WorkerCell = { readonly kind: "code"; readonly source: string } | { readonly kind: "check"; readonly exercise: string };

/** What a check cell found: its verdict, or why there is none. */
export type CheckOutcome = CheckVerdict | { readonly error: string };

/** parent → worker. The lesson's checks travel once, in `init`, before any learner's code has run there. */
export type WorkerCommand =
  | { readonly type: "init"; readonly key: string; readonly checks: readonly CompiledCheck[] }
  | { readonly type: "submission"; readonly id: number; readonly cells: readonly WorkerCell[]; readonly maxOutputChars: number };

/** worker → parent (signed) */
export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "cell-start"; readonly id: number; readonly index: number }
  | { readonly type: "cell-end"; readonly id: number; readonly index: number; readonly status: CellStatus; readonly outputs: readonly Output[]; readonly check?: CheckOutcome }
  | { readonly type: "submission-end"; readonly id: number; readonly recycle?: string };

export interface Signed { readonly body: string; readonly mac: string }

export const signMessage = (key: string, body: string): string => createHmac("sha256", key).update(body).digest("hex");
