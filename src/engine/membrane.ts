/**
 * The membrane between two realms: the learner's (where learner code runs) and
 * the check's (where the lesson's tests run). Nothing live crosses it, only text:
 *
 * - data (primitives with undefined, NaN, -0 and bigints; arrays, plain objects,
 *   Dates, Maps, Sets, RegExps, typed arrays, errors; shared and cyclic
 *   references) is copied, and rebuilt from the receiving realm's own objects;
 * - functions, and objects with behaviour (class instances, objects holding
 *   functions, promises), stay where they are: the other side gets a stand-in
 *   whose calls cross back the same way, arguments and results copied. What the
 *   callee did to a copied argument is copied back into the caller's original.
 * - Proxies cannot cross (asking what one is runs its traps).
 *
 * `membraneSide` is evaluated once in each realm (from its own source text), so
 * that what it builds is made of that realm's objects, and it must not use
 * anything from this module's scope. Its code is strict: a learner's function
 * called through it sees no caller.
 */
import { types } from "node:util";
import vm from "node:vm";

/** The brand checks a side needs; Node's own, which work across realms. */
export type Brands = Pick<
  typeof types,
  "isProxy" | "isDate" | "isRegExp" | "isMap" | "isSet" | "isNativeError" | "isPromise" | "isTypedArray"
>;

export interface MembraneSide {
  /** The value as a copy (or stand-in) made in the other realm. */
  send(value: unknown): string;
  receive(text: string): unknown;
  /** Runs a call that the other side made on one of this side's handles; returns its outcome as text. */
  invoke(id: number, member: string | null, args: string): string;
  /** Tells this side how to reach the other one's handles. */
  link(peer: (id: number, member: string | null, args: string) => string): void;
}

