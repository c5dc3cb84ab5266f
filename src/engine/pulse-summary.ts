/**
 * Where the class stands on a lesson, from the posts: per exercise, who passed,
 * who is trying, who has not started, and who is stuck. Pure: posts in, numbers out.
 */
import type { PulseLearner, StoredPost } from "./pulse-store.js";

export interface ExercisePulse {
  readonly exercise: string;
  /** Learners whose check passed at least once. */
  readonly passed: readonly string[];
  /** Learners who ran the check but have not passed it yet. */
  readonly trying: readonly string[];
  readonly notStarted: readonly string[];
  /** Those trying whose first run of the check was at least `stuckMinutes` ago. */
  readonly stuck: readonly { readonly name: string; readonly minutes: number }[];
  /** Whom the presenter's Pick may pick among, by email (two learners may share a name). */
  readonly pickable: { readonly done: readonly string[]; readonly stuck: readonly string[] };
}

export interface LessonPulse {
  readonly lesson: string;
  readonly stuckMinutes: number;
  readonly learners: number;
  readonly exercises: readonly ExercisePulse[];
}

export function lessonPulse(
  lesson: string,
  exercises: readonly string[],
  learners: readonly PulseLearner[],
  posts: readonly StoredPost[],
  now: Date,
  stuckMinutes: number,
): LessonPulse {
  return {
    lesson,
    stuckMinutes,
    learners: learners.length,
    exercises: exercises.map((exercise) => {
      const mine = posts.filter((p) => p.lesson === lesson && p.exercise === exercise);
      const passed: string[] = [];
      const trying: string[] = [];
      const notStarted: string[] = [];
      const stuck: { name: string; email: string; minutes: number }[] = [];
      const done: string[] = [];
      for (const learner of learners) {
        const theirs = mine.filter((p) => p.email === learner.email);
        if (theirs.length === 0) notStarted.push(learner.name);
        else if (theirs.some((p) => p.status === "pass")) {
          passed.push(learner.name);
          done.push(learner.email);
        } else {
          trying.push(learner.name);
          const first = Math.min(...theirs.map((p) => Date.parse(p.at)));
          const minutes = Math.floor((now.getTime() - first) / 60_000);
          if (minutes >= stuckMinutes) stuck.push({ name: learner.name, email: learner.email, minutes });
        }
      }
      stuck.sort((a, b) => b.minutes - a.minutes);
      return {
        exercise,
        passed,
        trying,
        notStarted,
        stuck: stuck.map(({ name, minutes }) => ({ name, minutes })),
        pickable: { done, stuck: stuck.map((s) => s.email) },
      };
    }),
  };
}

/** One row per lesson and exercise: the class's progress, for `npm run pulse -- report`. */
export interface ReportRow {
  readonly lesson: string;
  readonly exercise: string;
  readonly passed: number;
  readonly trying: number;
  readonly notStarted: number;
}

export function progressReport(
  catalogue: ReadonlyMap<string, readonly string[]>,
  learners: readonly PulseLearner[],
  posts: readonly StoredPost[],
  now: Date,
): ReportRow[] {
  return [...catalogue].flatMap(([lesson, exercises]) =>
    lessonPulse(lesson, exercises, learners, posts, now, Infinity).exercises.map((e) => ({
      lesson,
      exercise: e.exercise,
      passed: e.passed.length,
      trying: e.trying.length,
      notStarted: e.notStarted.length,
    })),
  );
}
