/** Rosters from CSV: what a spreadsheet writes is read, and every wrong row is named by its line. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatProblem } from "../src/engine/problem";
import { parseRoster } from "../src/engine/roster-csv";

const problems = (text: string): string[] => {
  const r = parseRoster(text, "roster.csv");
  assert.ok(!r.ok, "expected the roster to be refused");
  return r.ok ? [] : r.problems.map(formatProblem);
};

test("a spreadsheet's CSV: BOM, CRLF, quotes, UTF-8 names, any column order, blank lines, optional cohort", () => {
  const text =
    '\ufeffEmail,Name,Cohort\r\nzoe@example.edu,"Zoë O\'Brien",Morning\r\n\r\n"ada@example.edu","Lovelace, Ada",\r\n"mei@example.edu","Mei ""M"" Chen",Evening\r\n';
  const r = parseRoster(text, "roster.csv");
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value, [
    { name: "Zoë O'Brien", email: "zoe@example.edu", cohort: "Morning", line: 2 },
    { name: "Lovelace, Ada", email: "ada@example.edu", line: 4 },
    { name: 'Mei "M" Chen', email: "mei@example.edu", cohort: "Evening", line: 5 },
  ]);
  const noCohort = parseRoster("name,email\nAda Lovelace,ada@example.edu", "r.csv");
  assert.deepEqual(noCohort.ok && noCohort.value, [{ name: "Ada Lovelace", email: "ada@example.edu", line: 2 }]);
});

test("names are stored composed (NFC), so the same name typed two ways is one name", () => {
  const r = parseRoster("name,email\nZoe\u0308,zoe@example.edu\n", "r.csv");
  assert.equal(r.ok && r.value[0]?.name, "Zoë");
});

test("every bad row is reported at its line, and none is kept", () => {
  const text = [
    "name,email,cohort",
    "Ada Lovelace,ada@example.edu,A",
    ",nobody@example.edu,A",
    "Grace Hopper,grace-at-example.edu,A",
    "Alan Turing,,B",
    "Mei Chen,ADA@example.edu,B",
    "Kwame Mensah,kwame@example.edu",
    '"Yuki\nTanaka",yuki@example.edu,B,extra',
    "Linus,linus@example.edu,B",
  ].join("\n");
  assert.deepEqual(problems(text), [
    "roster.csv:3: missing name",
    'roster.csv:4: bad email "grace-at-example.edu" (an email looks like name@example.edu)',
    "roster.csv:5: missing email",
    "roster.csv:6: duplicate email ADA@example.edu (also on line 2); each learner needs their own",
    "roster.csv:7: 2 fields, but the header has 3 columns (name, email, cohort)",
    "roster.csv:8: 4 fields, but the header has 3 columns (name, email, cohort)",
  ]);
});

test("a wrong header, an empty file, a header alone and broken quoting are refused at their line", () => {
  assert.deepEqual(problems("name,mail\nAda,ada@example.edu\n"), [
    'roster.csv:1: unknown column "mail"; no "email" column: the header row must name the columns name, email and optionally cohort, like name,email,cohort',
  ]);
  assert.match(problems("name,email,name\n")[0] ?? "", /^roster\.csv:1: column "name" given twice/u);
  assert.match(problems("")[0] ?? "", /^roster\.csv:1: the file is empty/u);
  assert.match(problems("\ufeff")[0] ?? "", /^roster\.csv:1: the file is empty/u);
  assert.deepEqual(problems("name,email\n"), ["roster.csv:2: no learners: add one row per learner below the header row"]);
  assert.match(problems('name,email\nAda,ada@example.edu\n"Grace,grace@example.edu\n')[0] ?? "", /^roster\.csv:\d+: not valid CSV: /u);
  assert.match(problems('name,email\nAda,ada@example.edu\n"Gr"ace,grace@example.edu\n')[0] ?? "", /^roster\.csv:3: not valid CSV: /u);
});

test("a name that would rewrite the instructor's terminal is refused: escape sequences, line breaks, invisible format characters", () => {
  const esc = String.fromCharCode(27);
  const text = [
    "name,email",
    `Bob${esc}[2K${esc}[1GAlice,bob@example.edu`,
    '"Yuki\nTanaka",yuki@example.edu',
    "Mal\u202Eory,mallory@example.edu",
    "Ada Lovelace,ada@example.edu",
  ].join("\n");
  assert.deepEqual(
    problems(text).map((p) => p.replace(/: the name .*/u, ": the name …")),
    ["roster.csv:2: the name …", "roster.csv:3: the name …", "roster.csv:5: the name …"],
  );
});
