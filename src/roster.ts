// The sample class: twelve students that every lesson can use.
//
// The lists are frozen (Object.freeze), so a lesson cell cannot change them by
// accident. When you want your own copy to change, make one first:
//
//     const names = [...roster];   // a new array you are free to edit

/**
 * One student in the sample class.
 * @example
 * import { type Student } from "rollcall";
 * const alan: Student = { id: 13, name: "Alan Turing", email: "alan.turing@example.edu", cohort: "Morning" };
 */
export interface Student {
  /** A whole number that is different for every student: 1, 2, 3, ... */
  id: number;
  /** First name and last name, like "Ada Lovelace". */
  name: string;
  /** A made-up school address, like "ada.lovelace@example.edu". */
  email: string;
  /** Which group the student is in: "Morning" or "Evening". */
  cohort: string;
}

/** A small helper that builds one frozen student, so the list below stays short. */
function student(id: number, name: string, email: string, cohort: string): Student {
  return Object.freeze({ id, name, email, cohort });
}

/**
 * The twelve students of the sample class, in order of their `id`.
 * Frozen: copy it before you change anything.
 *
 * @example
 * import { students } from "rollcall";
 * students[0].name;                                         // "Ada Lovelace"
 * students.filter((s) => s.cohort === "Evening").length;    // 6
 * const mine = students.map((s) => ({ ...s }));             // your own copy to edit
 */
export const students: readonly Student[] = Object.freeze([
  student(1, "Ada Lovelace", "ada.lovelace@example.edu", "Morning"),
  student(2, "Grace Hopper", "grace.hopper@example.edu", "Evening"),
  student(3, "Kwame Mensah", "kwame.mensah@example.edu", "Morning"),
  student(4, "Mei Chen", "mei.chen@example.edu", "Evening"),
  student(5, "Aarav Patel", "aarav.patel@example.edu", "Morning"),
  student(6, "Sofía García", "sofia.garcia@example.edu", "Evening"),
  student(7, "Yuki Tanaka", "yuki.tanaka@example.edu", "Morning"),
  student(8, "Fatima Al-Sayed", "fatima.alsayed@example.edu", "Evening"),
  student(9, "Lars Johansson", "lars.johansson@example.edu", "Morning"),
  student(10, "Amara Nwosu", "amara.nwosu@example.edu", "Evening"),
  student(11, "Leilani Kahale", "leilani.kahale@example.edu", "Morning"),
  student(12, "Tomasz Nowak", "tomasz.nowak@example.edu", "Evening"),
]);

/**
 * Just the names of the sample class, in the same order as `students`.
 * Frozen: copy it with `[...roster]` before you change anything.
 *
 * @example
 * import { roster } from "rollcall";
 * roster.length;               // 12
 * const names = [...roster];   // your own copy
 * names.push("Alan Turing");   // fine: it is your copy that changes
 */
export const roster: readonly string[] = Object.freeze(students.map((s) => s.name));
