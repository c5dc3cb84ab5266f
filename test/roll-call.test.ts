/** The roll call's rules, without a file: fair over days with absences, counts for the report and the chart. */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import { renderBarChart } from "../src/display";
import { chartCounts, countAnswers, currentRound, drawAmong, drawNext, type RollCallPick } from "../src/engine/roll-call";

const int = (min: number, max: number) => randomInt(min, max + 1);
const roster = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, onRoster: true }));

test("over a term of days with absences, nobody is picked twice before everyone present once", () => {
  for (let term = 0; term < 20; term++) {
    const learners = roster(7);
    const picks: RollCallPick[] = [];
    for (let day = 0; day < 10; day++) {
      const absent = new Set(learners.filter(() => randomInt(4) === 0).map((l) => l.id));
      for (let turn = 0; turn < 5; turn++) {
        const draw = drawNext(learners, picks, absent, int);
        if (absent.size === learners.length) {
          assert.deepEqual(draw, { kind: "everyone absent" });
          break;
        }
        assert.equal(draw.kind, "picked");
        if (draw.kind !== "picked") return;
        assert.ok(!absent.has(draw.learnerId), "an absent learner was picked");
        assert.ok(!picks.some((p) => p.round === draw.round && p.learnerId === draw.learnerId), "picked twice in one round");
        const waiting = learners.filter(
          (l) => !absent.has(l.id) && !picks.some((p) => p.round === currentRound(picks) && p.learnerId === l.id),
        );
        if (draw.round > currentRound(picks)) assert.equal(waiting.length, 0, "a new round started while someone present was waiting");
        picks.push({ learnerId: draw.learnerId, round: draw.round });
      }
    }
    // Each finished round has every learner at most once.
    for (let r = 1; r < currentRound(picks); r++) {
      const inRound = picks.filter((p) => p.round === r).map((p) => p.learnerId);
      assert.equal(new Set(inRound).size, inRound.length);
    }
  }
});

test("a learner away for a day keeps their place in the round", () => {
  const learners = roster(3);
  const picks: RollCallPick[] = [];
  const away = new Set([3]);
  for (let i = 0; i < 2; i++) {
    const d = drawNext(learners, picks, away, int);
    assert.equal(d.kind, "picked");
    if (d.kind === "picked") picks.push(d);
  }
  // Day 1 ends with 1 and 2 picked in round 1. Day 2: 3 is back and comes first.
  assert.deepEqual(drawNext(learners, picks, new Set(), int), { kind: "picked", learnerId: 3, round: 1 });
});

test("left learners are never picked; an empty roster and everyone away say so", () => {
  const learners = [
    { id: 1, onRoster: false },
    { id: 2, onRoster: true },
  ];
  for (let i = 0; i < 20; i++) {
    const d = drawNext(learners, [], new Set(), int);
    assert.equal(d.kind === "picked" && d.learnerId, 2);
  }
  assert.deepEqual(drawNext([{ id: 1, onRoster: false }], [], new Set(), int), { kind: "no learners" });
  assert.deepEqual(drawNext(learners, [], new Set([2]), int), { kind: "everyone absent" });
});

test("each waiting learner is equally likely to be next", () => {
  const learners = roster(4);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const d = drawNext(learners, [], new Set(), int);
    if (d.kind === "picked") counts[d.learnerId - 1] = (counts[d.learnerId - 1] ?? 0) + 1;
  }
  for (const n of counts) assert.ok(Math.abs(n - 1000) < 150, `counts ${counts.join(", ")}`);
});

test("counts cover everyone, and the chart labels tell same-named learners apart", () => {
  const learners = [
    { id: 1, name: "Zoë O'Brien", email: "zoe@example.edu", onRoster: true },
    { id: 2, name: "Ada", email: "ada1@example.edu", onRoster: true },
    { id: 3, name: "Ada", email: "ada2@example.edu", onRoster: false },
  ];
  const counts = countAnswers(learners, [{ learnerId: 1 }, { learnerId: 1 }, { learnerId: 3 }]);
  assert.deepEqual(
    counts.map((c) => [c.name, c.count, c.left]),
    [
      ["Zoë O'Brien", 2, false],
      ["Ada", 0, false],
      ["Ada", 1, true],
    ],
  );
  const chart = chartCounts(counts);
  assert.deepEqual(
    [...chart],
    [
      ["Zoë O'Brien", 2],
      ["Ada <ada1@example.edu>", 0],
      ["Ada <ada2@example.edu> (left)", 1],
    ],
  );
  assert.match(renderBarChart(chart).text, /Zoë O'Brien +│█+ 2/u);
});

test("a pick among a group: its waiting members first, then an extra pick, and a new round only when nobody present waits", () => {
  const learners = roster(4);
  const group = new Set([1, 2]);
  const none = new Set<number>();
  const round1 = [
    { learnerId: 1, round: 1 },
    { learnerId: 3, round: 1 },
  ];
  assert.deepEqual(drawAmong(learners, round1, round1, none, group, int), { kind: "picked", learnerId: 2, round: 1, extra: false });
  const groupDone = [...round1, { learnerId: 2, round: 1 }];
  // 4 still waits: an extra pick, to the one of the group who answered least (2 answered once, 1 twice).
  const answered = [...groupDone, { learnerId: 1, round: 0 }];
  assert.deepEqual(drawAmong(learners, groupDone, answered, none, group, int), { kind: "picked", learnerId: 2, round: 1, extra: true });
  // 4 is away today: nobody present waits, so the group's pick opens round 2.
  const draw = drawAmong(learners, groupDone, groupDone, new Set([4]), group, int);
  assert.ok(draw.kind === "picked" && draw.round === 2 && !draw.extra && group.has(draw.learnerId));
  assert.deepEqual(drawAmong(learners, [], [], new Set([1, 2]), group, int), { kind: "nobody in the group" });
});
