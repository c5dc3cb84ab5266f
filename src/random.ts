// Fair random picks: every item has exactly the same chance.
//
// Why not `Math.floor(Math.random() * n)`? It is close to fair, but not exactly,
// and you cannot replay it. Here the numbers come from pure-rand: a generator
// that you can start from a "seed", so the same seed gives the same picks on
// every computer (handy for grading), and an integer distribution that is
// exactly even.

import { randomBytes } from "node:crypto";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { drawFromBag, shuffleWith } from "./shuffle-bag";

/**
 * A source of fair random choices. Make one with `seeded(...)`, or use `random`.
 * @example
 * import { seeded, type Random } from "rollcall";
 * const rng: Random = seeded("week 3");
 * rng.int(1, 6);
 */
export interface Random {
  /**
   * A whole number from `min` to `max`, both included.
   * @example
   * seeded(1).int(1, 6);   // a dice roll: 1, 2, 3, 4, 5 or 6
   */
  int(min: number, max: number): number;
  /**
   * One item from the list, each with the same chance.
   * @example
   * seeded(1).pick(["rock", "paper", "scissors"]);
   */
  pick<T>(items: readonly T[]): T;
  /**
   * `count` different items from the list (no item twice), in random order.
   * @example
   * seeded(1).sample(roster, 3);   // three different students
   */
  sample<T>(items: readonly T[], count: number): T[];
  /**
   * A new array with the same items in random order. The original list is not changed.
   * @example
   * seeded(1).shuffle([1, 2, 3, 4]);   // e.g. [3, 1, 4, 2]
   */
  shuffle<T>(items: readonly T[]): T[];
  /**
   * A function that picks without repeats, like drawing names from a bag:
   * everyone comes out once, in random order, before anyone comes out twice.
   * When the bag is empty it is refilled and shuffled again.
   * @example
   * const next = seeded(1).picker(roster);
   * next();   // a student
   * next();   // a different student
   */
  picker<T>(items: readonly T[]): () => T;
}

/**
 * A `Random` that always gives the same sequence for the same seed, on every computer.
 * The seed is a whole number or some text (text is turned into a number for you).
 *
 * @example
 * import { seeded, roster } from "rollcall";
 * const rng = seeded("week 3");
 * rng.pick(roster);          // the same student every time you run this
 * seeded(42).int(1, 6);      // the same dice roll every time
 */
export function seeded(seed: number | string): Random {
  return randomFrom(seedNumber(seed));
}

/**
 * The everyday `Random`: a new, unpredictable sequence every time the kernel starts.
 * Use `seeded(...)` instead when you need to replay the same picks.
 *
 * @example
 * import { random } from "rollcall";
 * random.int(1, 6);   // a dice roll
 */
export const random: Random = randomFrom(randomBytes(4).readInt32LE(0));

/**
 * One item from the list, each with the same chance (uses `random`).
 * @example
 * import { pick, roster } from "rollcall";
 * pick(roster);   // e.g. "Mei Chen"
 */
export function pick<T>(items: readonly T[]): T {
  return random.pick(items);
}

/**
 * `count` different items from the list, in random order (uses `random`).
 * @example
 * import { sample, roster } from "rollcall";
 * sample(roster, 2);   // e.g. ["Yuki Tanaka", "Ada Lovelace"]
 */
export function sample<T>(items: readonly T[], count: number): T[] {
  return random.sample(items, count);
}

/**
 * A new array with the items in random order; the original is not changed (uses `random`).
 * @example
 * import { shuffle, roster } from "rollcall";
 * const order = shuffle(roster);   // everyone once, in a random order
 */
export function shuffle<T>(items: readonly T[]): T[] {
  return random.shuffle(items);
}

/**
 * A no-repeat picker: everyone once before anyone twice (uses `random`).
 * @example
 * import { picker, roster } from "rollcall";
 * const nextStudent = picker(roster);
 * nextStudent();   // call it again for the next student
 */
export function picker<T>(items: readonly T[]): () => T {
  return random.picker(items);
}

// ---------------------------------------------------------------------------
// How it works

/** Build a `Random` around one pure-rand generator started from `seed`. */
function randomFrom(seed: number): Random {
  // The generator changes a little every time we ask it for a number.
  const generator = xoroshiro128plus(seed);

  function int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
      throw new Error(`int(min, max) needs two whole numbers, like int(1, 6), but got int(${min}, ${max})`);
    }
    if (min > max) {
      throw new Error(`int(min, max) needs min to be at most max, like int(1, 6), but got int(${min}, ${max})`);
    }
    return uniformInt(generator, min, max);
  }

  function pick<T>(items: readonly T[]): T {
    if (items.length === 0) {
      throw new Error("pick() needs at least one item, but the list is empty");
    }
    return items[int(0, items.length - 1)] as T;
  }

  function shuffle<T>(items: readonly T[]): T[] {
    return shuffleWith(int, items);
  }

  function sample<T>(items: readonly T[], count: number): T[] {
    if (!Number.isInteger(count) || count < 0) {
      throw new Error(`sample(items, count) needs a whole number count, like sample(roster, 3), but got ${count}`);
    }
    if (count > items.length) {
      throw new Error(`sample() cannot take ${count} different items from a list of ${items.length}; ask for ${items.length} or fewer`);
    }
    return shuffle(items).slice(0, count);
  }

  function picker<T>(items: readonly T[]): () => T {
    if (items.length === 0) {
      throw new Error("picker() needs at least one item, but the list is empty");
    }
    const everyone = [...items]; // our own copy: later changes to `items` do not matter
    const bag: T[] = [];
    // The shared shuffle bag (src/shuffle-bag.ts): when the bag is empty it is refilled, freshly shuffled.
    return () => (drawFromBag(bag, everyone, shuffle) as { item: T }).item;
  }

  return { int, pick, sample, shuffle, picker };
}

/**
 * The 32-bit whole number the generator starts from, for a seed.
 * Text is hashed with FNV-1a. A number is mixed first (with MurmurHash3's last step),
 * because the generator's first numbers follow its start closely: unmixed, seeds
 * 1, 2, 3 would start at 0.483646, 0.483645, 0.483644, which does not look random at all.
 * @example
 * seedNumber("a");   // -468965076, the FNV-1a hash of "a" (0xe40c292c)
 */
export function seedNumber(seed: number | string): number {
  if (typeof seed === "string") return hashText(seed);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`seeded() needs a whole number or some text, like seeded(42) or seeded("week 3"), but got ${seed}`);
  }
  // Fold a big number's high part into its low 32 bits, so no digit is ignored.
  return mix((Math.trunc(seed / 2 ** 32) ^ seed) | 0);
}

/** MurmurHash3's finalizer: each bit of the input changes about half the bits of the output. */
function mix(n: number): number {
  let h = n;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** FNV-1a: a simple, well-known hash from text (as UTF-8 bytes) to a 32-bit number. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash | 0;
}
