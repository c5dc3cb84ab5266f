/**
 * A learner keeps their account when the roster changes (root only). Names are made unique
 * with a number in roster order (`rc-ada`, `rc-ada-2`), so when the first Ada left, the next
 * set-up used to give the second Ada `rc-ada`: the account, home and password of the one who left.
 */
import assert from "node:assert/strict";
import { test, after } from "node:test";
import { planHub, systemChecks } from "../src/engine/hub-setup.js";
import { freePort } from "../src/engine/free-ports.js";
import { projectRoot } from "../src/engine/paths.js";
import { hubClass, type HubClass } from "./support/hub-class.js";

const asRoot = process.getuid?.() === 0;
let hub: HubClass | undefined;
after(async () => hub?.dispose());

test(
  "after a learner leaves, the others keep their accounts, and nobody new gets the one left behind",
  { skip: !asRoot, timeout: 180_000 },
  async () => {
    const tag = `ada${process.pid}`;
    const first = { name: "Ada One", email: `${tag}@one.org` };
    const second = { name: "Ada Two", email: `${tag}@two.org` };
    const third = { name: "Ada Three", email: `${tag}@three.org` };
    hub = await hubClass("roster");
    await hub.addLearners([first, second]);
    await hub.start([], /made 2 accounts/);
    await hub.interrupt();
    const made = new Map(hub.accounts().map((a) => [a.user, a.uid]));
    assert.deepEqual([...made.keys()].sort(), [`rc-${tag}`, `rc-${tag}-2`]);

    await hub.addLearners([second, third]); // the first Ada left; a third came
    const plan = await planHub(
      { className: hub.className, classesDir: hub.classesDir, ip: "127.0.0.1", port: await freePort(), admin: "root", projectRoot },
      systemChecks,
    );
    assert.ok(plan.ok, JSON.stringify(plan));
    const byEmail = new Map(plan.value.accounts.map((a) => [a.email, a.user]));
    assert.equal(byEmail.get(second.email), `rc-${tag}-2`, "the second Ada keeps her account");
    assert.equal(byEmail.get(third.email), `rc-${tag}-3`, "the newcomer gets a new account, not the one who left");
  },
);
