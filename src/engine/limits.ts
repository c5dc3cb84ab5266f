/**
 * What happens to a cell that runs past its time limit, for every kernel behind
 * the seam (the runner's Jupyter kernel and the grader's workers alike): it is
 * interrupted, as Jupyter's ■ button does, and if it has not stopped a grace
 * period later, its kernel is killed.
 */

/** How long an interrupted cell may take to stop before its kernel is killed. */
export const INTERRUPT_GRACE_MS = 3000;

/**
 * After `timeoutMs`, `interrupt()`; if the cell is still running
 * `INTERRUPT_GRACE_MS` later, `kill()`. Returns the function that cancels
 * both, to call once the cell has ended.
 *
 * @example
 * const settled = interruptThenKill(10_000, { interrupt: () => child.kill("SIGINT"), kill: () => child.kill("SIGKILL") });
 * await reply;
 * settled();
 */
export function interruptThenKill(timeoutMs: number, steps: { readonly interrupt: () => void; readonly kill: () => void }): () => void {
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    steps.interrupt();
    killer = setTimeout(steps.kill, INTERRUPT_GRACE_MS);
  }, timeoutMs);
  return () => {
    clearTimeout(timer);
    clearTimeout(killer);
  };
}
