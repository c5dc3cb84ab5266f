// The error an unfinished exercise throws.
//
// Each exercise starts as a stub: `throw todo("first-student");`. When a check
// meets this error, it knows you have not written your answer yet and tells
// you so kindly, instead of reporting a failure.

/**
 * Thrown by an exercise that is not written yet. `exercise` names the exercise.
 *
 * @example
 * import { todo } from "rollcall";
 * const e = todo("first-student");   // a NotDoneYet
 * e.message;    // "not done yet: first-student"
 * e.exercise;   // "first-student"
 */
export class NotDoneYet extends Error {
  /** The exercise's id, like "first-student". */
  readonly exercise: string;

  constructor(exercise: string) {
    super(`not done yet: ${exercise}`);
    this.name = "NotDoneYet";
    this.exercise = exercise;
  }
}

/**
 * True when `e` is a `NotDoneYet` error.
 *
 * @example
 * try {
 *   firstStudent();
 * } catch (e) {
 *   if (isNotDoneYet(e)) console.log("still to do:", e.exercise);
 * }
 */
export function isNotDoneYet(e: unknown): e is NotDoneYet {
  // Compare the name, not only the class: a notebook may load this file twice,
  // and then there are two NotDoneYet classes that `instanceof` tells apart.
  return e instanceof NotDoneYet || (e instanceof Error && e.name === "NotDoneYet" && "exercise" in e);
}

/**
 * Make the error for an unfinished exercise. It returns the error; you `throw` it.
 * Replace the whole line with your answer.
 *
 * @example
 * import { todo } from "rollcall";
 * function firstStudent(names: readonly string[]): string {
 *   throw todo("first-student");   // TODO: return the first name in the list
 * }
 */
export function todo(exercise: string): NotDoneYet {
  return new NotDoneYet(exercise);
}
