/**
 * The hand-out's writing half, run by `handOut` (through `asLearner`) as a child with the learner's
 * uid and gid: reads `{ home, day, files }` (see `WorkerInput`) on stdin, writes into that home with
 * the learner's own rights, prints the report as JSON. Not a command of its own.
 */
import { serveLearnerTask } from "./as-learner.js";
import { applyWorkerInput } from "./hand-out.js";

serveLearnerTask(applyWorkerInput);
