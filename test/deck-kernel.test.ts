/**
 * The presenter's one kernel (DeckKernel in src/engine/present-server.ts): runs go one
 * at a time, and Stop or Restart ends every run asked for before it, not only the cell
 * running then. A run still waiting its turn when Restart was pressed used to run in
 * the new kernel afterwards, so the fresh kernel was not fresh, and its answer, arriving
 * after the page had said "new kernel", wiped that status (a CI run saw it).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Execution, Kernel } from "../src/engine/kernel-seam.js";
import { DeckKernel } from "../src/engine/present-server.js";

/** A kernel whose cells finish only when told to, or when it stops. */
class HeldKernel implements Kernel {
  readonly ran: string[] = [];
  alive = true;
  private finish: (() => void)[] = [];
  execute(code: string): Promise<Execution> {
    this.ran.push(code);
    return new Promise((resolve) =>
      this.finish.push(() => resolve({ status: this.alive ? "ok" : "died", outputs: [], executionCount: this.ran.length, durationMs: 0 })),
    );
  }
  release(): void {
    for (const finish of this.finish.splice(0)) finish();
  }
  interrupt(): void {
    this.release();
  }
  async stop(): Promise<void> {
    this.alive = false;
    this.release();
  }
}

const started = (): { kernels: HeldKernel[]; deck: DeckKernel } => {
  const kernels: HeldKernel[] = [];
  const deck = new DeckKernel(async () => {
    const kernel = new HeldKernel();
    kernels.push(kernel);
    return kernel;
  });
  return { kernels, deck };
};

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("a run waiting its turn when Restart is pressed does not run in the new kernel", async () => {
  const { kernels, deck } = started();
  const first = deck.run([{ id: "a", code: "slow()" }]);
  const waiting = deck.run([{ id: "b", code: "b()" }]);
  await settle();
  assert.deepEqual(kernels[0]?.ran, ["slow()"]);
  await deck.restart();
  await settle();
  kernels[1]?.release(); // were anything sent there, it would finish
  assert.equal((await first)[0]?.status, "died");
  assert.deepEqual(kernels[1]?.ran, [], "the new kernel ran nothing of before the restart");
  assert.deepEqual(
    (await waiting).map((r) => [r.id, r.status]),
    [["b", "skipped"]],
  );
  assert.deepEqual([...deck.ran.keys()], []);
  // and a run asked after the restart runs there
  const after = deck.run([{ id: "b", code: "b()" }]);
  await settle();
  kernels[1]?.release();
  assert.equal((await after)[0]?.status, "ok");
  assert.deepEqual(kernels[1]?.ran, ["b()"]);
});

test("Stop ends the running cell and every run waiting behind it; the kernel goes on", async () => {
  const { kernels, deck } = started();
  const first = deck.run([
    { id: "a", code: "loop()" },
    { id: "b", code: "b()" },
  ]);
  const waiting = deck.run([{ id: "c", code: "c()" }]);
  await settle();
  await deck.interrupt();
  await settle();
  kernels[0]?.release(); // were anything sent after the Stop, it would finish
  assert.deepEqual(
    (await first).map((r) => [r.id, r.status]),
    [
      ["a", "ok"],
      ["b", "skipped"],
    ],
  );
  assert.deepEqual(
    (await waiting).map((r) => [r.id, r.status]),
    [["c", "skipped"]],
  );
  assert.deepEqual(kernels[0]?.ran, ["loop()"]);
  assert.equal(kernels.length, 1);
});
