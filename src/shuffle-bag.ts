// The shuffle bag: draw names without putting them back, and put everyone back
// in, freshly shuffled, when nobody who can be drawn is left. The helper's
// `picker` and the class roll call both draw with this one function, so both
// are fair the same way.

/**
 * A new array with the items in a random order (Fisher–Yates), using `int(min, max)`
 * for the random whole numbers. Every order comes out with the same chance.
 * @example
 * import { seeded } from "rollcall";
 * const rng = seeded(1);
 * shuffleWith((min, max) => rng.int(min, max), [1, 2, 3]);   // e.g. [2, 3, 1]
 */
export function shuffleWith<T>(int: (min: number, max: number) => number, items: readonly T[]): T[] {
  const copy = [...items];
  // Walk from the end; swap each place with a random place at or before it.
  for (let i = copy.length - 1; i > 0; i--) {
    const j = int(0, i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/**
 * One draw from a shuffle bag, taken out of `bag` (the bag is changed: the drawn item
 * leaves it). `bag` holds what is still in it this round, in draw order: the last one
 * comes out next. `canDraw` says who may be drawn now (say, who is here today): the
 * draw is the last one in the bag that can be drawn. When nobody in the bag can be
 * drawn, the round is over: the bag is refilled with `shuffle(everyone)` and the draw
 * is made from that (`newRound` is true). `undefined` when nobody at all can be drawn.
 * @example
 * const bag = ["Ada", "Mei"];
 * drawFromBag(bag, ["Ada", "Mei", "Yuki"], (xs) => [...xs]);   // { item: "Mei", newRound: false }
 * bag;                                                        // ["Ada"]
 */
export function drawFromBag<T>(
  bag: T[],
  everyone: readonly T[],
  shuffle: (items: readonly T[]) => T[],
  canDraw: (item: T) => boolean = () => true,
): { item: T; newRound: boolean } | undefined {
  const item = takeLastDrawable(bag, canDraw);
  if (item.found) return { item: item.value, newRound: false };
  const refill = shuffle(everyone);
  const fromRefill = takeLastDrawable(refill, canDraw);
  if (!fromRefill.found) return undefined; // the bag stays as it was: nothing was drawn
  bag.length = 0;
  for (const x of refill) bag.push(x);
  return { item: fromRefill.value, newRound: true };
}

function takeLastDrawable<T>(bag: T[], canDraw: (item: T) => boolean): { found: true; value: T } | { found: false } {
  for (let i = bag.length - 1; i >= 0; i--) {
    const value = bag[i] as T;
    if (canDraw(value)) {
      bag.splice(i, 1);
      return { found: true, value };
    }
  }
  return { found: false };
}
