/** The membrane between the learner's realm and the check's: only copies and stand-ins cross. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { types } from "node:util";
import vm from "node:vm";
import { linkSides, membraneSide, membraneSideIn } from "../src/engine/membrane.js";

/** A learner side (this realm) and a check side (a fresh context), linked. */
function realms() {
  const context = vm.createContext({});
  const learner = membraneSide(types, { maxNodes: 10_000 });
  const check = membraneSideIn(context, 10_000);
  linkSides(learner, check);
  const inCheck = (value: unknown): unknown => check.receive(learner.send(value));
  const checkRealm = (code: string): unknown => vm.runInContext(code, context);
  return { inCheck, checkRealm };
}

test("data arrives as the check realm's own objects, with what JSON would lose kept", () => {
  const { inCheck, checkRealm } = realms();
  const shared = { name: "Ada" };
  const value = {
    list: [1, -0, NaN, Infinity, undefined, 2n],
    when: new Date(0),
    map: new Map([["a", shared]]),
    set: new Set([shared]),
    re: /x/gi,
    bytes: Uint8Array.of(1, 2),
  };
  const copy = inCheck(value) as typeof value;
  assert.deepStrictEqual([...copy.list.slice(0, 5)].map(String), ["1", "0", "NaN", "Infinity", "undefined"]);
  assert.ok(Object.is(copy.list[1], -0));
  assert.equal(copy.list[5], 2n);
  assert.equal((copy.when as Date).getTime(), 0);
  assert.equal(copy.map.get("a"), [...copy.set][0], "shared references stay shared");
  assert.equal(Object.getPrototypeOf(copy), checkRealm("Object.prototype"), "a plain object of the check realm");
  assert.equal(Object.getPrototypeOf(copy.list), checkRealm("Array.prototype"));
  assert.equal(Object.getPrototypeOf(copy.when), checkRealm("Date.prototype"));
  assert.notEqual(copy.map.get("a"), shared, "a copy, not the learner's object");
});

test("a cycle crosses as a cycle", () => {
  const { inCheck } = realms();
  const a: { self?: unknown } = {};
  a.self = a;
  const copy = inCheck(a) as { self: unknown };
  assert.equal(copy.self, copy);
});

test("a Proxy cannot cross, and its traps never run", () => {
  const { inCheck } = realms();
  let trapped = 0;
  const proxy = new Proxy(
    {},
    {
      ownKeys: () => {
        trapped++;
        return [];
      },
      get: () => {
        trapped++;
        return 1;
      },
    },
  );
  assert.throws(() => inCheck(proxy), /Proxy cannot be checked/);
  assert.equal(trapped, 0);
});

test("a function crosses as a stand-in: arguments and results are copies, and it shows none of its code", () => {
  const { inCheck, checkRealm } = realms();
  const received: unknown[] = [];
  const learnerFn = function secretName(list: unknown[]) {
    received.push(list);
    return { got: list.length };
  };
  const standIn = inCheck(learnerFn) as (list: unknown[]) => { got: number };
  assert.notEqual(standIn, learnerFn);
  assert.doesNotMatch(String(standIn), /secretName|received/);
  const argument = checkRealm("[1, 2, 3]") as unknown[];
  const result = standIn(argument);
  assert.deepEqual({ ...result }, { got: 3 });
  assert.equal(Object.getPrototypeOf(result), checkRealm("Object.prototype"));
  assert.notEqual(received[0], argument, "the learner got a copy of the check's array");
  assert.equal(Object.getPrototypeOf(received[0]), Array.prototype);
});

test("what a learner's function does to a copied argument is copied back into the check's original", () => {
  const { inCheck, checkRealm } = realms();
  const enroll = inCheck((names: string[], name: string) => {
    names.push(name);
    return names;
  }) as (n: string[], m: string) => string[];
  const list = checkRealm('["Ada"]') as string[];
  enroll(list, "Bo");
  assert.deepEqual([...list], ["Ada", "Bo"]);
});

test("the learner's function sees no caller, and an error crosses with its name and message but no stack", () => {
  const { inCheck, checkRealm } = realms();
  // Sloppy on purpose, as learners' cells are.
  const spy = new Function("return function spy() { return String(spy.caller); }")() as () => string;
  const standIn = inCheck(spy) as () => string;
  assert.equal(standIn(), "null");
  const thrower = inCheck(() => {
    throw new TypeError("not a list");
  }) as () => void;
  let caught: unknown;
  try {
    thrower();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof (checkRealm("TypeError") as ErrorConstructor), "a TypeError of the check realm");
  assert.equal((caught as Error).message, "not a list");
  assert.equal((caught as Error).stack, "TypeError: not a list");
});

test("an object with methods stays home: the check calls it through a stand-in, and a stand-in crossing back is the original", () => {
  const { inCheck } = realms();
  class Counter {
    n = 0;
    bump() {
      return ++this.n;
    }
  }
  const counter = new Counter();
  const standIn = inCheck(counter) as { bump: () => number };
  assert.equal(standIn.bump(), 1);
  assert.equal(standIn.bump(), 2);
  assert.equal(counter.n, 2, "the learner's own object did the work");
  const identity = inCheck((x: unknown) => x === counter) as (x: unknown) => boolean;
  assert.equal(identity(standIn), true);
});

test("a value too large to check is refused, not copied forever", () => {
  const context = vm.createContext({});
  const learner = membraneSide(types, { maxNodes: 100 });
  linkSides(learner, membraneSideIn(context, 100));
  assert.throws(() => learner.send(Array.from({ length: 500 }, (_, i) => i)), /too large to check/);
});

test("whatever goes wrong on the far side, the caller gets an error of its own realm, never the far realm's", () => {
  const context = vm.createContext({});
  const learner = membraneSide(types, { maxNodes: 10_000 });
  const check = membraneSideIn(context, 10_000);
  linkSides(learner, check);
  // A check's function, as the learner holds it (the rng a check passes, say).
  const rng = learner.receive(check.send(vm.runInContext("() => 0.5", context))) as (...args: unknown[]) => number;
  const odd = /a/;
  Object.defineProperty(odd, "flags", { value: "zz" });
  for (const argument of [new BigInt64Array([1n]), odd]) {
    let caught: unknown;
    try {
      rng(argument);
    } catch (error) {
      caught = error;
    }
    if (caught !== undefined) {
      assert.ok(caught instanceof Error, `a ${String(caught)}`);
      assert.equal((caught as Error).constructor.constructor, Function, "an error of the caller's own realm");
    }
  }
  assert.equal(rng(new BigInt64Array([1n])), 0.5, "a BigInt64Array crosses whole");
});

test("a function seen twice stays one stand-in, and the objects after it keep their places", () => {
  const { inCheck } = realms();
  const fn = () => 1;
  const o = { a: 1 };
  const copy = inCheck([fn, o, o, fn]) as unknown[];
  assert.equal(typeof copy[0], "function");
  assert.equal(copy[3], copy[0]);
  assert.equal(copy[1], copy[2]);
  assert.equal(typeof copy[1], "object");
});
