/**
 * A class split into N shards that grade apart, on N machines or one after
 * another. A learner's shard is a hash of the learner's name alone, so it does
 * not depend on which other files there are, nor on their order or count: a
 * late submission lands in the shard that would have graded it anyway.
 */
import { createHash } from "node:crypto";

/** Shard `index` of `total`, counted from 1 as Playwright's `--shard=1/4` does. */
export interface Shard {
  readonly index: number;
  readonly total: number;
}

/** `K/N` as the command line says it. */
export const formatShard = (shard: Shard): string => `${shard.index}/${shard.total}`;

/** "2/4" is shard 2 of 4; anything else is a message saying what `--shard` takes. */
export function parseShard(text: string): Shard | { readonly problem: string } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(index) || !Number.isSafeInteger(total))
    return { problem: `--shard takes K/N, two whole numbers such as 1/4 (shard 1 of 4), not '${text}'` };
  if (total < 1) return { problem: `--shard ${text}: N, the number of shards, is at least 1` };
  if (index < 1 || index > total)
    return { problem: `--shard ${text}: K counts from 1 to ${total} (1/${total} is the first shard, ${total}/${total} the last)` };
  return { index, total };
}

/** The shard, 1 to `total`, that grades the learner of this name. */
export function shardOf(name: string, total: number): number {
  const hash = createHash("sha256").update(name).digest();
  // 48 bits of the hash: any N a class would use divides them evenly enough.
  return (hash.readUIntBE(0, 6) % total) + 1;
}

export const inShard = (name: string, shard: Shard): boolean => shardOf(name, shard.total) === shard.index;

/** The file in a shard's out folder that says which lesson and shard its results are of. */
export const SHARD_MARKER = "shard.json";

export interface ShardMarker {
  readonly lesson: string;
  readonly shard: Shard;
  /** Written false when a run starts and true once its gradebook is written: a merge takes only finished shards. */
  readonly finished: boolean;
}

export const markerText = (marker: ShardMarker): string =>
  `${JSON.stringify({ lesson: marker.lesson, shard: formatShard(marker.shard), finished: marker.finished }, null, 2)}\n`;

/** A marker as written by `markerText`, or undefined for anything else. */
export function parseMarker(text: string): ShardMarker | undefined {
  try {
    const raw = JSON.parse(text) as { lesson?: unknown; shard?: unknown; finished?: unknown };
    const shard = typeof raw.shard === "string" ? parseShard(raw.shard) : undefined;
    return typeof raw.lesson === "string" && shard && "index" in shard && typeof raw.finished === "boolean"
      ? { lesson: raw.lesson, shard, finished: raw.finished }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Why `out` cannot take this run's results (it holds another shard's, or a whole class's), or undefined when it can. */
export function outFolderProblem(
  out: string,
  found: { readonly marker: ShardMarker | "unreadable" | undefined; readonly hasResults: boolean },
  lesson: string,
  shard: Shard | undefined,
): string | undefined {
  const { marker } = found;
  if (marker === "unreadable") return `${out}/${SHARD_MARKER} is not a shard marker the grader wrote; choose another --out folder`;
  if (marker && !shard)
    return `${out} is the out folder of shard ${formatShard(marker.shard)} of ${marker.lesson}: grade it again with --shard ${formatShard(marker.shard)}, merge it with --merge, or choose another --out folder`;
  if (marker && shard && (marker.lesson !== lesson || formatShard(marker.shard) !== formatShard(shard)))
    return `${out} holds shard ${formatShard(marker.shard)} of ${marker.lesson}: give each shard its own --out folder`;
  if (!marker && shard && found.hasResults)
    return `${out} already holds results graded without --shard: give shard ${formatShard(shard)} an out folder of its own`;
  return undefined;
}
