/**
 * The learner-side half of `learner-files.ts`, run by `asLearner` as a child with the learner's uid
 * and gid: one `LearnerFileOperation` as JSON on stdin, its outcome as JSON on stdout. Not a command of its own.
 */
import { serveLearnerTask } from "./as-learner.js";
import { runLearnerFileOperation } from "./learner-files.js";

serveLearnerTask(runLearnerFileOperation);
