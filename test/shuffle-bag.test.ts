/** The one shuffle bag behind the helper's `picker` and the class roll call. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { seeded } from "../src/random";
import { drawFromBag, shuffleWith } from "../src/shuffle-bag";

const asIs = <T>(items: readonly T[]): T[] => [...items];

test("a draw takes the last drawable item out of the bag", () => {
  const bag = ["Ada", "Mei", "Yuki"];
  assert.deepEqual(drawFromBag(bag, ["Ada", "Mei", "Yuki"], asIs), { item: "Yuki", newRound: false });
  assert.deepEqual(bag, ["Ada", "Mei"]);
  assert.deepEqual(
    drawFromBag(bag, ["Ada", "Mei", "Yuki"], asIs, (x) => x !== "Mei"),
    { item: "Ada", newRound: false },
  );
  assert.deepEqual(bag, ["Mei"], "the one who cannot be drawn now stays in the bag");
});

test("when nobody in the bag can be drawn, the bag is refilled from everyone, shuffled", () => {
  const bag = ["Mei"];
  const shuffled: string[][] = [];
  const reverse = (items: readonly string[]) => {
    shuffled.push([...items]);
    return [...items].reverse();
  };
  assert.deepEqual(
    drawFromBag(bag, ["Ada", "Mei", "Yuki"], reverse, (x) => x !== "Mei"),
    { item: "Ada", newRound: true },
  );
  assert.deepEqual(shuffled, [["Ada", "Mei", "Yuki"]]);
  assert.deepEqual(bag, ["Yuki", "Mei"]);
});

test("nobody drawable at all: no draw, and the bag is left as it was", () => {
  const bag = ["Mei"];
  assert.equal(
    drawFromBag(bag, ["Ada", "Mei"], asIs, () => false),
    undefined,
  );
  assert.deepEqual(bag, ["Mei"]);
  assert.equal(drawFromBag([], [], asIs), undefined);
});

test("shuffleWith is Fisher–Yates: every order of three equally often", () => {
  const rng = seeded("orders");
  const counts = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const order = shuffleWith((min, max) => rng.int(min, max), ["a", "b", "c"]).join("");
    counts.set(order, (counts.get(order) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [order, n] of counts) assert.ok(Math.abs(n - 1000) < 150, `${order} came out ${n} times in 6000`);
});

test("the helper's picker draws from this bag: lesson 02's pinned picks are unchanged", () => {
  const next = seeded("bag").picker(["Ada", "Grace", "Alan", "Mei", "Kwame"]);
  assert.deepEqual(Array.from({ length: 6 }, next), ["Grace", "Ada", "Kwame", "Alan", "Mei", "Mei"]);
});