export function membraneSide(brands: Brands, limits: { readonly maxNodes: number }): MembraneSide {
  "use strict";
  type Tree = unknown;
  let peer: (id: number, member: string | null, args: string) => string = () => {
    throw new Error("the membrane is not linked");
  };
  const handles = new Map<number, object>();
  const handleIds = new WeakMap<object, number>();
  const standIns = new Map<number, object>();
  const standInIds = new WeakMap<object, number>();
  const { isProxy, isDate, isRegExp, isMap, isSet, isNativeError, isPromise, isTypedArray } = brands;
  const TYPED = [
    "Int8Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int16Array",
    "Uint16Array",
    "Int32Array",
    "Uint32Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
  ];
  const plainProto = (o: object): boolean => {
    const proto = Object.getPrototypeOf(o);
    return proto === null || (Object.getPrototypeOf(proto) === null && typeof proto.hasOwnProperty === "function");
  };

  const handleOf = (o: object): number => {
    let id = handleIds.get(o);
    if (id === undefined) {
      id = handles.size + 1;
      handles.set(id, o);
      handleIds.set(o, id);
    }
    return id;
  };

  /** What an object with behaviour offers: its methods and getters (prototype chain included) and its own data. */
  function describeHandle(o: object, seen: Map<object, number>, count: { n: number }): Tree {
    const methods: string[] = [];
    const getters: string[] = [];
    const data: [string, Tree][] = [];
    const names = new Set<string>();
    // Up the prototype chain, short of the realm's Object.prototype.
    for (let p: object | null = o; p !== null && (p === o || Object.getPrototypeOf(p) !== null); p = Object.getPrototypeOf(p)) {
      for (const name of Object.getOwnPropertyNames(p)) {
        if (name === "constructor" || names.has(name)) continue;
        names.add(name);
        const d = Object.getOwnPropertyDescriptor(p, name);
        if (!d) continue;
        if (d.get) getters.push(name);
        else if (typeof d.value === "function") methods.push(name);
        else if (p === o && d.enumerable) data.push([name, toTree(d.value, seen, count)]);
      }
    }
    return ["h", handleOf(o), methods, getters, data];
  }

  function toTree(value: unknown, seen: Map<object, number>, count: { n: number }): Tree {
    if (++count.n > limits.maxNodes) throw new RangeError(`the value is too large to check (more than ${limits.maxNodes} parts)`);
    switch (typeof value) {
      case "undefined":
        return ["u"];
      case "number":
        if (Number.isNaN(value)) return ["n", "NaN"];
        if (!Number.isFinite(value)) return ["n", value > 0 ? "Infinity" : "-Infinity"];
        return Object.is(value, -0) ? ["n", "-0"] : value;
      case "string":
      case "boolean":
        return value;
      case "bigint":
        return ["b", String(value)];
      case "symbol":
        return ["y", value.description ?? ""];
    }
    if (value === null) return null;
    // Every object and function is numbered as first seen, as fromTree numbers what it makes.
    const o = value as object;
    const again = seen.get(o);
    if (again !== undefined) return ["@", again];
    seen.set(o, seen.size);
    const standIn = standInIds.get(o);
    if (standIn !== undefined) return ["r", standIn];
    if (typeof o === "function") return ["f", handleOf(o)];
    if (isProxy(o)) throw new TypeError("a Proxy cannot be checked: return plain data");
    const each = (items: Iterable<unknown>): Tree[] => Array.from(items, (item) => toTree(item, seen, count));
    if (Array.isArray(o)) {
      const items: Tree[] = [];
      for (let i = 0; i < o.length; i++) items.push(toTree(o[i], seen, count));
      return ["a", items];
    }
    if (isDate(o)) return ["d", (o as Date).getTime()];
    if (isRegExp(o)) return ["x", (o as RegExp).source, (o as RegExp).flags];
    if (isMap(o))
      return ["m", Array.from((o as Map<unknown, unknown>).entries(), ([k, v]) => [toTree(k, seen, count), toTree(v, seen, count)])];
    if (isSet(o)) return ["s", each((o as Set<unknown>).values())];
    if (isTypedArray(o)) {
      const kind = TYPED.find((name) => Object.prototype.toString.call(o) === `[object ${name}]`) ?? "Uint8Array";
      return ["t", kind, Array.from(o as unknown as ArrayLike<number | bigint>, (n) => (typeof n === "bigint" ? String(n) : Number(n)))];
    }
    if (isNativeError(o)) {
      const e = o as Error & Record<string, unknown>;
      const props = Object.keys(e)
        .filter((k) => k !== "stack" && k !== "message")
        .map((k) => [k, toTree(e[k], seen, count)]);
      return ["e", String(e.name), String(e.message), props];
    }
    if (!isPromise(o) && plainProto(o) && !Object.values(o).some((v) => typeof v === "function")) {
      return ["o", Object.keys(o).map((k) => [k, toTree((o as Record<string, unknown>)[k], seen, count)])];
    }
    return describeHandle(o, seen, count);
  }

  /** An own data property, whatever its name: a key "__proto__" is data, never a prototype. */
  const define = (o: object, key: string, value: unknown): void => {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  };

  function fromTree(tree: Tree, refs: unknown[]): unknown {
    if (!Array.isArray(tree)) return tree;
    const [tag, a, b, c, d] = tree as [string, unknown, unknown, unknown, unknown];
    const keep = <T>(v: T): T => {
      refs.push(v);
      return v;
    };
    switch (tag) {
      case "u":
        return undefined;
      case "n":
        return a === "-0" ? -0 : Number(a);
      case "b":
        return BigInt(a as string);
      case "y":
        return Symbol(a as string);
      case "@":
        return refs[a as number];
      case "a": {
        const out = keep([] as unknown[]);
        for (const item of a as Tree[]) out.push(fromTree(item, refs));
        return out;
      }
      case "o": {
        const out = keep({} as Record<string, unknown>);
        for (const [k, v] of a as [string, Tree][]) define(out, k, fromTree(v, refs));
        return out;
      }
      case "d":
        return keep(new Date(a as number));
      case "x": {
        let re: RegExp;
        try {
          re = new RegExp(a as string, b as string);
        } catch {
          re = new RegExp(a as string);
        }
        return keep(re);
      }
      case "m": {
        const out = keep(new Map());
        for (const [k, v] of a as [Tree, Tree][]) out.set(fromTree(k, refs), fromTree(v, refs));
        return out;
      }
      case "s": {
        const out = keep(new Set());
        for (const item of a as Tree[]) out.add(fromTree(item, refs));
        return out;
      }
      case "t": {
        const kind = TYPED.includes(a as string) ? (a as string) : "Uint8Array";
        const values = (b as (number | string)[]).map((n) => (kind.startsWith("Big") ? BigInt(n) : Number(n)));
        return keep(new ((globalThis as Record<string, unknown>)[kind] as new (items: unknown[]) => object)(values));
      }
      case "e": {
        const Known = (globalThis as Record<string, unknown>)[a as string];
        const error = keep(
          typeof Known === "function" && /Error$/.test(a as string) && a !== "AggregateError"
            ? new (Known as ErrorConstructor)(b as string)
            : new Error(b as string),
        ) as Error & Record<string, unknown>;
        if (error.name !== a) Object.defineProperty(error, "name", { value: a, writable: true, enumerable: false, configurable: true });
        // The other realm's stack would show its code: only the first line travels.
        Object.defineProperty(error, "stack", {
          value: `${String(a)}: ${String(b)}`,
          writable: true,
          enumerable: false,
          configurable: true,
        });
        for (const [k, v] of c as [string, Tree][]) define(error, k, fromTree(v, refs));
        return error;
      }
      case "r":
        return keep(handles.get(a as number));
      case "f":
        return keep(
          standInFor(
            a as number,
            () =>
              function (this: unknown, ...args: unknown[]) {
                return call(a as number, null, args);
              },
          ),
        );
      case "h": {
        const id = a as number;
        const known = standIns.get(id);
        if (known) return keep(known);
        const facade = keep(standInFor(id, () => ({}))) as Record<string, unknown>;
        for (const name of b as string[])
          define(facade, name, function (...args: unknown[]) {
            return call(id, `m:${name}`, args);
          });
        for (const name of c as string[])
          Object.defineProperty(facade, name, { get: () => call(id, `g:${name}`, []), enumerable: false, configurable: true });
        for (const [k, v] of d as [string, Tree][]) define(facade, k, fromTree(v, refs));
        return facade;
      }
    }
    throw new TypeError(`the membrane cannot read '${String(tag)}'`);
  }

  function standInFor(id: number, make: () => object): object {
    let standIn = standIns.get(id);
    if (!standIn) {
      standIn = make();
      standIns.set(id, standIn);
      standInIds.set(standIn, id);
    }
    return standIn;
  }

  const encode = (value: unknown): string => JSON.stringify(toTree(value, new Map(), { n: 0 }));
  const decode = (text: string): unknown => fromTree(JSON.parse(text), []);
  const isContainer = (v: unknown): v is object =>
    typeof v === "object" && v !== null && (Array.isArray(v) || isMap(v) || isSet(v) || plainProto(v));

  /** Puts what the callee left in a copied argument back into the caller's original. */
  function copyBack(original: unknown, fresh: unknown): void {
    if (original === fresh) return;
    try {
      if (Array.isArray(original) && Array.isArray(fresh)) {
        original.length = 0;
        original.push(...fresh);
      } else if (isMap(original) && isMap(fresh)) {
        (original as Map<unknown, unknown>).clear();
        for (const [k, v] of fresh as Map<unknown, unknown>) (original as Map<unknown, unknown>).set(k, v);
      } else if (isSet(original) && isSet(fresh)) {
        (original as Set<unknown>).clear();
        for (const v of fresh as Set<unknown>) (original as Set<unknown>).add(v);
      } else if (isContainer(original) && isContainer(fresh)) {
        for (const k of Object.keys(original)) delete (original as Record<string, unknown>)[k];
        // Defined, not assigned: a key "__proto__" is data here, never the original's prototype.
        for (const k of Object.keys(fresh)) define(original, k, (fresh as Record<string, unknown>)[k]);
      }
    } catch {
      // A frozen original stays as it was.
    }
  }

  function call(id: number, member: string | null, args: unknown[]): unknown {
    const sent = args.map((a) => toTree(a, new Map(), { n: 0 }));
    const [ok, result, changed] = JSON.parse(peer(id, member, JSON.stringify(sent))) as [boolean, Tree, [number, Tree][]];
    for (const [i, tree] of changed) copyBack(args[i], fromTree(tree, []));
    const value = fromTree(result, []);
    if (!ok) throw value;
    return value;
  }

  /**
   * Runs a call the other side made on one of this side's handles. Whatever happens here,
   * even in rebuilding the arguments, the answer is text: an error made in this realm must
   * never reach the other one as itself.
   */
  function invoke(id: number, member: string | null, text: string): string {
    try {
      return answer(id, member, text);
    } catch (error) {
      let why = "the call could not be made";
      try {
        why = String((error as Error)?.message ?? error).slice(0, 300);
      } catch {
        /* keep the plain reason */
      }
      return JSON.stringify([false, ["e", "TypeError", `the values could not be checked: ${why}`, []], []]);
    }
  }

  function answer(id: number, member: string | null, text: string): string {
    const sent = JSON.parse(text) as Tree[];
    const args = sent.map((tree) => fromTree(tree, []));
    let ok = true;
    let value: unknown;
    try {
      const target = handles.get(id) as Record<string, unknown> & ((...a: unknown[]) => unknown);
      if (target === undefined) throw new ReferenceError("that value is gone");
      if (member === null) value = Reflect.apply(target, undefined, args);
      else if (member.startsWith("m:")) value = Reflect.apply(target[member.slice(2)] as (...a: unknown[]) => unknown, target, args);
      else value = target[member.slice(2)];
    } catch (error) {
      ok = false;
      value = error;
    }
    let result: Tree;
    try {
      result = toTree(value, new Map(), { n: 0 });
    } catch (error) {
      result = toTree(
        new TypeError(`${ok ? "the value returned" : "what was thrown"} cannot be checked: ${String((error as Error)?.message ?? error)}`),
        new Map(),
        { n: 0 },
      );
      ok = false;
    }
    const changed: [number, Tree][] = [];
    args.forEach((arg, i) => {
      // Only what crossed as data is copied back; a stand-in is the caller's own object already.
      const tag = Array.isArray(sent[i]) ? (sent[i] as unknown[])[0] : undefined;
      if (!isContainer(arg) || !(tag === "a" || tag === "o" || tag === "m" || tag === "s")) return;
      try {
        const after = toTree(arg, new Map(), { n: 0 });
        if (JSON.stringify(after) !== JSON.stringify(sent[i])) changed.push([i, after]);
      } catch {
        // What cannot be copied back stays as the caller had it.
      }
    });
    return JSON.stringify([ok, result, changed]);
  }

  return {
    send: encode,
    receive: decode,
    invoke,
    link: (p) => {
      peer = p;
    },
  };
}

/** This module's `membraneSide`, made again inside `context` from its source, so that it builds that realm's objects. */
export function membraneSideIn(context: vm.Context, maxNodes: number, brands: Brands = types): MembraneSide {
  const make = vm.runInContext(`(${membraneSide.toString()})`, context, { filename: "rollcall:membrane" }) as typeof membraneSide;
  return make(brands, { maxNodes });
}

/** Two sides that reach each other's handles. */
export function linkSides(a: MembraneSide, b: MembraneSide): void {
  // (invoke answers text whatever happens; should it ever throw, what crosses is this text, not its error.)
  const safely =
    (side: MembraneSide) =>
    (id: number, member: string | null, args: string): string => {
      try {
        return side.invoke(id, member, args);
      } catch {
        return '[false,["e","TypeError","the values could not be checked",[]],[]]';
      }
    };
  a.link(safely(b));
  b.link(safely(a));
}
