/**
 * The roll call's rules, pure: who comes next, and who answered how often. The class
 * file (class-file.ts) reads the rows, calls these, and writes the result.
 *
 * Fairness is the helper's shuffle bag (src/shuffle-bag.ts), with its memory in the
 * picks: the bag of round R is "every learner on the roster with no pick in round R".
 * Learners away today stay in the bag; when nobody present is left in it, a new round
 * starts for everyone. So nobody is picked twice before everyone present has been
 * picked once, across days and across processes, and an undone pick puts its learner
 * back in the bag.
 */
import { drawFromBag, shuffleWith } from "../shuffle-bag";

/** A whole number from min to max, both included. */
export type RandomInt = (min: number, max: number) => number;

export interface RollCallLearner {
  readonly id: number;
  /** False once the learner is no longer on the roster: never picked again. */
  readonly onRoster: boolean;
}

export interface RollCallPick {
  readonly learnerId: number;
  readonly round: number;
}

export type Draw =
  | { readonly kind: "picked"; readonly learnerId: number; readonly round: number }
  | { readonly kind: "no learners" }
  | { readonly kind: "everyone absent" };

/** The round the picks are in now: the highest round with a pick, or 1 before the first pick. */
export function currentRound(picks: readonly RollCallPick[]): number {
  return picks.reduce((round, pick) => Math.max(round, pick.round), 1);
}

/**
 * The next pick. `picks` are the picks that count (not undone), `absent` who is away
 * today, `int` the class's random source.
 * @example
 * drawNext([{ id: 1, onRoster: true }, { id: 2, onRoster: true }], [{ learnerId: 1, round: 1 }], new Set(), crypto.randomInt);
 * // { kind: "picked", learnerId: 2, round: 1 }
 */
export function drawNext(
  learners: readonly RollCallLearner[],
  picks: readonly RollCallPick[],
  absent: ReadonlySet<number>,
  int: RandomInt,
): Draw {
  const everyone = learners.filter((l) => l.onRoster).map((l) => l.id);
  if (everyone.length === 0) return { kind: "no learners" };
  const round = currentRound(picks);
  const pickedThisRound = new Set(picks.filter((p) => p.round === round).map((p) => p.learnerId));
  const shuffle = (ids: readonly number[]) => shuffleWith(int, ids);
  // The bag's order is drawn afresh for each pick: the same chance for each, as a bag shuffled once.
  const bag = shuffle(everyone.filter((id) => !pickedThisRound.has(id)));
  const draw = drawFromBag(bag, everyone, shuffle, (id) => !absent.has(id));
  if (draw === undefined) return { kind: "everyone absent" };
  return { kind: "picked", learnerId: draw.item, round: draw.newRound ? round + 1 : round };
}

/**
 * A pick among a group only (say, those stuck on an exercise): fair within the group
 * and fair to everyone else. The group's members still waiting in this round come
 * first, as the bag would give them. When the whole group has answered this round
 * but others present have not, the pick is an extra one (`extra`): it counts as an
 * answer, but it neither ends the round early nor uses up anyone's turn, and it
 * goes to the group's member who answered least. When nobody present waits at all,
 * a new round starts, as for any pick. `answered` holds every pick that counts, extra ones too.
 */
export function drawAmong(
  learners: readonly RollCallLearner[],
  roundPicks: readonly RollCallPick[],
  answered: readonly Pick<RollCallPick, "learnerId">[],
  absent: ReadonlySet<number>,
  group: ReadonlySet<number>,
  int: RandomInt,
): AmongDraw {
  const present = learners.filter((l) => l.onRoster && !absent.has(l.id)).map((l) => l.id);
  const pool = present.filter((id) => group.has(id));
  if (pool.length === 0) return { kind: "nobody in the group" };
  const round = currentRound(roundPicks);
  const pickedThisRound = new Set(roundPicks.filter((p) => p.round === round).map((p) => p.learnerId));
  const random = (ids: readonly number[]): number => ids[int(0, ids.length - 1)] as number;
  const waiting = pool.filter((id) => !pickedThisRound.has(id));
  if (waiting.length > 0) return { kind: "picked", learnerId: random(waiting), round, extra: false };
  if (present.every((id) => pickedThisRound.has(id))) return { kind: "picked", learnerId: random(pool), round: round + 1, extra: false };
  const counts = new Map<number, number>();
  for (const a of answered) counts.set(a.learnerId, (counts.get(a.learnerId) ?? 0) + 1);
  const fewest = Math.min(...pool.map((id) => counts.get(id) ?? 0));
  return { kind: "picked", learnerId: random(pool.filter((id) => (counts.get(id) ?? 0) === fewest)), round, extra: true };
}

export type AmongDraw =
  | { readonly kind: "picked"; readonly learnerId: number; readonly round: number; readonly extra: boolean }
  | { readonly kind: "nobody in the group" };

export interface CountedLearner {
  readonly id: number;
  readonly name: string;
  readonly email: string;
  readonly onRoster: boolean;
}

/** How often one learner answered. */
export interface AnswerCount {
  readonly name: string;
  readonly email: string;
  /** True when the learner is no longer on the roster (their answers still count here). */
  readonly left: boolean;
  readonly count: number;
}

/**
 * Who answered how often, in roster order; everyone is there, with 0 when never picked.
 * @example
 * countAnswers([{ id: 1, name: "Ada", email: "ada@example.edu", onRoster: true }], [{ learnerId: 1, round: 1 }]);
 * // [{ name: "Ada", email: "ada@example.edu", left: false, count: 1 }]
 */
export function countAnswers(learners: readonly CountedLearner[], picks: readonly Pick<RollCallPick, "learnerId">[]): AnswerCount[] {
  const counts = new Map<number, number>();
  for (const pick of picks) counts.set(pick.learnerId, (counts.get(pick.learnerId) ?? 0) + 1);
  return learners.map((l) => ({ name: l.name, email: l.email, left: !l.onRoster, count: counts.get(l.id) ?? 0 }));
}

/**
 * The counts keyed by a label for `renderBarChart` (src/display.ts): the name, with the
 * email when two learners share a name, and "(left)" for those no longer on the roster.
 * @example
 * renderBarChart(chartCounts(classFile.answerCounts()), { title: "Answers" });
 */
export function chartCounts(counts: readonly AnswerCount[]): Map<string, number> {
  const sameName = new Map<string, number>();
  for (const c of counts) sameName.set(c.name, (sameName.get(c.name) ?? 0) + 1);
  return new Map(
    counts.map((c) => [`${c.name}${(sameName.get(c.name) ?? 0) > 1 ? ` <${c.email}>` : ""}${c.left ? " (left)" : ""}`, c.count]),
  );
}
