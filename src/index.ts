// Everything a lesson can import from "rollcall", in one place.
// Each line points to the file that explains it.

export { students, roster, type Student } from "./roster";
export { seeded, random, pick, sample, shuffle, picker, type Random } from "./random";
export { openDatabase, type Database, type OpenOptions, type SqlValue, type Params } from "./db";
export { SqlError, isSqlError } from "./sql-error";
export { show, table, barChart, publish, renderTable, renderBarChart } from "./display";
export { check, runCheck, type Tester, type TestResult, type CheckResult, type CheckOptions, type RunCheckOptions } from "./check";
export { NotDoneYet, isNotDoneYet, todo } from "./not-done-yet";
// `check` also asks ./previous-cell whether the cell run just before it failed (nothing to import from it).
