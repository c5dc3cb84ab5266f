/** What the grader and its workers say to each other; every worker message is signed. */
import { createHmac } from "node:crypto";
import type { CheckVerdict, CompiledCheck } from "./check-realm.js";
import type { CellStatus } from "./kernel-seam.js";
import type { Output } from "./notebook.js";
import type { Result } from "./problem.js";

/** What a check cell found: its verdict, or the problem that left it without one. */
export type CheckOutcome = Result<CheckVerdict>;

/** parent → worker, one at a time. The lesson's checks travel once, in `init`, before any learner's code has run there. */
export type WorkerCommand =
  | { readonly type: "init"; readonly key: string; readonly checks: readonly CompiledCheck[] }
  | { readonly type: "begin"; readonly id: number }
  | { readonly type: "execute"; readonly id: number; readonly source: string; readonly maxOutputChars: number }
  | { readonly type: "check"; readonly id: number; readonly exercise: string; readonly maxOutputChars: number }
  | { readonly type: "end"; readonly id: number };

/** worker → parent (signed): one answer to each command. */
export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "begun"; readonly id: number }
  | {
      readonly type: "cell-end";
      readonly id: number;
      readonly status: CellStatus;
      readonly outputs: readonly Output[];
      readonly check?: CheckOutcome;
    }
  | { readonly type: "ended"; readonly id: number; readonly recycle?: string };

export interface Signed {
  readonly body: string;
  readonly mac: string;
}

export const signMessage = (key: string, body: string): string => createHmac("sha256", key).update(body).digest("hex");
