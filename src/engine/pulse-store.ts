/**
 * The class pulse on disk: one SQLite file beside the class file
 * (`classes/NAME-pulse.db`), holding the tokens (hashed) and every self-check
 * run the learners' notebooks posted.
 *
 * WAL mode with `synchronous = FULL`: a post is on the disk when `record` returns,
 * so a post the service acknowledged survives a kill -9, and the dashboard reads
 * while the service writes. Tokens are 256 random bits, kept only as their sha256:
 * the file never holds one that works.
 */
import Database from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import type { CheckPost } from "./pulse-validate.js";

/** A learner as the pulse knows them: the email is who they are (as in the class file). */
export interface PulseLearner {
  readonly email: string;
  readonly name: string;
}

/** One self-check run as stored: who (from the token), what the notebook said, when it arrived. */
export interface StoredPost extends CheckPost {
  readonly email: string;
  readonly name: string;
  /** When the service stored it, ISO 8601 in UTC. */
  readonly received: string;
}

export interface PulseStore {
  readonly file: string;
  /** A new token for each learner (any earlier one stops working). */
  issueLearnerTokens(learners: readonly PulseLearner[]): { learner: PulseLearner; token: string }[];
  /** A new instructor token; the earlier one stops working. */
  issueInstructorToken(): string;
  learnerFor(token: string): PulseLearner | undefined;
  isInstructor(token: string): boolean;
  /** Stores a post; false when this learner's post with this id was stored before (a retry), which is not stored twice. */
  record(learner: PulseLearner, post: CheckPost, received: Date): boolean;
  /** The posts, oldest first; of one lesson when named. */
  posts(lesson?: string): StoredPost[];
  /** Every learner who has a token. */
  learners(): PulseLearner[];
  close(): void;
}

/** `classes/NAME-pulse.db` for class NAME: not `.sqlite`, which would make it a class of its own to `npm run class -- list`. */
export const pulseFileFor = (classesDir: string, name: string): string => path.join(classesDir, `${name}-pulse.db`);

/** `classes/NAME-pulse-tokens.csv`: the learners' tokens, as `npm run pulse -- tokens` hands them out. */
export const pulseTokensFileFor = (classesDir: string, name: string): string => path.join(classesDir, `${name}-pulse-tokens.csv`);

/** 256 random bits, URL-safe. */
export const newToken = (): string => randomBytes(32).toString("base64url");

/** Random tokens need no slow hash: nobody can guess one to try, so sha256 is enough. */
const hashOf = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex");

const schema = `
CREATE TABLE IF NOT EXISTS learners (
  email TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS instructor (
  only INTEGER PRIMARY KEY CHECK (only = 1),
  token_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
  seq INTEGER PRIMARY KEY,
  email TEXT NOT NULL REFERENCES learners(email),
  post_id TEXT NOT NULL,
  lesson TEXT NOT NULL,
  exercise TEXT NOT NULL,
  passed INTEGER NOT NULL,
  total INTEGER NOT NULL,
  status TEXT NOT NULL,
  at TEXT NOT NULL,
  received TEXT NOT NULL,
  UNIQUE (email, post_id)
);
CREATE INDEX IF NOT EXISTS posts_by_lesson ON posts (lesson, seq);
`;

interface PostRow {
  email: string;
  name: string;
  post_id: string;
  lesson: string;
  exercise: string;
  passed: number;
  total: number;
  status: CheckPost["status"];
  at: string;
  received: string;
}

export function openPulseStore(file: string): PulseStore {
  const db = new Database(file, { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.exec(schema);

  const upsertLearner = db.prepare(
    "INSERT INTO learners (email, name, token_hash) VALUES (?, ?, ?) ON CONFLICT(email) DO UPDATE SET name = excluded.name, token_hash = excluded.token_hash",
  );
  const byToken = db.prepare<[string], PulseLearner>("SELECT email, name FROM learners WHERE token_hash = ?");
  const setInstructor = db.prepare("INSERT OR REPLACE INTO instructor (only, token_hash) VALUES (1, ?)");
  const instructorHash = db.prepare<[], { token_hash: string }>("SELECT token_hash FROM instructor WHERE only = 1");
  const insertPost = db.prepare(
    `INSERT OR IGNORE INTO posts (email, post_id, lesson, exercise, passed, total, status, at, received)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const columns = "p.email, l.name, p.post_id, p.lesson, p.exercise, p.passed, p.total, p.status, p.at, p.received";
  const allPosts = db.prepare<[], PostRow>(`SELECT ${columns} FROM posts p JOIN learners l ON l.email = p.email ORDER BY p.seq`);
  const lessonPosts = db.prepare<[string], PostRow>(
    `SELECT ${columns} FROM posts p JOIN learners l ON l.email = p.email WHERE p.lesson = ? ORDER BY p.seq`,
  );
  const allLearners = db.prepare<[], PulseLearner>("SELECT email, name FROM learners ORDER BY name, email");

  const toPost = (r: PostRow): StoredPost => ({
    email: r.email,
    name: r.name,
    id: r.post_id,
    lesson: r.lesson,
    exercise: r.exercise,
    passed: r.passed,
    total: r.total,
    status: r.status,
    at: r.at,
    received: r.received,
  });

  return {
    file,
    issueLearnerTokens(learners) {
      const issued = learners.map((learner) => ({ learner, token: newToken() }));
      db.transaction(() => {
        for (const { learner, token } of issued) upsertLearner.run(learner.email, learner.name, hashOf(token));
      }).immediate();
      return issued;
    },
    issueInstructorToken() {
      const token = newToken();
      setInstructor.run(hashOf(token));
      return token;
    },
    learnerFor: (token) => byToken.get(hashOf(token)),
    isInstructor(token) {
      const row = instructorHash.get();
      return row !== undefined && row.token_hash === hashOf(token);
    },
    record(learner, post, received) {
      const { changes } = insertPost.run(
        learner.email,
        post.id,
        post.lesson,
        post.exercise,
        post.passed,
        post.total,
        post.status,
        post.at,
        received.toISOString(),
      );
      return changes === 1;
    },
    posts: (lesson) => (lesson === undefined ? allPosts.all() : lessonPosts.all(lesson)).map(toPost),
    learners: () => allLearners.all(),
    close: () => db.close(),
  };
}
