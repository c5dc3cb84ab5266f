// Everything a lesson can import from "rollcall", in one place.
// Each line points to the file that explains it.

export { students, roster, type Student } from "./roster";
export { seeded, random, pick, sample, shuffle, picker, type Random } from "./random";
export { openDatabase, type Database, type OpenOptions, type SqlValue, type Params } from "./db";
export { SqlError, isSqlError } from "./sql-error";
export { show, table, barChart } from "./display";
export { check, type Tester, type CheckOptions } from "./check";
export { isNotDoneYet, todo, type NotDoneYet } from "./not-done-yet";
export { submit } from "./submit";
import "./pulse-notice"; // says what the class pulse shares, when it is on
// `check` also asks ./previous-cell whether the cell run just before it failed (nothing to import from it).
